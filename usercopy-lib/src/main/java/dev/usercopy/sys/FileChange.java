package dev.usercopy.sys;

import dev.usercopy.platform.HostFiles;
import dev.usercopy.uapi.Errno;

import static dev.usercopy.platform.HostFiles.AT_EMPTY_PATH;
import static dev.usercopy.platform.HostFiles.AT_FDCWD;
import static dev.usercopy.platform.HostFiles.AT_REMOVEDIR;
import static dev.usercopy.platform.HostFiles.AT_SYMLINK_NOFOLLOW;
import static dev.usercopy.platform.HostFiles.O_DIRECTORY;
import static dev.usercopy.platform.HostFiles.O_PATH;
import static dev.usercopy.platform.HostFiles.O_WRONLY;

/**
 * The calls that change the file system: mkdir, unlink, rmdir, rename,
 * symlink, chmod, truncate (and their *at forms, fchmod, ftruncate).
 * Beneath the writable directory they are the host's, on a parent
 * directory looked up from that directory with RESOLVE_BENEATH; anywhere
 * else the guest gets what a read-only mount answers, in Linux's order:
 * the lookup's errors and EEXIST first where Linux checks them first, then
 * EROFS; a rename between the two is EXDEV, as between two mounts.
 */
final class FileChange {
    private FileChange() {}

    static void register(Syscalls.Registry r) {
        r.add(83, "mkdir", "so", t -> mkdirat(t, AT_FDCWD, t.arg(0), t.intArg(1)));
        r.add(258, "mkdirat", "fso", t -> mkdirat(t, t.intArg(0), t.arg(1), t.intArg(2)));
        r.add(87, "unlink", "s", t -> unlinkat(t, AT_FDCWD, t.arg(0), 0));
        r.add(84, "rmdir", "s", t -> unlinkat(t, AT_FDCWD, t.arg(0), AT_REMOVEDIR));
        r.add(263, "unlinkat", "fsx", t -> unlinkat(t, t.intArg(0), t.arg(1), t.intArg(2)));
        r.add(82, "rename", "ss", t -> renameat2(t, AT_FDCWD, t.arg(0), AT_FDCWD, t.arg(1), 0));
        r.add(264, "renameat", "fsfs", t -> renameat2(t, t.intArg(0), t.arg(1), t.intArg(2), t.arg(3), 0));
        r.add(316, "renameat2", "fsfsx", t -> renameat2(t, t.intArg(0), t.arg(1), t.intArg(2), t.arg(3), t.intArg(4)));
        r.add(88, "symlink", "ss", t -> symlinkat(t, t.arg(0), AT_FDCWD, t.arg(1)));
        r.add(266, "symlinkat", "sfs", t -> symlinkat(t, t.arg(0), t.intArg(1), t.arg(2)));
        r.add(90, "chmod", "so", t -> fchmodat(t, AT_FDCWD, t.arg(0), t.intArg(1)));
        r.add(268, "fchmodat", "fso", t -> fchmodat(t, t.intArg(0), t.arg(1), t.intArg(2)));
        r.add(91, "fchmod", "fo", FileChange::fchmod);
        r.add(76, "truncate", "sd", FileChange::truncate);
        r.add(77, "ftruncate", "fd", FileChange::ftruncate);
        r.add(280, "utimensat", "fspx", FileChange::utimensat);
        r.add(133, "mknod", "sox", t -> mknodat(t, AT_FDCWD, t.arg(0), t.intArg(1)));
        r.add(259, "mknodat", "fsox", t -> mknodat(t, t.intArg(0), t.arg(1), t.intArg(2)));
    }

    static final int S_IFMT = 0170000, S_IFSOCK = 0140000, S_IFREG = 0100000, S_IFBLK = 060000, S_IFDIR = 040000,
            S_IFCHR = 020000, S_IFIFO = 010000;

    /**
     * mknod, in Linux's order: the type (EPERM for a directory, EINVAL for
     * no file type), the path as mkdir takes it (EEXIST, then EROFS outside
     * the writable directory), then, for a character or block device, EPERM:
     * a guest has no CAP_MKNOD here, whatever its uid (a device node beneath
     * --rw would be a door to the host's devices). A FIFO, a socket inode or
     * a regular file is the host's, with the guest's umask.
     */
    private static long mknodat(Task t, int dirfd, long pathAddr, int mode) {
        int type = mode & S_IFMT;
        if (type == S_IFDIR) {
            return -Errno.EPERM.number();
        }
        if (type != 0 && type != S_IFREG && type != S_IFCHR && type != S_IFBLK && type != S_IFIFO && type != S_IFSOCK) {
            return -Errno.EINVAL.number();
        }
        if (type == S_IFCHR || type == S_IFBLK) {
            return create(t, dirfd, pathAddr, 0, (parent, name, perm) ->
                    HostFiles.fstatat(parent, name, new byte[HostFiles.STAT_SIZE], AT_SYMLINK_NOFOLLOW) == 0
                            ? -Errno.EEXIST.number() : -Errno.EPERM.number());
        }
        return create(t, dirfd, pathAddr, mode & 07777,
                (parent, name, perm) -> HostFiles.mknodat(parent, name, (type == 0 ? S_IFREG : type) | perm));
    }

    /** Makes a name in a parent directory: the host's call, or -errno. */
    private interface Make {
        long at(int parentFd, byte[] name, int perm);
    }

    /**
     * Creates the name at {@code pathAddr} as mkdir and mknod do: outside
     * the writable directory a read-only mount's answer (EEXIST first);
     * beneath it {@code make} on the parent, with {@code mode} less the
     * guest's umask, then that permission set again (the host applied the
     * JVM's umask as well).
     */
    private static long create(Task t, int dirfd, long pathAddr, int mode, Make make) {
        Target target = target(t, dirfd, pathAddr);
        if (target.parentRel() == null) {
            return readOnly(t, target, true);
        }
        long p = parent(t, target);
        if (p < 0) {
            return p;
        }
        try {
            int perm = mode & ~t.fs().umask();
            long r = make.at((int) p, target.name(), perm);
            if (r == 0) {
                HostFiles.fchmodat((int) p, target.name(), perm);
            }
            return r;
        } finally {
            HostFiles.close((int) p);
        }
    }

    static final long UTIME_NOW = (1L << 30) - 1;
    static final long UTIME_OMIT = (1L << 30) - 2;

    /** nsec_valid: a nanosecond count, or UTIME_NOW or UTIME_OMIT. */
    private static boolean nsecValid(long nsec) {
        return nsec == UTIME_NOW || nsec == UTIME_OMIT || nsec >= 0 && nsec <= 999_999_999L;
    }

    /**
     * utimensat, in Linux's order: the times (EFAULT; both UTIME_OMIT: done,
     * not even the path looked at); a NULL path with a descriptor is that
     * descriptor's file (flags EINVAL, then the times' nanoseconds EINVAL,
     * then EBADF, O_PATH ones included); else the flags, the nanoseconds,
     * the lookup (AT_EMPTY_PATH: the descriptor's file), then EROFS outside
     * the writable directory. Beneath it, the host's on the looked-up file.
     */
    private static long utimensat(Task t) {
        int dirfd = t.intArg(0);
        long pathAddr = t.arg(1);
        long timesAddr = t.arg(2);
        int flags = t.intArg(3);
        long[] times = null;
        if (timesAddr != 0) {
            java.nio.ByteBuffer b = GuestMemory.read(t, timesAddr, 32);
            times = new long[] {b.getLong(0), b.getLong(8), b.getLong(16), b.getLong(24)};
            if (times[1] == UTIME_OMIT && times[3] == UTIME_OMIT) {
                return 0;
            }
        }
        boolean nsecOk = times == null || nsecValid(times[1]) && nsecValid(times[3]);
        if (pathAddr == 0 && dirfd != AT_FDCWD) {
            if (flags != 0 || !nsecOk) {
                return -Errno.EINVAL.number();
            }
            OpenFile f = t.files().get(dirfd);
            if (f.isPath()) {
                return -Errno.EBADF.number();
            }
            return beneathRw(t, f.hostFd()) ? HostFiles.utimensat(f.hostFd(), null, times, 0) : -Errno.EROFS.number();
        }
        if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0 || !nsecOk) {
            return -Errno.EINVAL.number();
        }
        byte[] path = (flags & AT_EMPTY_PATH) != 0 ? Paths.readMaybeEmpty(t, pathAddr) : Paths.read(t, pathAddr);
        int follow = (flags & AT_SYMLINK_NOFOLLOW) != 0 ? HostFiles.O_NOFOLLOW : 0;
        long f;
        if (path.length == 0) {
            int host = dirfd == AT_FDCWD ? t.fs().cwdFd() : t.files().get(dirfd).hostFd();
            if (!beneathRw(t, host)) {
                return -Errno.EROFS.number();
            }
            f = HostFiles.fcntl(host, HostFiles.F_DUPFD_CLOEXEC, 3);
        } else {
            byte[] abs = t.fs().absolute(t.files(), dirfd, path);
            byte[] rel = t.fs().writableRelative(abs);
            if (rel == null) {
                f = t.fs().lookup(abs, follow);
                if (f >= 0) {
                    HostFiles.close((int) f);
                    return -Errno.EROFS.number();
                }
                return f;
            }
            f = t.fs().openWritable(rel, O_PATH | follow, 0);
        }
        if (f < 0) {
            return f;
        }
        try {
            return HostFiles.utimensat((int) f, new byte[0], times, AT_EMPTY_PATH | (flags & AT_SYMLINK_NOFOLLOW));
        } finally {
            HostFiles.close((int) f);
        }
    }

    /** Whether the file open at host descriptor {@code fd} lies beneath the writable directory. */
    private static boolean beneathRw(Task t, int fd) {
        try {
            return t.fs().writableRelative(t.fs().guestPathOf(fd)) != null;
        } catch (dev.usercopy.mm.ErrnoException e) {
            return false;
        }
    }

    /** A path taken apart: its absolute guest path, its parent's path relative to the writable directory (or null), its last component. */
    private record Target(byte[] abs, byte[] parentRel, byte[] name) {}

    private static Target target(Task t, int dirfd, long pathAddr) {
        byte[] abs = t.fs().absolute(t.files(), dirfd, Paths.read(t, pathAddr));
        return new Target(abs, t.fs().writableRelative(Paths.parent(abs)), Paths.name(abs));
    }

    /** The parent of {@code target} beneath the writable directory: a host O_PATH descriptor, or -errno. */
    private static long parent(Task t, Target target) {
        return t.fs().openWritable(target.parentRel(), O_PATH | O_DIRECTORY, 0);
    }

    /** Outside the writable directory: the parent's lookup error, else EEXIST when {@code existsFirst} and the name exists, else EROFS. */
    private static long readOnly(Task t, Target target, boolean existsFirst) {
        long p = t.fs().lookup(Paths.parent(target.abs()), O_DIRECTORY);
        if (p < 0) {
            return p;
        }
        HostFiles.close((int) p);
        if (existsFirst) {
            long f = t.fs().lookup(target.abs(), HostFiles.O_NOFOLLOW);
            if (f >= 0) {
                HostFiles.close((int) f);
                return -Errno.EEXIST.number();
            }
        }
        return -Errno.EROFS.number();
    }

    private static boolean dotOrDotDot(byte[] name) {
        int n = name.length;
        while (n > 1 && name[n - 1] == '/') {
            n--;
        }
        return (n == 1 && name[0] == '.') || (n == 2 && name[0] == '.' && name[1] == '.');
    }

    private static long mkdirat(Task t, int dirfd, long pathAddr, int mode) {
        return create(t, dirfd, pathAddr, mode & 01777, HostFiles::mkdirat);
    }

    private static long unlinkat(Task t, int dirfd, long pathAddr, int flags) {
        if ((flags & ~AT_REMOVEDIR) != 0) {
            return -Errno.EINVAL.number();
        }
        Target target = target(t, dirfd, pathAddr);
        if (target.parentRel() == null) {
            if (dotOrDotDot(target.name())) {
                // Linux judges the last component before it asks for write access to the mount.
                long p = t.fs().lookup(Paths.parent(target.abs()), O_DIRECTORY);
                if (p < 0) {
                    return p;
                }
                HostFiles.close((int) p);
                boolean dot = target.name()[0] == '.' && (target.name().length == 1 || target.name()[1] != '.');
                return (flags & AT_REMOVEDIR) == 0 ? -Errno.EISDIR.number() : dot ? -Errno.EINVAL.number() : -Errno.ENOTEMPTY.number();
            }
            return readOnly(t, target, false);
        }
        long p = parent(t, target);
        if (p < 0) {
            return p;
        }
        try {
            return HostFiles.unlinkat((int) p, target.name(), flags);
        } finally {
            HostFiles.close((int) p);
        }
    }

    private static long renameat2(Task t, int olddirfd, long oldAddr, int newdirfd, long newAddr, int flags) {
        if ((flags & ~(HostFiles.RENAME_NOREPLACE | HostFiles.RENAME_EXCHANGE | HostFiles.RENAME_WHITEOUT)) != 0
                || ((flags & HostFiles.RENAME_NOREPLACE) != 0 && (flags & HostFiles.RENAME_EXCHANGE) != 0)
                || ((flags & HostFiles.RENAME_WHITEOUT) != 0 && (flags & HostFiles.RENAME_EXCHANGE) != 0)) {
            return -Errno.EINVAL.number();
        }
        if ((flags & HostFiles.RENAME_WHITEOUT) != 0) {
            return -Errno.EPERM.number(); // a whiteout is a device node: not a guest's to make
        }
        Target from = target(t, olddirfd, oldAddr);
        Target to = target(t, newdirfd, newAddr);
        if (from.parentRel() == null || to.parentRel() == null) {
            long p = t.fs().lookup(Paths.parent(from.abs()), O_DIRECTORY);
            if (p < 0) {
                return p;
            }
            HostFiles.close((int) p);
            p = t.fs().lookup(Paths.parent(to.abs()), O_DIRECTORY);
            if (p < 0) {
                return p;
            }
            HostFiles.close((int) p);
            if (dotOrDotDot(from.name()) || dotOrDotDot(to.name())) {
                return -Errno.EBUSY.number();
            }
            return (from.parentRel() == null) != (to.parentRel() == null) ? -Errno.EXDEV.number() : -Errno.EROFS.number();
        }
        long p1 = parent(t, from);
        if (p1 < 0) {
            return p1;
        }
        try {
            long p2 = parent(t, to);
            if (p2 < 0) {
                return p2;
            }
            try {
                return HostFiles.renameat2((int) p1, from.name(), (int) p2, to.name(), flags);
            } finally {
                HostFiles.close((int) p2);
            }
        } finally {
            HostFiles.close((int) p1);
        }
    }

    private static long symlinkat(Task t, long targetAddr, int newdirfd, long linkAddr) {
        byte[] content = Paths.read(t, targetAddr);
        Target link = target(t, newdirfd, linkAddr);
        if (link.parentRel() == null) {
            return readOnly(t, link, true);
        }
        long p = parent(t, link);
        if (p < 0) {
            return p;
        }
        try {
            return HostFiles.symlinkat(content, (int) p, link.name());
        } finally {
            HostFiles.close((int) p);
        }
    }

    /** The file at a writable path, looked up beneath the writable directory (following symlinks there): a host O_PATH descriptor or -errno. */
    private static long writableFile(Task t, byte[] abs) {
        return t.fs().openWritable(t.fs().writableRelative(abs), O_PATH, 0);
    }

    private static long fchmodat(Task t, int dirfd, long pathAddr, int mode) {
        byte[] abs = t.fs().absolute(t.files(), dirfd, Paths.read(t, pathAddr));
        if (t.fs().writableRelative(abs) == null) {
            long f = t.fs().lookup(abs, 0);
            if (f < 0) {
                return f;
            }
            HostFiles.close((int) f);
            return -Errno.EROFS.number();
        }
        long f = writableFile(t, abs);
        if (f < 0) {
            return f;
        }
        try {
            return HostFiles.fchmodat(AT_FDCWD, FsContext.bytes("/proc/self/fd/" + f), mode & 07777);
        } finally {
            HostFiles.close((int) f);
        }
    }

    /** fchmod: the host's on a file beneath the writable directory; EROFS for any other (the guest's stdio included). */
    private static long fchmod(Task t) {
        OpenFile f = t.files().get(t.intArg(0));
        if (f.isPath()) {
            return -Errno.EBADF.number();
        }
        byte[] abs;
        try {
            abs = t.fs().guestPathOf(f.hostFd());
        } catch (dev.usercopy.mm.ErrnoException e) {
            return -Errno.EROFS.number();
        }
        if (t.fs().writableRelative(abs) == null) {
            return -Errno.EROFS.number();
        }
        return HostFiles.fchmod(f.hostFd(), t.intArg(1) & 07777);
    }

    private static long truncate(Task t) {
        long length = t.arg(1);
        byte[] abs = t.fs().absolute(t.files(), AT_FDCWD, Paths.read(t, t.arg(0)));
        if (length < 0) {
            return -Errno.EINVAL.number();
        }
        boolean writable = t.fs().writableRelative(abs) != null;
        long f = writable ? writableFile(t, abs) : t.fs().lookup(abs, 0);
        if (f < 0) {
            return f;
        }
        try {
            int type = FileOpen.typeOf((int) f);
            if (type == HostFiles.S_IFDIR) {
                return -Errno.EISDIR.number();
            }
            if (type != HostFiles.S_IFREG) {
                return -Errno.EINVAL.number();
            }
            if (!writable) {
                return -Errno.EROFS.number();
            }
            long w = HostFiles.openat(AT_FDCWD, FsContext.bytes("/proc/self/fd/" + f), O_WRONLY | HostFiles.O_CLOEXEC | HostFiles.O_NOCTTY, 0);
            if (w < 0) {
                return w;
            }
            try {
                return HostFiles.ftruncate((int) w, length);
            } finally {
                HostFiles.close((int) w);
            }
        } finally {
            HostFiles.close((int) f);
        }
    }

    /** ftruncate: the host's, on a description open for writing (EINVAL otherwise, as Linux); those exist only where the guest may write. */
    private static long ftruncate(Task t) {
        OpenFile f = t.files().get(t.intArg(0));
        if (f.isPath()) {
            return -Errno.EBADF.number();
        }
        if (!f.writable()) {
            return -Errno.EINVAL.number();
        }
        return HostFiles.ftruncate(f.hostFd(), t.arg(1));
    }
}
