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
    AddressSpace space();

    long address();

    long length();

    /** Copies {@code src} into the slice, which must be exactly as long (else EINVAL). */
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

    /** Copies the first {@code min(length, src.length)} bytes of {@code src} and returns that count; EFAULT with the bytes done. */
    default long copyCommonBytesFromSlice(byte[] src) {
        int n = (int) Math.min(length(), src.length);
        long left = space().copyToUser(address(), src, 0, n);
        if (left != 0) {
            throw Faults.efault(address(), n, left, "copy to user");
        }
        return n;
    }

    /** Copies {@code src} into the slice, which must be exactly as long (else EINVAL). */
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
     * longer read. {@code regularFile}: the transfer may go on in chunks.
     * Returns the host's count or {@code -errno}.
     */
    default long readFrom(int fd, boolean regularFile) {
        return space().hostIo(HostIo.READ, fd, new long[] {address(), Math.min(length(), UserIovec.MAX_RW_COUNT)}, 0, regularFile);
    }

    /** {@code pread64} from host {@code fd} at {@code offset}, as {@link #readFrom(int, boolean)}. */
    default long readFrom(int fd, long offset, boolean regularFile) {
        return space().hostIo(HostIo.PREAD, fd, new long[] {address(), Math.min(length(), UserIovec.MAX_RW_COUNT)}, offset, regularFile);
    }

    /** {@code getdents64} of host directory {@code fd} straight into the slice: the host's count or {@code -errno}. */
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

    /** Writes one byte at the start (EINVAL if the slice is empty). */
    default void writeU8(byte value) {
        writeNumber(ByteBuffer.allocate(1).put(0, value));
    }

    /** Writes a 16-bit number at the start (EINVAL if shorter than 2 bytes). */
    default void writeU16(short value) {
        writeNumber(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort(0, value));
    }

    /** Writes a 32-bit number at the start (EINVAL if shorter than 4 bytes). */
    default void writeU32(int value) {
        writeNumber(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value));
    }

    /** Writes a 64-bit number at the start (EINVAL if shorter than 8 bytes). */
    default void writeU64(long value) {
        writeNumber(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value));
    }

    /** Writes a {@code usize} of x86-64 (8 bytes) at the start. */
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
