package dev.usercopy.sys;

import dev.usercopy.platform.HostFiles;
import dev.usercopy.uaccess.UserSlice;
import dev.usercopy.uapi.Errno;

import static dev.usercopy.platform.HostFiles.AT_EACCESS;
import static dev.usercopy.platform.HostFiles.AT_EMPTY_PATH;
import static dev.usercopy.platform.HostFiles.AT_FDCWD;
import static dev.usercopy.platform.HostFiles.AT_NO_AUTOMOUNT;
import static dev.usercopy.platform.HostFiles.AT_SYMLINK_NOFOLLOW;
import static dev.usercopy.platform.HostFiles.O_NOFOLLOW;

/**
 * What the guest asks about files without changing them: the stat family
 * and statx, getdents64, readlink, access. A path is looked up beneath the
 * root as {@link FsContext#lookup} does, then the host answers about that
 * descriptor; a struct comes back into a kernel buffer and is copied out,
 * as Linux's {@code cp_new_stat} copies its {@code kstat}. getdents64 is
 * the host's, straight into the guest's buffer (it fills it entry by entry,
 * so an unwritable buffer is EFAULT only when no entry fit).
 */
final class FileInfo {
    private FileInfo() {}

    private static final int AT_STATX_SYNC_TYPE = 0x6000;
    private static final int STATX_RESERVED = 0x80000000;
    private static final byte[] PROC_SELF_EXE = FsContext.bytes("/proc/self/exe");

    static void register(Syscalls.Registry r) {
        r.add(5, "fstat", "fp", t -> fstatat(t, t.intArg(0), 0, t.arg(1), AT_EMPTY_PATH, true));
        r.add(4, "stat", "sp", t -> fstatat(t, AT_FDCWD, t.arg(0), t.arg(1), 0, false));
        r.add(6, "lstat", "sp", t -> fstatat(t, AT_FDCWD, t.arg(0), t.arg(1), AT_SYMLINK_NOFOLLOW, false));
        r.add(262, "newfstatat", "fspx", t -> fstatat(t, t.intArg(0), t.arg(1), t.arg(2), t.intArg(3), false));
        r.add(332, "statx", "fsxxp", FileInfo::statx);
        r.add(217, "getdents64", "fpu", FileInfo::getdents64);
        r.add(89, "readlink", "spu", t -> readlinkat(t, AT_FDCWD, t.arg(0), t.arg(1), t.intArg(2)));
        r.add(267, "readlinkat", "fspu", t -> readlinkat(t, t.intArg(0), t.arg(1), t.arg(2), t.intArg(3)));
        r.add(21, "access", "so", t -> faccessat(t, AT_FDCWD, t.arg(0), t.intArg(1), 0));
        r.add(269, "faccessat", "fso", t -> faccessat(t, t.intArg(0), t.arg(1), t.intArg(2), 0));
        r.add(439, "faccessat2", "fsox", t -> faccessat(t, t.intArg(0), t.arg(1), t.intArg(2), t.intArg(3)));
    }

    /**
     * A host O_PATH descriptor (the caller closes it) for {@code dirfd} and
     * the path at guest {@code pathAddr}: with AT_EMPTY_PATH and an empty
     * path, a duplicate of {@code dirfd}'s own (or the working directory's).
     * Returns -errno where the lookup fails.
     */
    static long resolve(Task t, int dirfd, long pathAddr, int atFlags) {
        byte[] path = (atFlags & AT_EMPTY_PATH) != 0 ? Paths.readMaybeEmpty(t, pathAddr) : Paths.read(t, pathAddr);
        if (path.length == 0) {
            int host = dirfd == AT_FDCWD ? t.fs().cwdFd() : t.files().get(dirfd).hostFd();
            return HostFiles.fcntl(host, HostFiles.F_DUPFD_CLOEXEC, 3);
        }
        byte[] abs = t.fs().absolute(t.files(), dirfd, path);
        // stat follows /proc/self/exe to the program; lstat sees the link, which readlink reads
        if ((atFlags & AT_SYMLINK_NOFOLLOW) == 0) {
            abs = Paths.selfExe(t, abs);
        }
        return t.fs().lookup(abs, (atFlags & AT_SYMLINK_NOFOLLOW) != 0 ? O_NOFOLLOW : 0);
    }

    private static long fstatat(Task t, int dirfd, long pathAddr, long buf, int flags, boolean byFd) {
        if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)) != 0) {
            return -Errno.EINVAL.number();
        }
        byte[] stat = new byte[HostFiles.STAT_SIZE];
        long r;
        if (byFd) {
            r = HostFiles.fstatat(t.files().get(dirfd).hostFd(), new byte[0], stat, AT_EMPTY_PATH);
        } else {
            long fd = resolve(t, dirfd, pathAddr, flags);
            if (fd < 0) {
                return fd;
            }
            r = HostFiles.fstatat((int) fd, new byte[0], stat, AT_EMPTY_PATH);
            HostFiles.close((int) fd);
        }
        if (r < 0) {
            return r;
        }
        UserSlice.wo(t.space(), buf, HostFiles.STAT_SIZE).copyFromSlice(stat);
        return 0;
    }

    private static long statx(Task t) {
        int dirfd = t.intArg(0);
        int flags = t.intArg(2);
        int mask = t.intArg(3);
        if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)) != 0
                || (flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE || (mask & STATX_RESERVED) != 0) {
            return -Errno.EINVAL.number();
        }
        long fd = resolve(t, dirfd, t.arg(1), flags);
        if (fd < 0) {
            return fd;
        }
        byte[] buf = new byte[HostFiles.STATX_SIZE];
        long r = HostFiles.statx((int) fd, new byte[0], AT_EMPTY_PATH | (flags & AT_STATX_SYNC_TYPE), mask, buf);
        HostFiles.close((int) fd);
        if (r < 0) {
            return r;
        }
        UserSlice.wo(t.space(), t.arg(4), HostFiles.STATX_SIZE).copyFromSlice(buf);
        return 0;
    }

    /**
     * The host's getdents64 into the guest's buffer. {@code count} is an
     * unsigned int to Linux, which checks each entry's bytes as it writes
     * it, not the whole count: the slice is cut at the end of user space
     * (the host then stops where the guest's pages do).
     */
    private static long getdents64(Task t) {
        OpenFile f = t.files().get(t.intArg(0));
        if (f.isPath()) {
            return -Errno.EBADF.number();
        }
        long addr = t.arg(1);
        long count = Integer.toUnsignedLong(t.intArg(2));
        long size = t.space().size();
        if (addr >= 0 && addr < size) {
            count = Math.min(count, size - addr);
        }
        return UserSlice.wo(t.space(), addr, count).readDirectoryFrom(f.hostFd());
    }

    /** readlink: {@code /proc/self/exe} is the program's guest path; other links are the host's, looked up beneath the root. */
    private static long readlinkat(Task t, int dirfd, long pathAddr, long buf, int bufsiz) {
        if (bufsiz <= 0) {
            return -Errno.EINVAL.number(); // before the path, as Linux's do_readlinkat
        }
        byte[] path = Paths.readMaybeEmpty(t, pathAddr);
        byte[] target;
        if (path.length > 0 && java.util.Arrays.equals(t.fs().absolute(t.files(), dirfd, path), PROC_SELF_EXE)) {
            target = FsContext.bytes(t.exe());
        } else {
            long fd = resolve(t, dirfd, pathAddr, AT_SYMLINK_NOFOLLOW | (path.length == 0 ? AT_EMPTY_PATH : 0));
            if (fd < 0) {
                return fd;
            }
            try {
                byte[] stat = new byte[HostFiles.STAT_SIZE];
                HostFiles.fstatat((int) fd, new byte[0], stat, AT_EMPTY_PATH);
                if (Stat.type(stat) != HostFiles.S_IFLNK) {
                    return path.length == 0 ? -Errno.ENOENT.number() : -Errno.EINVAL.number();
                }
                byte[] got = new byte[Math.min(bufsiz, FsContext.PATH_MAX)];
                long n = HostFiles.readlinkat((int) fd, new byte[0], got);
                if (n < 0) {
                    return n;
                }
                target = java.util.Arrays.copyOf(got, (int) n);
            } finally {
                HostFiles.close((int) fd);
            }
        }
        int n = Math.min(target.length, bufsiz);
        UserSlice.wo(t.space(), buf, n).copyFromSlice(java.util.Arrays.copyOf(target, n));
        return n;
    }

    /**
     * access and faccessat(2): W_OK on a file outside the writable
     * directory is EROFS (a regular file, directory or symlink on a
     * read-only mount), checked before the permission bits, as Linux's
     * {@code sb_permission} is; the rest is the host's answer.
     */
    private static long faccessat(Task t, int dirfd, long pathAddr, int mode, int flags) {
        if ((mode & ~(HostFiles.R_OK | HostFiles.W_OK | HostFiles.X_OK)) != 0
                || (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) {
            return -Errno.EINVAL.number();
        }
        byte[] path = (flags & AT_EMPTY_PATH) != 0 ? Paths.readMaybeEmpty(t, pathAddr) : Paths.read(t, pathAddr);
        long fd = resolve(t, dirfd, pathAddr, flags);
        if (fd < 0) {
            return fd;
        }
        try {
            if ((mode & HostFiles.W_OK) != 0) {
                byte[] stat = new byte[HostFiles.STAT_SIZE];
                HostFiles.fstatat((int) fd, new byte[0], stat, AT_EMPTY_PATH);
                int type = Stat.type(stat);
                boolean onMount = type == HostFiles.S_IFREG || type == HostFiles.S_IFDIR || type == HostFiles.S_IFLNK;
                byte[] abs = path.length == 0 ? t.fs().guestPathOf((int) fd) : t.fs().absolute(t.files(), dirfd, path);
                if (onMount && t.fs().writableRelative(abs) == null) {
                    return -Errno.EROFS.number();
                }
            }
            return HostFiles.faccessat2((int) fd, new byte[0], mode, AT_EMPTY_PATH | (flags & AT_EACCESS));
        } finally {
            HostFiles.close((int) fd);
        }
    }
}
