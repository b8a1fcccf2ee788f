package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The host kernel's own user copies, reached through system calls on a buffer
 * at a host address: what our copies are held against (the tests' oracle, so
 * it lives with them). Each call returns what the system call returns, a
 * byte count or {@code -errno}, since a fault ({@code -EFAULT}) is the answer
 * asked for, not a failure.
 *
 * <p>Which kernel path copies the bytes: {@code write}/{@code pwrite} copy
 * from the buffer (copy_from_user), {@code read}/{@code pread} copy into it
 * (copy_to_user), {@code process_vm_readv}/{@code process_vm_writev} on this
 * very process pin the remote pages and copy against the local ones.
 */
public final class KernelCopy {
    private KernelCopy() {}

    private static final MethodHandle MH$pipe2 = Posix.findFunction("pipe2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), Posix.CAPTURE_ERRNO);
    private static final FunctionDescriptor RW = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle MH$read = Posix.findFunction("read", RW, Posix.CAPTURE_ERRNO);
    private static final MethodHandle MH$write = Posix.findFunction("write", RW, Posix.CAPTURE_ERRNO);
    private static final FunctionDescriptor PRW = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle MH$pread = Posix.findFunction("pread", PRW, Posix.CAPTURE_ERRNO);
    private static final MethodHandle MH$pwrite = Posix.findFunction("pwrite", PRW, Posix.CAPTURE_ERRNO);
    /** {@code ssize_t process_vm_*v(pid_t, const struct iovec *, unsigned long, const struct iovec *, unsigned long, unsigned long)} */
    private static final FunctionDescriptor PROCESS_VM =
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle MH$process_vm_readv = Posix.findFunction("process_vm_readv", PROCESS_VM, Posix.CAPTURE_ERRNO);
    private static final MethodHandle MH$process_vm_writev = Posix.findFunction("process_vm_writev", PROCESS_VM, Posix.CAPTURE_ERRNO);

    private static final int SELF = (int) ProcessHandle.current().pid();

    private static long result(long r, MemorySegment state) {
        return r < 0 ? -Posix.errno(state) : r;
    }

    /** A pipe, {@code O_CLOEXEC} plus {@code flags}: {read end, write end}. Close both with {@link Posix#close}. */
    public static int[] pipe(int flags) {
        MemorySegment state = Posix.callState();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            int r;
            try {
                r = (int) MH$pipe2.invokeExact(state, fds, flags | Posix.O_CLOEXEC);
            } catch (Throwable t) {
                throw Posix.unreachable(t);
            }
            if (r != 0) {
                throw new NativeCallException("pipe2", Posix.errno(state), "flags=0x" + Integer.toHexString(flags));
            }
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        }
    }

    /** A new, empty memfd (a tmpfs file), close-on-exec. */
    public static int memfd(String name) {
        return Posix.memfdCreate(name, Posix.MFD_CLOEXEC);
    }

    /** {@code read} or {@code write} (by {@code handle}) of {@code count} bytes at {@code address}: bytes or -errno. */
    private static long io(MethodHandle handle, int fd, long address, long count) {
        MemorySegment state = Posix.callState();
        try {
            return result((long) handle.invokeExact(state, fd, MemorySegment.ofAddress(address), count), state);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
    }

    /** {@code pread} or {@code pwrite}: bytes or -errno. */
    private static long io(MethodHandle handle, int fd, long address, long count, long offset) {
        MemorySegment state = Posix.callState();
        try {
            return result((long) handle.invokeExact(state, fd, MemorySegment.ofAddress(address), count, offset), state);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
    }

    /** {@code write(fd, address, count)}: bytes written or -errno. */
    public static long write(int fd, long address, long count) {
        return io(MH$write, fd, address, count);
    }

    /** {@code read(fd, address, count)}: bytes read or -errno. */
    public static long read(int fd, long address, long count) {
        return io(MH$read, fd, address, count);
    }

    /** {@code pwrite(fd, address, count, offset)}: bytes written or -errno. */
    public static long pwrite(int fd, long address, long count, long offset) {
        return io(MH$pwrite, fd, address, count, offset);
    }

    /** {@code pread(fd, address, count, offset)}: bytes read or -errno. */
    public static long pread(int fd, long address, long count, long offset) {
        return io(MH$pread, fd, address, count, offset);
    }

    /** {@code write}/{@code pwrite} from a Java array (plain memory), checked: the whole array or an exception. */
    public static void pwriteAll(int fd, byte[] data, long offset) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
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
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
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
            MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, data, 0, (int) r);
            return (int) r;
        }
    }

    /**
     * {@code process_vm_readv} on this process: {@code count} bytes at
     * {@code remote} into {@code local}, one iovec each. Bytes or -errno.
     */
    public static long processVmReadv(long local, long remote, long count) {
        return processVm(MH$process_vm_readv, local, remote, count);
    }

    /** {@code process_vm_writev} on this process: {@code count} bytes at {@code local} to {@code remote}. Bytes or -errno. */
    public static long processVmWritev(long local, long remote, long count) {
        return processVm(MH$process_vm_writev, local, remote, count);
    }

    private static long processVm(MethodHandle handle, long local, long remote, long count) {
        MemorySegment state = Posix.callState();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment l = arena.allocate(iovec.$LAYOUT);
            MemorySegment r = arena.allocate(iovec.$LAYOUT);
            iovec.iov_base(l, MemorySegment.ofAddress(local));
            iovec.iov_len(l, count);
            iovec.iov_base(r, MemorySegment.ofAddress(remote));
            iovec.iov_len(r, count);
            try {
                return result((long) handle.invokeExact(state, SELF, l, 1L, r, 1L, 0L), state);
            } catch (Throwable t) {
                throw Posix.unreachable(t);
            }
        }
    }
}
