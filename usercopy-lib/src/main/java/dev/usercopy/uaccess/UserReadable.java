package dev.usercopy.uaccess;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.HostIo;
import dev.usercopy.uapi.Errno;

/**
 * The reads of a slice the syscall may read ({@link UserSliceRo},
 * {@link UserSliceRw}). Each is one fallible copy into kernel memory the
 * caller owns; a fault anywhere is EFAULT with the bytes copied before it
 * in {@link ErrnoException#done()}. Numbers are little-endian (x86-64).
 */
public sealed interface UserReadable permits UserSliceRo, UserSliceRw {
    /** {@return the address space the slice's guest address belongs to} */
    AddressSpace space();

    /** {@return the guest address of the slice's first byte} */
    long address();

    /** {@return the slice's length in bytes, 0 or more} */
    long length();

    /**
     * Copies the slice into {@code dst}, which must be exactly as long (else EINVAL).
     *
     * @param dst the kernel buffer, {@link #length()} bytes; on EFAULT the bytes not copied are zeroed
     */
    default void copyToSlice(byte[] dst) {
        if (dst.length != length()) {
            throw new ErrnoException(Errno.EINVAL, address(), length(), "kernel buffer of " + dst.length + " bytes for a slice of " + length());
        }
        // The copy itself, not through copyCommonBytesToSlice: one call level less keeps the whole
        // copy within HotSpot's inlining depth, so neither this slice nor a segment is allocated.
        long left = space().copyFromUser(dst, 0, address(), dst.length);
        if (left != 0) {
            throw Faults.efault(address(), dst.length, left, "copy from user");
        }
    }

    /**
     * Copies the first {@code min(length, dst.length)} bytes into
     * {@code dst} and returns that count; EFAULT (with the bytes done) when a
     * byte before it cannot be read.
     *
     * @param dst the kernel buffer, of any length
     * @return bytes copied: the smaller of the two lengths
     */
    default long copyCommonBytesToSlice(byte[] dst) {
        int n = (int) Math.min(length(), dst.length);
        long left = space().copyFromUser(dst, 0, address(), n);
        if (left != 0) {
            throw Faults.efault(address(), n, left, "copy from user");
        }
        return n;
    }

    /**
     * Copies the slice into {@code dst}, which must be exactly as long (else EINVAL).
     *
     * @param dst kernel memory of {@link #length()} bytes; on EFAULT the bytes not copied are zeroed
     */
    default void copyToSegment(MemorySegment dst) {
        if (dst.byteSize() != length()) {
            throw new ErrnoException(Errno.EINVAL, address(), length(), "kernel segment of " + dst.byteSize() + " bytes for a slice of " + length());
        }
        long left = space().copyFromUser(dst, address());
        if (left != 0) {
            throw Faults.efault(address(), length(), left, "copy from user");
        }
    }

    /**
     * The slice's bytes in a new array; EINVAL if longer than an array can
     * be. The kernel buffer grows as bytes arrive, so a huge length over
     * unmapped memory is EFAULT, not a huge allocation.
     *
     * @return a new array of {@link #length()} bytes
     */
    default byte[] toByteArray() {
        return Faults.copyGrowing(space(), address(), length(), "copy from user").toArray(ValueLayout.JAVA_BYTE);
    }

    /**
     * {@code write(2)} of the slice to host {@code fd}, straight from the
     * guest's pages (see {@link AddressSpace#hostIo}): the host kernel stops
     * where the guest could not read, so the count or EFAULT is Linux's. At
     * most {@link UserIovec#MAX_RW_COUNT} bytes.
     *
     * @param fd a host file descriptor the caller owns
     * @param regularFile whether {@code fd} is a regular file: the transfer may then go on in chunks
     * @return the host's count, or {@code -errno} when nothing was written
     */
    default long writeTo(int fd, boolean regularFile) {
        return space().hostIo(HostIo.WRITE, fd, new long[] {address(), Math.min(length(), UserIovec.MAX_RW_COUNT)}, 0, regularFile);
    }

    /**
     * {@code pwrite64(2)} to host {@code fd} at {@code offset}, as {@link #writeTo(int, boolean)}.
     *
     * @param fd a host file descriptor the caller owns
     * @param offset the file offset in bytes; the file's position is not moved
     * @param regularFile whether {@code fd} is a regular file
     * @return the host's count, or {@code -errno} when nothing was written
     */
    default long writeTo(int fd, long offset, boolean regularFile) {
        return space().hostIo(HostIo.PWRITE, fd, new long[] {address(), Math.min(length(), UserIovec.MAX_RW_COUNT)}, offset, regularFile);
    }

    /** {@return the first byte (EINVAL if the slice is empty; EFAULT if it cannot be read)} */
    default byte readU8() {
        return Faults.readNumber(this, 1).get(0);
    }

    /** {@return the first 2 bytes as an unsigned 16-bit number in a short (EINVAL if shorter)} */
    default short readU16() {
        return Faults.readNumber(this, 2).getShort(0);
    }

    /** {@return the first 4 bytes as an unsigned 32-bit number in an int (EINVAL if shorter)} */
    default int readU32() {
        return Faults.readNumber(this, 4).getInt(0);
    }

    /** {@return the first 8 bytes as a 64-bit number (EINVAL if shorter)} */
    default long readU64() {
        return Faults.readNumber(this, 8).getLong(0);
    }

    /** {@return a {@code usize} of x86-64: the first 8 bytes (EINVAL if shorter)} */
    default long readUsize() {
        return readU64();
    }

    /** {@return the slice as UTF-8 text: EILSEQ naming the guest address of the first malformed byte} */
    default String copyToString() {
        return Faults.utf8(toByteArray(), address(), length());
    }

    /**
     * A NUL-terminated string at the slice's start, through
     * {@code strncpy_from_user}: at most {@code min(length, max)} bytes, the
     * NUL among them. ENAMETOOLONG when no NUL fits, EFAULT when a byte before
     * the NUL cannot be read, EILSEQ when the bytes are not UTF-8.
     *
     * @param max the most bytes to read, NUL included (such as {@code PATH_MAX}, 4096)
     * @return the string without its NUL
     * @throws IllegalArgumentException if {@code max} is negative
     */
    default String readCString(int max) {
        if (max < 0) {
            throw new IllegalArgumentException("negative maximum " + max);
        }
        int count = (int) Math.min(length(), max);
        byte[] buf = new byte[count];
        long got = space().strncpyFromUser(buf, 0, address(), count);
        if (got < 0) {
            throw new ErrnoException(Errno.EFAULT, address(), count, "string runs into a byte the guest may not read");
        }
        if (got == count) {
            throw new ErrnoException(Errno.ENAMETOOLONG, address(), count, "no NUL within " + count + " bytes");
        }
        return Faults.utf8(java.util.Arrays.copyOf(buf, (int) got), address(), got);
    }

    /**
     * Linux's {@code check_zeroed_user}: whether every byte of the slice is
     * zero (true for an empty slice). Reads in address order and stops at the
     * first non-zero byte, so a page that cannot be read after it does not
     * matter; EFAULT, with the zero bytes before it as done, when one before
     * it cannot be read.
     *
     * @return whether every byte is zero
     */
    default boolean checkZeroed() {
        return ExtensibleStruct.checkZeroed(space()::copyFromUser, address(), length());
    }

    /**
     * Linux's {@code copy_struct_from_user}, with the slice as the guest's
     * struct ({@code usize} its length) and {@code dst} the kernel's
     * ({@code ksize} its length): a shorter guest struct is zero-extended;
     * a longer one is E2BIG unless every byte past {@code ksize} is zero,
     * which is checked first, as {@link #checkZeroed} does. EFAULT when a
     * byte that decides the outcome cannot be read; then {@code dst} holds
     * the common bytes before the fault and zeros after them. On E2BIG
     * {@code dst} is untouched.
     *
     * @param dst the kernel's struct, as long as the kernel knows it
     */
    default void copyStructToSlice(byte[] dst) {
        ExtensibleStruct.copy(space()::copyFromUser, MemorySegment.ofArray(dst), address(), length());
    }

    /**
     * {@link #copyStructToSlice} into a segment the kernel owns.
     *
     * @param dst the kernel's struct, as long as the kernel knows it
     */
    default void copyStructToSegment(MemorySegment dst) {
        ExtensibleStruct.copy(space()::copyFromUser, dst, address(), length());
    }
}
