package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The host kernel's own user copies, reached through system calls on a buffer
 * at a host address: what our copies are held against. Each call returns what
 * the system call returns, a byte count or {@code -errno}, since a fault
 * ({@code -EFAULT}) is the answer asked for, not a failure.
 *
 * <p>Which kernel path copies the bytes: {@code write}/{@code pwrite} copy
 * from the buffer (copy_from_user), {@code read}/{@code pread} copy into it
 * (copy_to_user), {@code process_vm_readv}/{@code process_vm_writev} on this
 * very process pin the remote pages and copy against the local ones.
 */
public final class KernelCopy {
    private KernelCopy() {}

    private static final ThreadLocal<MemorySegment> CALL_STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(libc_h.CALL_STATE));

    private static final int SELF = (int) ProcessHandle.current().pid();

    private static long result(long r, MemorySegment state) {
        return r < 0 ? -libc_h.errno(state) : r;
    }

    /** A pipe, {@code O_CLOEXEC} plus {@code flags}: {read end, write end}. Close both with {@link Posix#close}. */
    public static int[] pipe(int flags) {
        MemorySegment state = CALL_STATE.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(libc_h.C_INT, 2);
            if (libc_h.pipe2(state, fds, flags | libc_h.O_CLOEXEC) != 0) {
                throw new NativeCallException("pipe2", libc_h.errno(state), "flags=0x" + Integer.toHexString(flags));
            }
            return new int[] {fds.getAtIndex(libc_h.C_INT, 0), fds.getAtIndex(libc_h.C_INT, 1)};
        }
    }

    /** A new, empty memfd (a tmpfs file), close-on-exec. */
    public static int memfd(String name) {
        return Posix.memfdCreate(name, libc_h.MFD_CLOEXEC);
    }

    /** {@code write(fd, address, count)}: bytes written or -errno. */
    public static long write(int fd, long address, long count) {
        MemorySegment state = CALL_STATE.get();
        return result(libc_h.write(state, fd, MemorySegment.ofAddress(address), count), state);
    }

    /** {@code read(fd, address, count)}: bytes read or -errno. */
    public static long read(int fd, long address, long count) {
        MemorySegment state = CALL_STATE.get();
        return result(libc_h.read(state, fd, MemorySegment.ofAddress(address), count), state);
    }

    /** {@code pwrite(fd, address, count, offset)}: bytes written or -errno. */
    public static long pwrite(int fd, long address, long count, long offset) {
        MemorySegment state = CALL_STATE.get();
        return result(libc_h.pwrite(state, fd, MemorySegment.ofAddress(address), count, offset), state);
    }

    /** {@code pread(fd, address, count, offset)}: bytes read or -errno. */
    public static long pread(int fd, long address, long count, long offset) {
        MemorySegment state = CALL_STATE.get();
        return result(libc_h.pread(state, fd, MemorySegment.ofAddress(address), count, offset), state);
    }

    /** {@code write}/{@code pwrite} from a Java array (plain memory), checked: the whole array or an exception. */
    public static void pwriteAll(int fd, byte[] data, long offset) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length);
            long r = pwrite(fd, buf.address(), data.length, offset);
            if (r != data.length) {
                throw new NativeCallException("pwrite", r < 0 ? (int) -r : 0, "fd=" + fd + ", " + data.length + " bytes, wrote " + r);
            }
        }
    }

    /** {@code write} of a Java array (plain memory), checked: the whole array or an exception. */
    public static void writeAll(int fd, byte[] data) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length);
            long r = write(fd, buf.address(), data.length);
            if (r != data.length) {
                throw new NativeCallException("write", r < 0 ? (int) -r : 0, "fd=" + fd + ", " + data.length + " bytes, wrote " + r);
            }
        }
    }

    /** {@code pread} into a Java array (plain memory), checked: bytes read. */
    public static int preadAll(int fd, byte[] data, long offset) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, data.length));
            long r = pread(fd, buf.address(), data.length, offset);
            if (r < 0) {
                throw new NativeCallException("pread", (int) -r, "fd=" + fd + ", " + data.length + " bytes");
            }
            MemorySegment.copy(buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data, 0, (int) r);
            return (int) r;
        }
    }

    /**
     * {@code process_vm_readv} on this process: {@code count} bytes at
     * {@code remote} into {@code local}, one iovec each. Bytes or -errno.
     */
    public static long processVmReadv(long local, long remote, long count) {
        return processVm(false, local, remote, count);
    }

    /** {@code process_vm_writev} on this process: {@code count} bytes at {@code local} to {@code remote}. Bytes or -errno. */
    public static long processVmWritev(long local, long remote, long count) {
        return processVm(true, local, remote, count);
    }

    private static long processVm(boolean write, long local, long remote, long count) {
        MemorySegment state = CALL_STATE.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment l = arena.allocate(iovec.$LAYOUT);
            MemorySegment r = arena.allocate(iovec.$LAYOUT);
            iovec.iov_base(l, MemorySegment.ofAddress(local));
            iovec.iov_len(l, count);
            iovec.iov_base(r, MemorySegment.ofAddress(remote));
            iovec.iov_len(r, count);
            long n = write
                    ? libc_h.process_vm_writev(state, SELF, l, 1, r, 1, 0)
                    : libc_h.process_vm_readv(state, SELF, l, 1, r, 1, 0);
            return result(n, state);
        }
    }
}
