package dev.usercopy.uaccess;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Optional;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.uapi.Errno;

/**
 * A range of guest memory a syscall was handed: (address space, guest
 * address, length), with its read/write rights in its type
 * ({@link UserSliceRo}, {@link UserSliceWo}, {@link UserSliceRw}), as
 * Redox's {@code UserSlice}. A value: splitting, advancing and limiting
 * return new slices.
 *
 * <p>Nothing is validated but the range ({@code access_ok}, skipped by the
 * Ludicrous profile): the bytes are copied with the fault-fixup routines,
 * so a page the guest may not touch, or one a racing thread unmaps, is an
 * EFAULT from the copy itself. There is no window between a check and a use.
 *
 * @param <S> the slice type, which split, advance and limit return
 */
public abstract sealed class UserSlice<S extends UserSlice<S>> permits UserSliceRo, UserSliceWo, UserSliceRw {
    private final AddressSpace space;
    private final long address;
    private final long length;

    UserSlice(AddressSpace space, long address, long length) {
        if (length < 0) {
            throw new ErrnoException(Errno.EFAULT, address, length, "negative length");
        }
        if (space.profile().checksAccess() && !space.accessOk(address, length)) {
            throw new ErrnoException(Errno.EFAULT, address, length, "range is outside user space [0, 0x" + Long.toHexString(space.size()) + ")");
        }
        this.space = space;
        this.address = address;
        this.length = length;
    }

    /**
     * Read-only slice: EFAULT when the range is outside user space (unless the
     * space's profile skips {@code access_ok}) or the length negative. Nothing
     * is read or mapped yet.
     *
     * @param space the guest's address space
     * @param address the guest address the syscall was given
     * @param length bytes
     * @return the slice
     */
    public static UserSliceRo ro(AddressSpace space, long address, long length) {
        return new UserSliceRo(space, address, length);
    }

    /**
     * Write-only slice: EFAULT when the range is outside user space (unless the
     * space's profile skips {@code access_ok}) or the length negative. Nothing
     * is read or mapped yet.
     *
     * @param space the guest's address space
     * @param address the guest address the syscall was given
     * @param length bytes
     * @return the slice
     */
    public static UserSliceWo wo(AddressSpace space, long address, long length) {
        return new UserSliceWo(space, address, length);
    }

    /**
     * Read-write slice: EFAULT when the range is outside user space (unless the
     * space's profile skips {@code access_ok}) or the length negative. Nothing
     * is read or mapped yet.
     *
     * @param space the guest's address space
     * @param address the guest address the syscall was given
     * @param length bytes
     * @return the slice
     */
    public static UserSliceRw rw(AddressSpace space, long address, long length) {
        return new UserSliceRw(space, address, length);
    }

    /** A slice of the same type over a sub-range of this one. */
    abstract S make(long address, long length);

    /** {@return the address space the guest address belongs to} */
    public final AddressSpace space() {
        return space;
    }

    /** {@return the guest address of the first byte, as the syscall was given it} */
    public final long address() {
        return address;
    }

    /** {@return the length in bytes, 0 or more} */
    public final long length() {
        return length;
    }

    /** {@return whether the length is 0: a copy of it moves nothing and cannot fault} */
    public final boolean isEmpty() {
        return length == 0;
    }

    /**
     * The first {@code index} bytes and the rest.
     *
     * @param index bytes in the first half, 0 to {@link #length()}
     * @return the halves; empty when {@code index} is past the end or negative
     */
    public final Optional<Split<S>> splitAt(long index) {
        if (index < 0 || index > length) {
            return Optional.empty();
        }
        return Optional.of(new Split<>(make(address, index), make(address + index, length - index)));
    }

    /**
     * The slice without its first bytes, as a syscall moves on after a partial copy.
     *
     * @param by bytes to drop, 0 to {@link #length()}
     * @return the rest; empty when {@code by} is past the end or negative
     */
    public final Optional<S> advance(long by) {
        return splitAt(by).map(Split::second);
    }

    /**
     * The slice cut to a largest length, as a syscall caps a count.
     *
     * @param to the most bytes to keep, 0 or more
     * @return the first {@code to} bytes, or the whole slice when it is shorter
     * @throws IllegalArgumentException if {@code to} is negative
     */
    public final S limit(long to) {
        if (to < 0) {
            throw new IllegalArgumentException("negative limit " + to);
        }
        return make(address, Math.min(to, length));
    }

    /** {@return this slice, or empty for a null guest pointer (address 0), as syscalls whose buffer is optional treat it} */
    public final Optional<S> noneIfNull() {
        return address == 0 ? Optional.empty() : Optional.of(make(address, length));
    }

    /**
     * Consecutive slices of exactly {@code size} bytes, such as an array of
     * fixed-size structs; a shorter rest at the end is left out.
     *
     * @param size bytes of each slice, positive
     * @return the slices, in address order; nothing is copied until the caller reads one
     * @throws IllegalArgumentException if {@code size} is not positive
     */
    public final Iterable<S> inExactChunks(long size) {
        return chunks(size, length - length % checkChunk(size));
    }

    /**
     * Consecutive slices of {@code size} bytes, the last one shorter if the
     * length is not a multiple, such as a copy through a bounce buffer of that size.
     *
     * @param size bytes of each slice but the last, positive
     * @return the slices, in address order
     * @throws IllegalArgumentException if {@code size} is not positive
     */
    public final Iterable<S> inVariableChunks(long size) {
        checkChunk(size);
        return chunks(size, length);
    }

    private static long checkChunk(long size) {
        if (size <= 0) {
            throw new IllegalArgumentException("chunk size " + size + " is not positive");
        }
        return size;
    }

    private Iterable<S> chunks(long size, long end) {
        return () -> new Iterator<>() {
            private long at;

            @Override
            public boolean hasNext() {
                return at < end;
            }

            @Override
            public S next() {
                if (at >= end) {
                    throw new NoSuchElementException();
                }
                long n = Math.min(size, end - at);
                S chunk = make(address + at, n);
                at += n;
                return chunk;
            }
        };
    }

    @Override
    public final String toString() {
        return getClass().getSimpleName() + "[0x" + Long.toHexString(address) + ", +" + length + "]";
    }

    /**
     * The two halves of {@link #splitAt}.
     *
     * @param <S> the slice type
     * @param first the bytes before the split point
     * @param second the bytes from the split point on
     */
    public record Split<S>(S first, S second) {}
}
