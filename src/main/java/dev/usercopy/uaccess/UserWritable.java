package dev.usercopy.uaccess;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.platform.Errno;

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
        copyCommonBytesFromSlice(src);
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
