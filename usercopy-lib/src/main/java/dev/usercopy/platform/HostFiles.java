package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The host's file syscalls, for the guest runtime's file table: each returns
 * what the syscall returns, or {@code -errno}, as the kernel's own entry
 * points do (an error is an answer to pass on, not a failure). They go
 * through libc's {@code syscall(2)}, so a call is the host kernel's, with no
 * wrapper between (glibc 2.36 has no {@code openat2}). Paths cross as bytes
 * (a guest path need not be UTF-8) into a NUL-terminated native copy; kernel
 * buffers (stat, statx, termios) come back as Java arrays.
 *
 * <p>The data calls ({@link #read}, {@link #readv}, ...) take host
 * addresses: {@link Reservation} calls them with addresses inside its own
 * range, and tests with native memory of their own (the host kernel as the
 * oracle of the guest's answers); nothing above platform has a host
 * address to give them.
 */
public final class HostFiles {
    private HostFiles() {}

    // <asm/unistd_64.h> numbers of the calls made here; AbiTest holds them against <sys/syscall.h>.
    public static final int SYS_read = 0;
    public static final int SYS_write = 1;
    public static final int SYS_close = 3;
    public static final int SYS_lseek = 8;
    public static final int SYS_ioctl = 16;
    public static final int SYS_pread64 = 17;
    public static final int SYS_pwrite64 = 18;
    public static final int SYS_readv = 19;
    public static final int SYS_writev = 20;
    public static final int SYS_fcntl = 72;
    public static final int SYS_ftruncate = 77;
    public static final int SYS_fchmod = 91;
    public static final int SYS_fstatfs = 138;
    public static final int SYS_getxattr = 191;
    public static final int SYS_listxattr = 194;
    public static final int SYS_getdents64 = 217;
    public static final int SYS_poll = 7;
    /** revents of a poll entry whose descriptor is not open. */
    public static final short POLLNVAL = 0x20;
    public static final int SYS_openat = 257;
    public static final int SYS_mkdirat = 258;
    public static final int SYS_newfstatat = 262;
    public static final int SYS_unlinkat = 263;
    public static final int SYS_symlinkat = 266;
    public static final int SYS_readlinkat = 267;
    public static final int SYS_fchmodat = 268;
    public static final int SYS_utimensat = 280;
    public static final int SYS_renameat2 = 316;
    public static final int SYS_statx = 332;
    public static final int SYS_pipe2 = 293;
    public static final int SYS_openat2 = 437;
    public static final int SYS_faccessat2 = 439;

    // <fcntl.h>
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 01;
    public static final int O_RDWR = 02;
    public static final int O_ACCMODE = 03;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NOCTTY = 0400;
    public static final int O_TRUNC = 01000;
    public static final int O_APPEND = 02000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_DSYNC = 010000;
    public static final int O_DIRECT = 040000;
    public static final int O_DIRECTORY = 0200000;
    public static final int O_NOFOLLOW = 0400000;
    public static final int O_NOATIME = 01000000;
    public static final int O_CLOEXEC = 02000000;
    public static final int O_SYNC = 04010000;
    public static final int O_PATH = 010000000;
    public static final int O_TMPFILE = 020200000;
    public static final int AT_FDCWD = -100;
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    public static final int AT_REMOVEDIR = 0x200;
    public static final int AT_EACCESS = 0x200;
    public static final int AT_SYMLINK_FOLLOW = 0x400;
    public static final int AT_NO_AUTOMOUNT = 0x800;
    public static final int AT_EMPTY_PATH = 0x1000;
    public static final int F_DUPFD = 0;
    public static final int F_GETFD = 1;
    public static final int F_SETFD = 2;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    public static final int F_DUPFD_CLOEXEC = 1030;
    public static final int FD_CLOEXEC = 1;
    // <unistd.h>
    public static final int SEEK_SET = 0;
    public static final int SEEK_CUR = 1;
    public static final int SEEK_END = 2;
    public static final int R_OK = 4;
    public static final int W_OK = 2;
    public static final int X_OK = 1;
    public static final int F_OK = 0;
    // <linux/openat2.h>
    public static final int RESOLVE_NO_XDEV = 0x01;
    public static final int RESOLVE_NO_MAGICLINKS = 0x02;
    public static final int RESOLVE_NO_SYMLINKS = 0x04;
    public static final int RESOLVE_BENEATH = 0x08;
    public static final int RESOLVE_IN_ROOT = 0x10;
    // <sys/ioctl.h>
    public static final int TCGETS = 0x5401;
    public static final int TIOCGWINSZ = 0x5413;
    // <sys/stat.h>
    public static final int S_IFMT = 0170000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFIFO = 0010000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFSOCK = 0140000;
    // <fcntl.h> renameat2's flags
    public static final int RENAME_NOREPLACE = 1;
    public static final int RENAME_EXCHANGE = 2;
    public static final int RENAME_WHITEOUT = 4;

    /** Bytes of the kernel's {@code struct stat} on x86-64. */
    public static final int STAT_SIZE = 144;
    /** Offset of {@code st_mode} (an unsigned int) in it. */
    public static final int STAT_MODE = 24;
    /** Offset of {@code st_size} in it. */
    public static final int STAT_SIZE_OFFSET = 48;
    /** Offset of {@code st_rdev} in it. */
    public static final int STAT_RDEV = 40;
    /** Bytes of {@code struct statx}. */
    public static final int STATX_SIZE = 256;
    /** Bytes of {@code struct statfs} on x86-64. */
    public static final int STATFS_SIZE = 120;
    /** Bytes of the kernel's {@code struct termios} that TCGETS fills (not glibc's larger one). */
    public static final int KERNEL_TERMIOS_SIZE = 36;
    /** Bytes of {@code struct winsize}. */
    public static final int WINSIZE_SIZE = 8;

    private static final MethodHandle MH$syscall = Posix.findFunction("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Posix.CAPTURE_ERRNO, Linker.Option.firstVariadicArg(1));

    /** {@code syscall(nr, a0..a5)}: the result, or {@code -errno}. */
    static long syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
        MemorySegment state = Posix.callState();
        long r;
        try {
            r = (long) MH$syscall.invokeExact(state, nr, a0, a1, a2, a3, a4, a5);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
        return r == -1 ? -Posix.errno(state) : r;
    }

    private static MemorySegment cString(Arena arena, byte[] path) {
        MemorySegment s = arena.allocate(path.length + 1L);
        MemorySegment.copy(path, 0, s, ValueLayout.JAVA_BYTE, 0, path.length);
        return s; // allocate zeroes: the NUL is there
    }

    /** {@code openat2(dirfd, path, {flags, mode, resolve}, 24)}. */
    public static long openat2(int dirfd, byte[] path, long flags, long mode, long resolve) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment how = arena.allocate(24, 8);
            how.set(JAVA_LONG, 0, flags);
            how.set(JAVA_LONG, 8, mode);
            how.set(JAVA_LONG, 16, resolve);
            return syscall(SYS_openat2, dirfd, cString(arena, path).address(), how.address(), 24, 0, 0);
        }
    }

    /** {@code openat(dirfd, path, flags, mode)}. */
    public static long openat(int dirfd, byte[] path, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            return syscall(SYS_openat, dirfd, cString(arena, path).address(), flags, mode, 0, 0);
        }
    }

    public static long close(int fd) {
        return syscall(SYS_close, fd, 0, 0, 0, 0, 0);
    }

    public static long lseek(int fd, long offset, int whence) {
        return syscall(SYS_lseek, fd, offset, whence, 0, 0, 0);
    }

    /** {@code fcntl(fd, cmd, arg)} for the commands whose argument is a number. */
    public static long fcntl(int fd, int cmd, long arg) {
        return syscall(SYS_fcntl, fd, cmd, arg, 0, 0, 0);
    }

    /** {@code ioctl(fd, request, buf)} for a request that fills {@code buf} (TCGETS, TIOCGWINSZ). */
    public static long ioctlRead(int fd, int request, byte[] buf) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(buf.length);
            long r = syscall(SYS_ioctl, fd, request, b.address(), 0, 0, 0);
            MemorySegment.copy(b, ValueLayout.JAVA_BYTE, 0, buf, 0, buf.length);
            return r;
        }
    }

    /** {@code newfstatat(dirfd, path, buf, flags)} into {@code buf} ({@link #STAT_SIZE} bytes). */
    public static long fstatat(int dirfd, byte[] path, byte[] buf, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(STAT_SIZE, 8);
            long r = syscall(SYS_newfstatat, dirfd, cString(arena, path).address(), b.address(), flags, 0, 0);
            MemorySegment.copy(b, ValueLayout.JAVA_BYTE, 0, buf, 0, STAT_SIZE);
            return r;
        }
    }

    /** {@code statx(dirfd, path, flags, mask, buf)} into {@code buf} ({@link #STATX_SIZE} bytes). */
    public static long statx(int dirfd, byte[] path, int flags, int mask, byte[] buf) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(STATX_SIZE, 8);
            long r = syscall(SYS_statx, dirfd, cString(arena, path).address(), flags, mask & 0xffffffffL, b.address(), 0);
            MemorySegment.copy(b, ValueLayout.JAVA_BYTE, 0, buf, 0, STATX_SIZE);
            return r;
        }
    }

    /** {@code fstatfs(fd, buf)} into {@code buf} ({@link #STATFS_SIZE} bytes). */
    public static long fstatfs(int fd, byte[] buf) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(STATFS_SIZE, 8);
            long r = syscall(SYS_fstatfs, fd, b.address(), 0, 0, 0, 0);
            MemorySegment.copy(b, ValueLayout.JAVA_BYTE, 0, buf, 0, STATFS_SIZE);
            return r;
        }
    }

    /**
     * {@code getxattr(path, name, buf, buf.length)}: the value's length
     * (with an empty {@code buf}, only the length), or -errno.
     */
    public static long getxattr(byte[] path, byte[] name, byte[] buf) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(Math.max(1, buf.length));
            long r = syscall(SYS_getxattr, cString(arena, path).address(), cString(arena, name).address(), b.address(), buf.length, 0, 0);
            if (r > 0 && buf.length > 0) {
                MemorySegment.copy(b, ValueLayout.JAVA_BYTE, 0, buf, 0, (int) r);
            }
            return r;
        }
    }

    /** {@code listxattr(path, buf, buf.length)}: the list's length (with an empty {@code buf}, only the length), or -errno. */
    public static long listxattr(byte[] path, byte[] buf) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(Math.max(1, buf.length));
            long r = syscall(SYS_listxattr, cString(arena, path).address(), b.address(), buf.length, 0, 0, 0);
            if (r > 0 && buf.length > 0) {
                MemorySegment.copy(b, ValueLayout.JAVA_BYTE, 0, buf, 0, (int) r);
            }
            return r;
        }
    }

    /** {@code readlinkat(dirfd, path, buf, buf.length)}: the length, or -errno. */
    public static long readlinkat(int dirfd, byte[] path, byte[] buf) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(Math.max(1, buf.length));
            long r = syscall(SYS_readlinkat, dirfd, cString(arena, path).address(), b.address(), buf.length, 0, 0);
            if (r > 0) {
                MemorySegment.copy(b, ValueLayout.JAVA_BYTE, 0, buf, 0, (int) r);
            }
            return r;
        }
    }

    public static long faccessat2(int dirfd, byte[] path, int mode, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return syscall(SYS_faccessat2, dirfd, cString(arena, path).address(), mode, flags, 0, 0);
        }
    }

    /** {@code mknodat(dirfd, path, mode, 0)}: 0 or -errno (no device numbers: the runtime never makes device nodes). */
    public static long mknodat(int dirfd, byte[] path, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            return syscall(259, dirfd, cString(arena, path).address(), mode, 0, 0, 0);
        }
    }

    public static long mkdirat(int dirfd, byte[] path, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            return syscall(SYS_mkdirat, dirfd, cString(arena, path).address(), mode, 0, 0, 0);
        }
    }

    public static long unlinkat(int dirfd, byte[] path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return syscall(SYS_unlinkat, dirfd, cString(arena, path).address(), flags, 0, 0, 0);
        }
    }

    public static long renameat2(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return syscall(SYS_renameat2, olddirfd, cString(arena, oldpath).address(), newdirfd, cString(arena, newpath).address(), flags, 0);
        }
    }

    public static long symlinkat(byte[] target, int newdirfd, byte[] linkpath) {
        try (Arena arena = Arena.ofConfined()) {
            return syscall(SYS_symlinkat, cString(arena, target).address(), newdirfd, cString(arena, linkpath).address(), 0, 0, 0);
        }
    }

    /**
     * {@code utimensat(dirfd, path, times, flags)}: {@code path} null for
     * the descriptor itself, {@code times} null for now or the two
     * timespecs {atime sec, nsec, mtime sec, nsec}. 0 or -errno.
     */
    public static long utimensat(int dirfd, byte[] path, long[] times, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ts = MemorySegment.NULL;
            if (times != null) {
                ts = arena.allocate(32, 8);
                for (int i = 0; i < 4; i++) {
                    ts.setAtIndex(ValueLayout.JAVA_LONG, i, times[i]);
                }
            }
            long p = path == null ? 0 : cString(arena, path).address();
            return syscall(SYS_utimensat, dirfd, p, ts.address(), flags, 0, 0);
        }
    }

    public static long fchmodat(int dirfd, byte[] path, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            return syscall(SYS_fchmodat, dirfd, cString(arena, path).address(), mode, 0, 0, 0);
        }
    }

    public static long fchmod(int fd, int mode) {
        return syscall(SYS_fchmod, fd, mode, 0, 0, 0, 0);
    }

    public static long ftruncate(int fd, long length) {
        return syscall(SYS_ftruncate, fd, length, 0, 0, 0, 0);
    }

    /**
     * {@code poll} over {@code n} entries of {@code fds} (struct pollfd: int
     * fd, short events, short revents), the revents written back into it;
     * the count of ready entries or {@code -errno}. Blocks the calling thread
     * up to {@code timeoutMs} (-1: no limit).
     */
    public static long poll(byte[] fds, int n, int timeoutMs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(8, (long) n * 8), 8);
            MemorySegment.copy(fds, 0, buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, n * 8);
            long r = syscall(SYS_poll, buf.address(), n, timeoutMs, 0, 0, 0);
            MemorySegment.copy(buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, fds, 0, n * 8);
            return r;
        }
    }

    /** {@code pipe2(fds, flags)}: fills {@code fds} with the read and write ends; 0 or -errno. */
    public static long pipe2(int[] fds, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(8, 4);
            long r = syscall(SYS_pipe2, b.address(), flags, 0, 0, 0, 0);
            fds[0] = b.get(ValueLayout.JAVA_INT, 0);
            fds[1] = b.get(ValueLayout.JAVA_INT, 4);
            return r;
        }
    }

    public static final int SYS_eventfd2 = 290;
    public static final int EFD_CLOEXEC = O_CLOEXEC;
    public static final int EFD_NONBLOCK = O_NONBLOCK;

    /** {@code eventfd2(0, EFD_CLOEXEC | EFD_NONBLOCK)}: a counter to wake a poll with; the descriptor or -errno. */
    public static long eventfd() {
        return syscall(SYS_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK, 0, 0, 0, 0);
    }

    /** Adds {@code n} to eventfd {@code fd}'s counter (it becomes readable); 8 or -errno. */
    public static long eventfdAdd(int fd, long n) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(8, 8);
            b.set(ValueLayout.JAVA_LONG, 0, n);
            return syscall(SYS_write, fd, b.address(), 8, 0, 0, 0);
        }
    }

    /** Reads and zeroes non-blocking eventfd {@code fd}'s counter: its value, 0 when it was zero. */
    public static long eventfdDrain(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(8, 8);
            long r = syscall(SYS_read, fd, b.address(), 8, 0, 0, 0);
            return r == 8 ? b.get(ValueLayout.JAVA_LONG, 0) : 0;
        }
    }

    // ---------------------------------------------------------------- data calls, with host addresses

    public static long read(int fd, long addr, long count) {
        return syscall(SYS_read, fd, addr, count, 0, 0, 0);
    }

    public static long write(int fd, long addr, long count) {
        return syscall(SYS_write, fd, addr, count, 0, 0, 0);
    }

    public static long pread64(int fd, long addr, long count, long offset) {
        return syscall(SYS_pread64, fd, addr, count, offset, 0, 0);
    }

    public static long pwrite64(int fd, long addr, long count, long offset) {
        return syscall(SYS_pwrite64, fd, addr, count, offset, 0, 0);
    }

    public static long readv(int fd, long iov, int count) {
        return syscall(SYS_readv, fd, iov, count, 0, 0, 0);
    }

    public static long writev(int fd, long iov, int count) {
        return syscall(SYS_writev, fd, iov, count, 0, 0, 0);
    }

    public static long getdents64(int fd, long addr, long count) {
        return syscall(SYS_getdents64, fd, addr, count, 0, 0, 0);
    }
}
