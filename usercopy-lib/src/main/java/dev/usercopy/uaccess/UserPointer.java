package dev.usercopy.uaccess;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.uapi.Errno;

/**
 * A typed guest pointer: an address in an address space and the
 * {@link MemoryLayout} of what it points at (axptr's {@code UserPtr}). Every
 * access runs axptr's checks in order: null, alignment for the layout, then,
 * unless the profile is Ludicrous, the range inside user space, the grants'
 * permission for the access, and population of the pages. Then the bytes are
 * copied with the fault-fixup routines, which catch what changes between the
 * checks and the copy (a racing munmap is EFAULT, never a crash).
 *
 * <p>Reads return copies in kernel memory ({@link MemorySegment}s on the Java
 * heap, aligned for the layout's fields up to 8 bytes): no Java object ever
 * refers into guest memory.
 *
 * @param <P> the pointer type, which {@link #field} and {@link #element} return
 */
public abstract sealed class UserPointer<P extends UserPointer<P>> permits UserConstPtr, UserPtr {
    private static final long PAGE = AddressSpace.PAGE;

    private final AddressSpace space;
    private final long address;
    private final MemoryLayout layout;

    UserPointer(AddressSpace space, long address, MemoryLayout layout) {
        if (layout.byteSize() <= 0) {
            throw new IllegalArgumentException("layout " + layout + " has no bytes");
        }
        this.space = space;
        this.address = address;
        this.layout = layout;
    }

    abstract P make(long address, MemoryLayout layout);

    /** {@return the address space the guest address belongs to} */
    public final AddressSpace space() {
        return space;
    }

    /** {@return the guest address, unchecked: it may be null, unaligned or unmapped} */
    public final long address() {
        return address;
    }

    /** {@return the layout of what the pointer points at: its size and alignment decide each access's checks} */
    public final MemoryLayout layout() {
        return layout;
    }

    /** {@return whether the address is 0, which every access refuses with EFAULT} */
    public final boolean isNull() {
        return address == 0;
    }

    /** {@return this pointer, or empty for a null one, as syscalls whose argument is optional treat it} */
    public final Optional<P> nullable() {
        return isNull() ? Optional.empty() : Optional.of(make(address, layout));
    }

    /**
     * A pointer to a member of the struct or union this one points at (C's {@code &p->name}).
     *
     * @param name the member's name in the group layout
     * @return a pointer to it, with its layout; EFAULT where the address would wrap around
     * @throws IllegalArgumentException if the layout is not a struct or union, or has no such member
     */
    public final P field(String name) {
        if (!(layout instanceof GroupLayout group)) {
            throw new IllegalArgumentException(layout + " is not a struct or union");
        }
        MemoryLayout.PathElement path = MemoryLayout.PathElement.groupElement(name);
        return make(offset(group.byteOffset(path)), group.select(path));
    }

    /**
     * A pointer some elements of this layout on (C's {@code p + index}).
     *
     * @param index elements, negative to go back
     * @return the pointer, with the same layout; EINVAL where the byte offset overflows, EFAULT where the address wraps
     */
    public final P element(long index) {
        return make(offset(bytes(index)), layout);
    }

    /** This address plus {@code bytes}; EFAULT naming this pointer where C's sum would wrap around. */
    private long offset(long bytes) {
        try {
            return Math.addExact(address, bytes);
        } catch (ArithmeticException e) {
            throw new ErrnoException(Errno.EFAULT, address, bytes, "pointer plus " + bytes + " bytes wraps around");
        }
    }

    /** {@code count} elements in bytes; EINVAL naming this pointer when that overflows. */
    private long bytes(long count) {
        try {
            return Math.multiplyExact(count, layout.byteSize());
        } catch (ArithmeticException e) {
            throw new ErrnoException(Errno.EINVAL, address, count, count + " x " + layout.byteSize() + " bytes overflows");
        }
    }

    /**
     * The checks before an access of {@code length} bytes here; EFAULT names
     * the one that failed. Ludicrous keeps the first two: the copies stay
     * inside the address space's reservation whatever the address.
     */
    final void check(long length, boolean write) {
        if (address == 0) {
            throw new ErrnoException(Errno.EFAULT, address, length, "null pointer");
        }
        if (address % layout.byteAlignment() != 0) {
            throw new ErrnoException(Errno.EFAULT, address, length, "not aligned to " + layout.byteAlignment() + " bytes for " + layout);
        }
        if (!space.profile().checksAccess()) {
            return;
        }
        if (!space.accessOk(address, length)) {
            throw new ErrnoException(Errno.EFAULT, address, length, "range is outside user space [0, 0x" + Long.toHexString(space.size()) + ")");
        }
        if (!space.checkAccess(address, length, write)) {
            throw new ErrnoException(Errno.EFAULT, address, length, "not granted for " + (write ? "writing" : "reading"));
        }
        space.populate(address, length, write);
    }

    /**
     * Pre-faults the pages of the pointee for reading, or writing; EFAULT
     * where that is not allowed, after the pointer's checks.
     *
     * @param write whether to make the pages writable too (breaking copy-on-write)
     */
    public final void populate(boolean write) {
        check(layout.byteSize(), write);
        if (!space.profile().checksAccess()) {
            space.populate(address, layout.byteSize(), write);
        }
    }

    /** {@return a copy in kernel memory of the value pointed at, after the pointer's checks} */
    public final MemorySegment get() {
        return getAsSlice(1);
    }

    /**
     * A copy of consecutive values from here (a C array).
     *
     * @param count values, 0 or more (EINVAL if negative); 0 reads nothing and checks nothing
     * @return a kernel copy of {@code count} times the layout's size bytes
     */
    public final MemorySegment getAsSlice(long count) {
        if (count < 0) {
            throw new ErrnoException(Errno.EINVAL, address, count, "negative element count");
        }
        long length = bytes(count);
        if (length == 0) {
            return kernelBuffer(address, 0);
        }
        Faults.arrayLength(address, length);
        check(length, false); // the pointer before any allocation: a bad one costs nothing
        return Faults.copyGrowing(space, address, length, "read of " + count + " x " + layout);
    }

    /**
     * A copy of the values from here up to, not including, the first one
     * whose bytes are all zero (a NULL-terminated array, argv's shape),
     * checked and copied a page at a time. E2BIG when none of the first
     * {@code max} values is the terminator.
     *
     * @param max the most values to read, terminator included
     * @return the values before the terminator, without it
     */
    public final MemorySegment getAsNullTerminated(long max) {
        byte[] bytes = nullTerminated(max, Errno.E2BIG);
        MemorySegment out = kernelBuffer(address, bytes.length);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, out, 0, bytes.length);
        return out;
    }

    /**
     * The NUL-terminated UTF-8 string here, for a pointer to bytes: at most
     * {@code max} bytes, the NUL among them. ENAMETOOLONG when no NUL fits,
     * EILSEQ when the bytes are not UTF-8.
     *
     * @param max the most bytes to read, NUL included
     * @return the string without its NUL
     * @throws IllegalArgumentException if the layout is not one byte
     */
    public final String getAsString(long max) {
        if (layout.byteSize() != 1) {
            throw new IllegalArgumentException("a string needs a pointer to bytes, not " + layout);
        }
        byte[] bytes = nullTerminated(max, Errno.ENAMETOOLONG);
        return Faults.utf8(bytes, address, bytes.length);
    }

    private byte[] nullTerminated(long max, Errno tooLong) {
        if (max < 0) {
            throw new ErrnoException(Errno.EINVAL, address, max, "negative maximum");
        }
        long elem = layout.byteSize();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long count = 0;
        while (count < max) {
            long at = address + count * elem;
            long n = Math.min(max - count, Math.max(1, (PAGE - Math.floorMod(at, PAGE)) / elem));
            byte[] chunk;
            try {
                chunk = make(at, layout).getAsSlice(n).toArray(ValueLayout.JAVA_BYTE);
            } catch (ErrnoException e) {
                // Name the whole array or string, not the piece that failed.
                long length = max > Long.MAX_VALUE / elem ? Long.MAX_VALUE : max * elem;
                throw new ErrnoException(e.errno(), address, length, out.size() + Math.max(0, e.done()), e.reason());
            }
            for (int i = 0; i < n; i++) {
                if (allZero(chunk, (int) (i * elem), (int) elem)) {
                    out.write(chunk, 0, (int) (i * elem));
                    return out.toByteArray();
                }
            }
            out.write(chunk, 0, chunk.length);
            count += n;
        }
        throw new ErrnoException(tooLong, address, max * elem, "no terminator within " + max + " x " + layout);
    }

    private static boolean allZero(byte[] b, int from, int n) {
        for (int i = from; i < from + n; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** {@return the value as a byte, for a pointer to a 1-byte layout} */
    public final byte getByte() {
        return get().get(ValueLayout.JAVA_BYTE, 0);
    }

    /** {@return the value as an int, little-endian, for a pointer to a 4-byte layout (else IllegalArgumentException)} */
    public final int getInt() {
        requireSize(4);
        return get().get(ValueLayout.JAVA_INT_UNALIGNED, 0);
    }

    /** {@return the value as a long, little-endian, for a pointer to an 8-byte layout (else IllegalArgumentException)} */
    public final long getLong() {
        requireSize(8);
        return get().get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    }

    final void requireSize(long n) {
        if (layout.byteSize() != n) {
            throw new IllegalArgumentException("pointer to " + layout + ", not to " + n + " bytes");
        }
    }

    /** A heap buffer of {@code length} bytes aligned to 8 (longs back it); EINVAL naming {@code address} if too long. */
    static MemorySegment kernelBuffer(long address, long length) {
        return Faults.kernelBuffer(Faults.arrayLength(address, length));
    }

    /** {@return the value as a short, little-endian, for a pointer to a 2-byte layout (else IllegalArgumentException)} */
    public final short getShort() {
        requireSize(2);
        return get().get(ValueLayout.JAVA_SHORT_UNALIGNED, 0);
    }

    /**
     * Linux's {@code copy_struct_from_user} with this pointer's layout as the
     * kernel's struct ({@code ksize} its size) and {@code usize} the size the
     * guest says its struct has: a copy of {@code ksize} bytes, zero-extended
     * when the guest's struct is shorter; E2BIG when it is longer and a byte
     * past {@code ksize} is not zero (those bytes are checked first, in
     * address order, stopping at the first non-zero one); EFAULT when a byte
     * that decides the outcome cannot be read. {@code usize} 0 is all zeros
     * with no access, as in Linux; a negative one (a huge {@code size_t}) is
     * EFAULT. The pointer's own checks (null, alignment) come first, as for
     * every access; in the checked profiles {@code access_ok} then covers the
     * guest's whole struct and each piece read is checked against the grants
     * and populated before it is copied.
     *
     * @param usize the size in bytes of the guest's struct, as the syscall was given it
     * @return a kernel copy of the layout's size
     */
    public final MemorySegment getStruct(long usize) {
        MemorySegment out = kernelBuffer(address, layout.byteSize());
        if (usize == 0) {
            return out;
        }
        checkWhole(usize);
        ExtensibleStruct.copy(this::readChecked, out, address, usize);
        return out;
    }

    /**
     * Linux's {@code check_zeroed_user} on the {@code size} bytes from this
     * pointer: true when all are zero (size 0 included, with no access),
     * false at the first that is not; EFAULT when one before it cannot be
     * read, or for a negative size. Checked as {@link #getStruct} is.
     *
     * @param size bytes to look at
     * @return whether all of them are zero
     */
    public final boolean checkZeroed(long size) {
        if (size == 0) {
            return true;
        }
        checkWhole(size);
        return ExtensibleStruct.checkZeroed(this::readChecked, address, size);
    }

    /** The pointer's checks for the {@code length} bytes from it that come before any read: null, alignment, access_ok. */
    private void checkWhole(long length) {
        if (length < 0) {
            throw new ErrnoException(Errno.EFAULT, address, length, "negative size");
        }
        if (address == 0) {
            throw new ErrnoException(Errno.EFAULT, address, length, "null pointer");
        }
        if (address % layout.byteAlignment() != 0) {
            throw new ErrnoException(Errno.EFAULT, address, length, "not aligned to " + layout.byteAlignment() + " bytes for " + layout);
        }
        if (space.profile().checksAccess() && !space.accessOk(address, length)) {
            throw new ErrnoException(Errno.EFAULT, address, length, "range is outside user space [0, 0x" + Long.toHexString(space.size()) + ")");
        }
    }

    /** A piece of a struct read: the grants' permission and populate (checked profiles), then the fault-fixup copy. */
    private long readChecked(MemorySegment to, long guest) {
        long n = to.byteSize();
        if (space.profile().checksAccess()) {
            if (!space.checkAccess(guest, n, false)) {
                throw new ErrnoException(Errno.EFAULT, guest, n, "not granted for reading");
            }
            space.populate(guest, n, false);
        }
        return space.copyFromUser(to, guest);
    }

    @Override
    public final String toString() {
        return getClass().getSimpleName() + "[0x" + Long.toHexString(address) + " -> " + layout + "]";
    }
}
