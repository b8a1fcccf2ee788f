package dev.usercopy.uaccess;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.HostIo;
import dev.usercopy.uapi.Errno;

/**
 * The writes of a slice the syscall may write ({@link UserSliceWo},
 * {@link UserSliceRw}). Each is one fallible copy from kernel memory; a
 * fault anywhere is EFAULT with the bytes written before it in
 * {@link ErrnoException#done()}. Numbers are little-endian (x86-64).
 */
public sealed interface UserWritable permits UserSliceWo, UserSliceRw {
    /** {@return the address space the slice's guest address belongs to} */
    AddressSpace space();

    /** {@return the guest address of the slice's first byte} */
    long address();

    /** {@return the slice's length in bytes, 0 or more} */
    long length();

    /**
     * Copies {@code src} into the slice, which must be exactly as long (else EINVAL).
     *
     * @param src the kernel bytes, {@link #length()} of them
     */
    default void copyFromSlice(byte[] src) {
        if (src.length != length()) {
            throw new ErrnoException(Errno.EINVAL, address(), length(), "kernel buffer of " + src.length + " bytes for a slice of " + length());
        }
        // The copy itself, not through copyCommonBytesFromSlice: see UserReadable.copyToSlice.
        long left = space().copyToUser(address(), src, 0, src.length);
        if (left != 0) {
            throw Faults.efault(address(), src.length, left, "copy to user");
        }
    }

    /**
     * Copies the first {@code min(length, src.length)} bytes of {@code src};
     * EFAULT, with the bytes done, when one of them cannot be written.
     *
     * @param src the kernel bytes, of any length
     * @return bytes copied: the smaller of the two lengths
     */
    default long copyCommonBytesFromSlice(byte[] src) {
        int n = (int) Math.min(length(), src.length);
        long left = space().copyToUser(address(), src, 0, n);
        if (left != 0) {
            throw Faults.efault(address(), n, left, "copy to user");
        }
        return n;
    }

    /**
     * Copies {@code src} into the slice, which must be exactly as long (else EINVAL).
     *
     * @param src kernel memory of {@link #length()} bytes
     */
    default void copyFromSegment(MemorySegment src) {
        if (src.byteSize() != length()) {
            throw new ErrnoException(Errno.EINVAL, address(), length(), "kernel segment of " + src.byteSize() + " bytes for a slice of " + length());
        }
        long left = space().copyToUser(address(), src);
        if (left != 0) {
            throw Faults.efault(address(), length(), left, "copy to user");
        }
    }

    /**
     * {@code read(2)} from host {@code fd} straight into the slice (see
     * {@link AddressSpace#hostIo}): the host kernel writes the guest's pages
     * and stops where the guest could not write, so the count or EFAULT is
     * Linux's. At most {@link UserIovec#MAX_RW_COUNT} bytes, as Linux cuts a
     * longer read.
     *
     * @param fd a host file descriptor the caller owns
     * @param regularFile whether {@code fd} is a regular file: the transfer may then go on in chunks
     * @return the host's count, or {@code -errno} when nothing was read
     */
    default long readFrom(int fd, boolean regularFile) {
        return space().hostIo(HostIo.READ, fd, new long[] {address(), Math.min(length(), UserIovec.MAX_RW_COUNT)}, 0, regularFile);
    }

    /**
     * {@code pread64(2)} from host {@code fd} at {@code offset}, as {@link #readFrom(int, boolean)}.
     *
     * @param fd a host file descriptor the caller owns
     * @param offset the file offset in bytes; the file's position is not moved
     * @param regularFile whether {@code fd} is a regular file
     * @return the host's count, or {@code -errno} when nothing was read
     */
    default long readFrom(int fd, long offset, boolean regularFile) {
        return space().hostIo(HostIo.PREAD, fd, new long[] {address(), Math.min(length(), UserIovec.MAX_RW_COUNT)}, offset, regularFile);
    }

    /**
     * {@code getdents64(2)} of a host directory straight into the slice, as
     * whole {@code struct linux_dirent64} records.
     *
     * @param fd a host directory file descriptor the caller owns; its position moves past the records read
     * @return the host's count (0 at the end of the directory), or {@code -errno}
     */
    default long readDirectoryFrom(int fd) {
        return space().hostIo(HostIo.GETDENTS64, fd, new long[] {address(), Math.min(length(), Integer.MAX_VALUE)}, 0, false);
    }

    /** Zeroes the slice ({@code clear_user}). */
    default void zero() {
        long left = space().clearUser(address(), length());
        if (left != 0) {
            throw Faults.efault(address(), length(), left, "clear user");
        }
    }

    /**
     * Writes one byte at the start (EINVAL if the slice is empty).
     *
     * @param value the byte
     */
    default void writeU8(byte value) {
        writeNumber(ByteBuffer.allocate(1).put(0, value));
    }

    /**
     * Writes a 16-bit number at the start, little-endian (EINVAL if shorter than 2 bytes).
     *
     * @param value the number; signed or unsigned, the bits are what is written
     */
    default void writeU16(short value) {
        writeNumber(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort(0, value));
    }

    /**
     * Writes a 32-bit number at the start, little-endian (EINVAL if shorter than 4 bytes).
     *
     * @param value the number; signed or unsigned, the bits are what is written
     */
    default void writeU32(int value) {
        writeNumber(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value));
    }

    /**
     * Writes a 64-bit number at the start, little-endian (EINVAL if shorter than 8 bytes).
     *
     * @param value the number; signed or unsigned, the bits are what is written
     */
    default void writeU64(long value) {
        writeNumber(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value));
    }

    /**
     * Writes a {@code usize} of x86-64 (8 bytes, little-endian) at the start (EINVAL if shorter).
     *
     * @param value the number, unsigned
     */
    default void writeUsize(long value) {
        writeU64(value);
    }

    private void writeNumber(ByteBuffer bytes) {
        int n = bytes.capacity();
        if (length() < n) {
            throw new ErrnoException(Errno.EINVAL, address(), length(), "slice shorter than the " + n + "-byte value");
        }
        long left = space().copyToUser(address(), bytes.array(), 0, n);
        if (left != 0) {
            throw Faults.efault(address(), n, left, "write of a " + n + "-byte value");
        }
    }
}
