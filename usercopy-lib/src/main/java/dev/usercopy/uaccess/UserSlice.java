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

    /** Read-only slice: EFAULT when the range is outside user space or the length negative. */
    public static UserSliceRo ro(AddressSpace space, long address, long length) {
        return new UserSliceRo(space, address, length);
    }

    /** Write-only slice: EFAULT when the range is outside user space or the length negative. */
    public static UserSliceWo wo(AddressSpace space, long address, long length) {
        return new UserSliceWo(space, address, length);
    }

    /** Read-write slice: EFAULT when the range is outside user space or the length negative. */
    public static UserSliceRw rw(AddressSpace space, long address, long length) {
        return new UserSliceRw(space, address, length);
    }

    /** A slice of the same type over a sub-range of this one. */
    abstract S make(long address, long length);

    public final AddressSpace space() {
        return space;
    }

    public final long address() {
        return address;
    }

    public final long length() {
        return length;
    }

    public final boolean isEmpty() {
        return length == 0;
    }

    /** The first {@code index} bytes and the rest; empty when {@code index} is past the end or negative. */
    public final Optional<Split<S>> splitAt(long index) {
        if (index < 0 || index > length) {
            return Optional.empty();
        }
        return Optional.of(new Split<>(make(address, index), make(address + index, length - index)));
    }

    /** The slice without its first {@code by} bytes; empty when {@code by} is past the end or negative. */
    public final Optional<S> advance(long by) {
        return splitAt(by).map(Split::second);
    }

    /** The first {@code to} bytes, or the whole slice when it is shorter. */
    public final S limit(long to) {
        if (to < 0) {
            throw new IllegalArgumentException("negative limit " + to);
        }
        return make(address, Math.min(to, length));
    }

    /** Empty for a null guest pointer (address 0), as syscalls whose buffer is optional treat it. */
    public final Optional<S> noneIfNull() {
        return address == 0 ? Optional.empty() : Optional.of(make(address, length));
    }

    /** Consecutive slices of exactly {@code size} bytes; a shorter rest at the end is left out. */
    public final Iterable<S> inExactChunks(long size) {
        return chunks(size, length - length % checkChunk(size));
    }

    /** Consecutive slices of {@code size} bytes, the last one shorter if the length is not a multiple. */
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

    /** The two halves of {@link #splitAt}. */
    public record Split<S>(S first, S second) {}
}
