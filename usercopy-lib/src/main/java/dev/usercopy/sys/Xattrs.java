package dev.usercopy.sys;

import dev.usercopy.mm.ErrnoException;
import dev.usercopy.platform.HostFiles;
import dev.usercopy.uaccess.UserCString;
import dev.usercopy.uaccess.UserSlice;
import dev.usercopy.uapi.Errno;

/**
 * Reading extended attributes ({@code getxattr}, {@code listxattr} and
 * their {@code l} and {@code f} forms), and statfs: the host's answer for
 * the file the guest names, looked up beneath the root like every path. The
 * host is asked through the looked-up descriptor's /proc/self/fd link,
 * which reaches that very file (for the {@code l} forms the symlink
 * itself). Linux's order (since 6.13): the name (EFAULT, ERANGE when empty
 * or 255 bytes or longer), the file (the lookup's errnos, EBADF), the host's answer
 * (ENODATA, ERANGE for a short buffer, whose size is first clipped to
 * XATTR_SIZE_MAX or XATTR_LIST_MAX), then the copy out (EFAULT). Setting and
 * removing attributes is not served (ENOSYS).
 */
final class Xattrs {
    /** XATTR_NAME_MAX + 1: the longest name with its NUL. */
    static final int NAME_BUFFER = 256;
    static final int XATTR_SIZE_MAX = 65536;
    static final int XATTR_LIST_MAX = 65536;

    private Xattrs() {}

    static void register(Syscalls.Registry r) {
        r.add(191, "getxattr", "sspu", t -> get(t, () -> pathFd(t, 0), t.arg(1), t.arg(2), t.arg(3)));
        r.add(192, "lgetxattr", "sspu", t -> get(t, () -> pathFd(t, HostFiles.AT_SYMLINK_NOFOLLOW), t.arg(1), t.arg(2), t.arg(3)));
        r.add(193, "fgetxattr", "fspu", t -> get(t, () -> ownFd(t), t.arg(1), t.arg(2), t.arg(3)));
        r.add(194, "listxattr", "spu", t -> list(t, pathFd(t, 0), t.arg(1), t.arg(2)));
        r.add(195, "llistxattr", "spu", t -> list(t, pathFd(t, HostFiles.AT_SYMLINK_NOFOLLOW), t.arg(1), t.arg(2)));
        r.add(196, "flistxattr", "fpu", t -> list(t, ownFd(t), t.arg(1), t.arg(2)));
        r.add(137, "statfs", "sp", t -> statfs(t, pathFd(t, 0), t.arg(1)));
        r.add(138, "fstatfs", "fp", t -> statfs(t, HostFiles.fcntl(t.files().get(t.intArg(0)).hostFd(), HostFiles.F_DUPFD_CLOEXEC, 3), t.arg(1)));
    }

    /** An O_PATH descriptor for the path in argument 0, or -errno. */
    private static long pathFd(Task t, int atFlags) {
        return FileInfo.resolve(t, HostFiles.AT_FDCWD, t.arg(0), atFlags);
    }

    /** A duplicate of argument 0's descriptor: EBADF when it is not open, or open with O_PATH (fdget refuses those). */
    private static long ownFd(Task t) {
        OpenFile f = t.files().get(t.intArg(0));
        if (f.isPath()) {
            return -Errno.EBADF.number();
        }
        return HostFiles.fcntl(f.hostFd(), HostFiles.F_DUPFD_CLOEXEC, 3);
    }

    private static byte[] link(long fd) {
        return FsContext.bytes("/proc/self/fd/" + fd);
    }

    /** The name first (Linux 6.13's path_getxattrat imports it before it looks at the file), then the file. */
    private static long get(Task t, java.util.function.LongSupplier file, long nameAddr, long value, long size) {
        byte[] name = name(t, nameAddr);
        long fd = file.getAsLong();
        if (fd < 0) {
            return fd;
        }
        try {
            byte[] buf = new byte[(int) Math.min(Long.compareUnsigned(size, XATTR_SIZE_MAX) > 0 ? XATTR_SIZE_MAX : size, XATTR_SIZE_MAX)];
            long r = HostFiles.getxattr(link(fd), name, buf);
            if (r > 0 && buf.length > 0) {
                UserSlice.wo(t.space(), value, r).copyFromSlice(java.util.Arrays.copyOf(buf, (int) r));
            }
            return r;
        } finally {
            HostFiles.close((int) fd);
        }
    }

    private static long list(Task t, long fd, long value, long size) {
        if (fd < 0) {
            return fd;
        }
        try {
            byte[] buf = new byte[(int) Math.min(Long.compareUnsigned(size, XATTR_LIST_MAX) > 0 ? XATTR_LIST_MAX : size, XATTR_LIST_MAX)];
            long r = HostFiles.listxattr(link(fd), buf);
            if (r > 0 && buf.length > 0) {
                UserSlice.wo(t.space(), value, r).copyFromSlice(java.util.Arrays.copyOf(buf, (int) r));
            }
            return r;
        } finally {
            HostFiles.close((int) fd);
        }
    }

    /** The attribute's name: ERANGE when empty or without a NUL in its first 256 bytes. */
    private static byte[] name(Task t, long addr) {
        byte[] name;
        try {
            name = UserCString.read(t.space(), addr, NAME_BUFFER);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENAMETOOLONG) {
                throw new ErrnoException(Errno.ERANGE, addr, NAME_BUFFER, "an extended attribute's name longer than 255 bytes");
            }
            throw e;
        }
        if (name.length == 0) {
            throw new ErrnoException(Errno.ERANGE, addr, 0, "an empty extended attribute name");
        }
        return name;
    }

    private static long statfs(Task t, long fd, long buf) {
        if (fd < 0) {
            return fd;
        }
        try {
            byte[] st = new byte[HostFiles.STATFS_SIZE];
            long r = HostFiles.fstatfs((int) fd, st);
            if (r < 0) {
                return r;
            }
            UserSlice.wo(t.space(), buf, HostFiles.STATFS_SIZE).copyFromSlice(st);
            return 0;
        } finally {
            HostFiles.close((int) fd);
        }
    }
}
