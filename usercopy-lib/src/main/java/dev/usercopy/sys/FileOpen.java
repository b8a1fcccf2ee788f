package dev.usercopy.sys;

import dev.usercopy.platform.HostFiles;
import dev.usercopy.uapi.Errno;

import static dev.usercopy.platform.HostFiles.AT_FDCWD;
import static dev.usercopy.platform.HostFiles.O_ACCMODE;
import static dev.usercopy.platform.HostFiles.O_APPEND;
import static dev.usercopy.platform.HostFiles.O_CLOEXEC;
import static dev.usercopy.platform.HostFiles.O_CREAT;
import static dev.usercopy.platform.HostFiles.O_DIRECT;
import static dev.usercopy.platform.HostFiles.O_DIRECTORY;
import static dev.usercopy.platform.HostFiles.O_DSYNC;
import static dev.usercopy.platform.HostFiles.O_EXCL;
import static dev.usercopy.platform.HostFiles.O_NOATIME;
import static dev.usercopy.platform.HostFiles.O_NOCTTY;
import static dev.usercopy.platform.HostFiles.O_NOFOLLOW;
import static dev.usercopy.platform.HostFiles.O_NONBLOCK;
import static dev.usercopy.platform.HostFiles.O_PATH;
import static dev.usercopy.platform.HostFiles.O_RDONLY;
import static dev.usercopy.platform.HostFiles.O_SYNC;
import static dev.usercopy.platform.HostFiles.O_TMPFILE;
import static dev.usercopy.platform.HostFiles.O_TRUNC;
import static dev.usercopy.platform.HostFiles.O_WRONLY;

/**
 * open, openat, creat and close. A guest open is two host calls: a lookup
 * beneath the root ({@link FsContext#lookup}, O_PATH, which opens nothing
 * and so sets nothing off), then, once the file is one a guest may open, a
 * reopen of that very inode through {@code /proc/self/fd} with the guest's
 * flags, filtered. Writing intents (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC,
 * O_TMPFILE; O_RDONLY|O_TRUNC included) go beneath the writable directory
 * only; elsewhere the guest gets what a read-only mount answers: ENOENT for
 * a missing file it does not create, EEXIST, EISDIR, then EROFS.
 *
 * <p>Device files: the few every program uses (null, zero, full, random,
 * urandom, tty) open; any other is EACCES, as on a {@code nodev} mount (so a
 * guest of a root JVM cannot read /dev/mem or a disk). The host flags never
 * carry O_ASYNC (its SIGIO would go to the JVM), O_DIRECT (the host would
 * pin guest frames past an munmap) or a missing O_NOCTTY (the JVM must not
 * gain a controlling terminal).
 */
final class FileOpen {
    private FileOpen() {}

    private static final int FASYNC = 020000;
    private static final int O_LARGEFILE = 0100000;
    /** Linux's VALID_OPEN_FLAGS: open and openat drop any other bit. */
    static final int VALID = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC | FASYNC
            | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_SYNC | O_PATH | O_TMPFILE;
    private static final int PATH_FLAGS = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;

    /** (major, minor) of the devices a guest may open for reading, and of those it may open for writing. */
    private static final long[][] READABLE_DEVICES = {{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}};
    private static final long[][] WRITABLE_DEVICES = {{1, 3}, {1, 5}, {1, 7}, {5, 0}};

    static void register(Syscalls.Registry r) {
        r.add(2, "open", "sxo", t -> openat(t, AT_FDCWD, t.arg(0), t.intArg(1), t.intArg(2)));
        r.add(257, "openat", "fsxo", t -> openat(t, t.intArg(0), t.arg(1), t.intArg(2), t.intArg(3)));
        r.add(85, "creat", "so", t -> openat(t, AT_FDCWD, t.arg(0), O_CREAT | O_WRONLY | O_TRUNC, t.intArg(1)));
        r.add(3, "close", "f", t -> {
            t.files().close(t.intArg(0));
            return 0;
        });
    }

    static long openat(Task t, int dirfd, long pathAddr, int flags, int mode) {
        flags &= VALID;
        if ((flags & O_TMPFILE) == O_TMPFILE) {
            // Linux: O_TMPFILE needs O_DIRECTORY (it includes it), no O_CREAT, and a writing mode.
            if ((flags & O_CREAT) != 0 || (flags & O_ACCMODE) == O_RDONLY) {
                return -Errno.EINVAL.number();
            }
        } else if ((flags & O_TMPFILE & ~O_DIRECTORY) != 0) {
            return -Errno.EINVAL.number(); // __O_TMPFILE without O_DIRECTORY
        }
        if ((flags & O_PATH) != 0) {
            flags &= PATH_FLAGS;
        }
        mode = (flags & (O_CREAT | O_TMPFILE & ~O_DIRECTORY)) != 0 ? mode & 07777 : 0;
        t.files().checkFree(); // Linux takes the descriptor before it looks the path up: EMFILE first
        byte[] path = Paths.read(t, pathAddr);
        byte[] abs = Paths.selfExe(t, t.fs().absolute(t.files(), dirfd, path));
        boolean tmpfile = (flags & O_TMPFILE) == O_TMPFILE;
        boolean writes = (flags & O_PATH) == 0
                && ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)) != 0 || tmpfile);
        int host = flags & ~(FASYNC | O_DIRECT | O_CLOEXEC) | O_NOCTTY;
        long fd;
        if (!writes) {
            fd = openReading(t.fs(), abs, host);
        } else if (t.fs().writableRelative(abs) != null) {
            fd = openWritable(t.fs(), t.fs().writableRelative(abs), host, mode, tmpfile);
        } else {
            fd = readOnlyMount(t.fs(), abs, host);
        }
        if (fd < 0) {
            return fd;
        }
        int type = typeOf((int) fd);
        OpenFile file = new OpenFile((int) fd, (flags & O_PATH) != 0 ? OpenFile.PATH : flags & O_ACCMODE, type);
        return t.files().install(file, (flags & O_CLOEXEC) != 0);
    }

    static int typeOf(int hostFd) {
        byte[] stat = new byte[HostFiles.STAT_SIZE];
        HostFiles.fstatat(hostFd, new byte[0], stat, HostFiles.AT_EMPTY_PATH);
        return Stat.type(stat);
    }

    /** An open that does not write: the lookup, the checks, the reopen (or the O_PATH descriptor itself). */
    private static long openReading(FsContext fs, byte[] abs, int flags) {
        long p = fs.lookup(abs, flags & (O_NOFOLLOW | O_DIRECTORY));
        if (p < 0 || (flags & O_PATH) != 0) {
            return p;
        }
        return reopen((int) p, flags, READABLE_DEVICES);
    }

    /**
     * Opens the file at O_PATH descriptor {@code p} (closed here) anew with
     * {@code flags}, unless it is a symlink (O_NOFOLLOW: ELOOP) or a device
     * not in {@code devices} (EACCES).
     */
    private static long reopen(int p, int flags, long[][] devices) {
        try {
            byte[] stat = new byte[HostFiles.STAT_SIZE];
            long r = HostFiles.fstatat(p, new byte[0], stat, HostFiles.AT_EMPTY_PATH);
            if (r < 0) {
                return r;
            }
            int type = Stat.type(stat);
            if (type == HostFiles.S_IFLNK) {
                return -Errno.ELOOP.number();
            }
            if ((type == HostFiles.S_IFCHR || type == HostFiles.S_IFBLK) && !(type == HostFiles.S_IFCHR && listed(Stat.rdev(stat), devices))) {
                return -Errno.EACCES.number();
            }
            int again = flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW) | O_CLOEXEC;
            return HostFiles.openat(AT_FDCWD, FsContext.bytes("/proc/self/fd/" + p), again, 0);
        } finally {
            HostFiles.close(p);
        }
    }

    private static boolean listed(long rdev, long[][] devices) {
        long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
        long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
        for (long[] d : devices) {
            if (d[0] == major && d[1] == minor) {
                return true;
            }
        }
        return false;
    }

    /**
     * A writing open beneath the writable directory ({@code rel} relative to
     * it): an existing file is looked up and reopened as above; a missing one
     * with O_CREAT is created with O_EXCL, then given exactly the guest's
     * mode less the guest's umask (the host applied the JVM's umask too).
     */
    private static long openWritable(FsContext fs, byte[] rel, int flags, int mode, boolean tmpfile) {
        int perm = mode & ~fs.umask();
        if (tmpfile) {
            return fs.openWritable(rel, flags, perm);
        }
        boolean create = (flags & O_CREAT) != 0;
        boolean exclusive = create && (flags & O_EXCL) != 0;
        long p = fs.openWritable(rel, O_PATH | flags & (O_NOFOLLOW | O_DIRECTORY) | (exclusive ? O_NOFOLLOW : 0), 0);
        if (p >= 0) {
            if (exclusive) {
                HostFiles.close((int) p);
                return -Errno.EEXIST.number();
            }
            return reopen((int) p, flags, WRITABLE_DEVICES);
        }
        if (p != -Errno.ENOENT.number() || !create) {
            return p;
        }
        long fd = fs.openWritable(rel, flags | O_EXCL, perm);
        if (fd >= 0) {
            HostFiles.fchmod((int) fd, perm);
            return fd;
        }
        if (fd == -Errno.EEXIST.number() && !exclusive) {
            // A dangling symlink (O_EXCL does not follow it) or a racing creator: the plain open follows, beneath the directory.
            return fs.openWritable(rel, flags, perm);
        }
        return fd;
    }

    /** A writing open outside the writable directory: what a read-only mount answers, in Linux's order. */
    private static long readOnlyMount(FsContext fs, byte[] abs, int flags) {
        return readOnlyMount(fs, abs, flags, 0);
    }

    /** Linux follows a dangling symlink to create its target: where that would be decides ENOENT or EROFS. */
    private static final int MAXSYMLINKS = 40;

    private static long readOnlyMount(FsContext fs, byte[] abs, int flags, int links) {
        boolean create = (flags & O_CREAT) != 0;
        boolean exclusive = create && (flags & O_EXCL) != 0;
        long p = fs.lookup(abs, flags & (O_NOFOLLOW | O_DIRECTORY) | (exclusive ? O_NOFOLLOW : 0));
        if (p == -Errno.ENOENT.number() && create) {
            byte[] target = danglingTarget(fs, abs);
            if (target != null) {
                return links >= MAXSYMLINKS ? -Errno.ELOOP.number() : readOnlyMount(fs, target, flags, links + 1);
            }
            long parent = fs.lookup(Paths.parent(abs), O_DIRECTORY);
            if (parent < 0) {
                return parent;
            }
            HostFiles.close((int) parent);
            return -Errno.EROFS.number();
        }
        if (p < 0) {
            return p;
        }
        byte[] stat = new byte[HostFiles.STAT_SIZE];
        HostFiles.fstatat((int) p, new byte[0], stat, HostFiles.AT_EMPTY_PATH);
        int type = Stat.type(stat);
        if (exclusive) {
            HostFiles.close((int) p);
            return -Errno.EEXIST.number();
        }
        if (type == HostFiles.S_IFCHR && listed(Stat.rdev(stat), WRITABLE_DEVICES)) {
            return reopen((int) p, flags & ~O_TRUNC, WRITABLE_DEVICES);
        }
        HostFiles.close((int) p);
        return switch (type) {
            case HostFiles.S_IFDIR -> -Errno.EISDIR.number();
            case HostFiles.S_IFLNK -> -Errno.ELOOP.number();
            case HostFiles.S_IFCHR, HostFiles.S_IFBLK -> -Errno.EACCES.number();
            default -> -Errno.EROFS.number(); // regular files; FIFOs and sockets too, stricter than a read-only mount
        };
    }

    /** When {@code abs} is a symlink (to nothing, as the caller found): the absolute guest path it points at; else null. */
    private static byte[] danglingTarget(FsContext fs, byte[] abs) {
        long l = fs.lookup(abs, O_NOFOLLOW);
        if (l < 0) {
            return null;
        }
        try {
            byte[] buf = new byte[FsContext.PATH_MAX];
            long n = HostFiles.readlinkat((int) l, new byte[0], buf);
            if (n <= 0) {
                return null;
            }
            byte[] target = java.util.Arrays.copyOf(buf, (int) n);
            if (target[0] == '/') {
                return target;
            }
            byte[] dir = Paths.parent(abs);
            byte[] out = java.util.Arrays.copyOf(dir, dir.length + 1 + target.length);
            out[dir.length] = '/';
            System.arraycopy(target, 0, out, dir.length + 1, target.length);
            return out;
        } finally {
            HostFiles.close((int) l);
        }
    }
}
