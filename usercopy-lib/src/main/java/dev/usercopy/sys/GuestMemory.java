package dev.usercopy.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.usercopy.mm.ErrnoException;
import dev.usercopy.uaccess.UserSlice;
import dev.usercopy.uapi.Errno;

/**
 * The few shapes in which the non-file syscalls read and write guest memory,
 * each one UserSlice copy: kernel structs as little-endian byte arrays,
 * {@code struct timespec}, single numbers. A fault is EFAULT (an
 * {@link ErrnoException}), with the bytes before it written, as Linux's
 * {@code copy_to_user} leaves them.
 */
final class GuestMemory {
    /** x86-64's TASK_SIZE_MAX with 4-level paging: the end of user space, a guard page below 2^47. */
    static final long TASK_SIZE = (1L << 47) - 4096;

    private GuestMemory() {}

    /**
     * x86-64's {@code access_ok}: whether [addr, addr + length) ends at or
     * below TASK_SIZE_MAX without wrapping. Unlike a copy it refuses a kernel
     * address even for length 0, which getrandom and others check before
     * looking at the length.
     */
    static boolean accessOk(long addr, long length) {
        long sum = addr + length;
        return Long.compareUnsigned(sum, TASK_SIZE) <= 0 && Long.compareUnsigned(sum, addr) >= 0;
    }

    static ByteBuffer struct(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** copy_to_user of the whole of {@code bytes}. */
    static void write(Task t, long addr, byte[] bytes) {
        UserSlice.wo(t.space(), addr, bytes.length).copyFromSlice(bytes);
    }

    static void write(Task t, long addr, ByteBuffer struct) {
        write(t, addr, struct.array());
    }

    /** copy_from_user of {@code size} bytes, little-endian. */
    static ByteBuffer read(Task t, long addr, int size) {
        byte[] b = new byte[size];
        UserSlice.ro(t.space(), addr, size).copyToSlice(b);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** put_user of a 64-bit number. */
    static void putLong(Task t, long addr, long value) {
        write(t, addr, struct(8).putLong(0, value));
    }

    /** put_user of a 32-bit number. */
    static void putInt(Task t, long addr, int value) {
        write(t, addr, struct(4).putInt(0, value));
    }

    /** put_timespec64: {sec, nsec}. */
    static void putTimespec(Task t, long addr, long sec, long nsec) {
        write(t, addr, struct(16).putLong(0, sec).putLong(8, nsec));
    }

    /** get_timespec64: {sec, nsec} as the guest wrote them (validity is the caller's check). */
    static long[] getTimespec(Task t, long addr) {
        ByteBuffer b = read(t, addr, 16);
        return new long[] {b.getLong(0), b.getLong(8)};
    }

    static long efault() {
        return -Errno.EFAULT.number();
    }
}
