package dev.usercopy.sys;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

import dev.usercopy.mm.ErrnoException;
import dev.usercopy.platform.HostFiles;
import dev.usercopy.uapi.Errno;

import static dev.usercopy.platform.HostFiles.AT_FDCWD;
import static dev.usercopy.platform.HostFiles.O_CLOEXEC;
import static dev.usercopy.platform.HostFiles.O_DIRECTORY;
import static dev.usercopy.platform.HostFiles.O_PATH;
import static dev.usercopy.platform.HostFiles.RESOLVE_BENEATH;
import static dev.usercopy.platform.HostFiles.RESOLVE_IN_ROOT;
import static dev.usercopy.platform.HostFiles.RESOLVE_NO_MAGICLINKS;

/**
 * A guest's view of the file system, as a chroot gives it: a root
 * directory, beneath which every guest path resolves; an optional writable
 * directory beneath it (the rest reads as a read-only mount); the working
 * directory; the umask.
 *
 * <p>Every lookup is the host kernel's {@code openat2} from a descriptor of
 * the root with {@code RESOLVE_IN_ROOT}: {@code ..} and symlinks, absolute
 * ones included, stay beneath the root as they would in a chroot.
 * {@code RESOLVE_NO_MAGICLINKS} refuses {@code /proc/self/fd}-style links
 * (they would be the JVM's). A path relative to a directory is made
 * absolute first with the guest path of that directory (its host path, from
 * {@code /proc/self/fd}, less the root's), so {@code ..} from it can climb
 * to the root, as Linux's does, and no further. Writes resolve from a
 * descriptor of the writable directory with {@code RESOLVE_BENEATH}, so no
 * {@code ..} or symlink takes them out of it.
 */
public final class FsContext {
    private static final int X_OK = 1;
    /** Linux's PATH_MAX: a path of this many bytes without its NUL is ENAMETOOLONG. */
    static final int PATH_MAX = 4096;
    private static final long PROC_SUPER_MAGIC = 0x9fa0;
    /** The files of /proc a guest may see: the machine's, never the JVM's own (its memory, its descriptors). */
    private static final Set<String> PROC_VISIBLE = Set.of("/proc", "/proc/cpuinfo", "/proc/meminfo", "/proc/version",
            "/proc/uptime", "/proc/loadavg", "/proc/stat", "/proc/filesystems", "/proc/sys/kernel/ngroups_max");

    private final int rootFd;
    /** The root's host path, canonical, without a trailing slash ("" for /). */
    private final byte[] rootHost;
    private final int rwFd;
    /** The writable directory's guest path, canonical, or null. */
    private final byte[] rwGuest;
    private int cwdFd;
    private int umask;

    /**
     * Guest paths resolve beneath {@code root}; files beneath {@code rw}
     * (or null) may be written; the guest starts in {@code cwd}, a host path
     * (the user's working directory), or at the root when that is not
     * beneath it. The umask is this process's.
     */
    public FsContext(Path root, Path rw, Path cwd) {
        this.rootFd = openDir(root);
        this.rootHost = stripSlash(hostPath(rootFd));
        if (rw != null) {
            this.rwFd = openDir(rw);
            byte[] rwHost = hostPath(rwFd);
            this.rwGuest = beneathRoot(rwHost);
            if (rwGuest == null) {
                HostFiles.close(rwFd);
                HostFiles.close(rootFd);
                throw new IllegalArgumentException("the writable directory " + rw + " is not beneath the root " + root);
            }
        } else {
            this.rwFd = -1;
            this.rwGuest = null;
        }
        int start = -1;
        if (cwd != null) {
            byte[] guest = beneathRoot(canonical(cwd));
            if (guest != null) {
                long fd = lookup(guest, O_DIRECTORY);
                start = fd >= 0 ? (int) fd : -1;
            }
        }
        this.cwdFd = start >= 0 ? start : (int) checked(lookup(new byte[] {'/'}, O_DIRECTORY), "/");
        this.umask = processUmask();
    }

    private FsContext(int rootFd, byte[] rootHost, int rwFd, byte[] rwGuest, int cwdFd, int umask) {
        this.rootFd = rootFd;
        this.rootHost = rootHost;
        this.rwFd = rwFd;
        this.rwGuest = rwGuest;
        this.cwdFd = cwdFd;
        this.umask = umask;
    }

    /** A copy for a fork: the same root, writable directory, working directory and umask. */
    public synchronized FsContext copy() {
        return new FsContext(dup(rootFd), rootHost, rwFd < 0 ? -1 : dup(rwFd), rwGuest, dup(cwdFd), umask);
    }

    /** Closes the host descriptors. */
    public synchronized void close() {
        HostFiles.close(cwdFd);
        HostFiles.close(rootFd);
        if (rwFd >= 0) {
            HostFiles.close(rwFd);
        }
    }

    private static int dup(int fd) {
        return (int) checked(HostFiles.fcntl(fd, HostFiles.F_DUPFD_CLOEXEC, 3), "dup");
    }

    private static int openDir(Path dir) {
        long fd = HostFiles.openat(AT_FDCWD, bytes(dir.toAbsolutePath().toString()), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (fd < 0) {
            throw new IllegalArgumentException(dir + ": " + Errno.nameOf((int) -fd));
        }
        return (int) fd;
    }

    /** The canonical host path of directory {@code dir} (empty if it cannot be opened). */
    private static byte[] canonical(Path dir) {
        long fd = HostFiles.openat(AT_FDCWD, bytes(dir.toAbsolutePath().toString()), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (fd < 0) {
            return new byte[0];
        }
        byte[] path = hostPath((int) fd);
        HostFiles.close((int) fd);
        return path;
    }

    private static long checked(long r, String what) {
        if (r < 0) {
            throw new IllegalStateException(what + ": " + Errno.nameOf((int) -r));
        }
        return r;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static int processUmask() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Umask:")) {
                    return Integer.parseInt(line.substring(6).trim(), 8);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through to the common default
        }
        return 022;
    }

    // ---------------------------------------------------------------- paths

    /** The host path of host descriptor {@code fd}, read from /proc/self/fd (empty if it cannot be). */
    private static byte[] hostPath(int fd) {
        byte[] buf = new byte[PATH_MAX + 64];
        long n = HostFiles.readlinkat(AT_FDCWD, bytes("/proc/self/fd/" + fd), buf);
        return n < 0 ? new byte[0] : Arrays.copyOf(buf, (int) n);
    }

    private static byte[] stripSlash(byte[] path) {
        return path.length == 1 && path[0] == '/' ? new byte[0] : path;
    }

    /** The guest path of host path {@code host}, or null when it is not beneath the root. */
    private byte[] beneathRoot(byte[] host) {
        if (host.length == 0 || host[0] != '/') {
            return null;
        }
        if (!startsWith(host, rootHost)) {
            return null;
        }
        if (host.length == rootHost.length) {
            return new byte[] {'/'};
        }
        if (host[rootHost.length] != '/') {
            return null;
        }
        return Arrays.copyOfRange(host, rootHost.length, host.length);
    }

    private static boolean startsWith(byte[] a, byte[] prefix) {
        return a.length >= prefix.length && Arrays.equals(a, 0, prefix.length, prefix, 0, prefix.length);
    }

    /** The guest path of the directory (or file) open at host descriptor {@code fd}; ENOENT when it is no longer beneath the root. */
    byte[] guestPathOf(int fd) {
        byte[] guest = beneathRoot(hostPath(fd));
        if (guest == null) {
            throw new ErrnoException(Errno.ENOENT, fd, 0, "host descriptor " + fd + " is not beneath the root (deleted, or moved out)");
        }
        return guest;
    }

    /** The working directory's guest path. */
    synchronized byte[] cwd() {
        return guestPathOf(cwdFd);
    }

    /** A host descriptor of the working directory (O_PATH), owned by this context. */
    synchronized int cwdFd() {
        return cwdFd;
    }

    /** Makes the directory open at host O_PATH descriptor {@code fd} (now owned here) the working directory. */
    synchronized void chdir(int fd) {
        int old = cwdFd;
        cwdFd = fd;
        HostFiles.close(old);
    }

    synchronized int umask() {
        return umask;
    }

    /** Sets the umask (its permission bits) and returns the old one. */
    synchronized int setUmask(int mask) {
        int old = umask;
        umask = mask & 0777;
        return old;
    }

    /**
     * The absolute guest path of {@code path} as the *at calls take it:
     * itself when absolute, else beneath the working directory
     * ({@code dirfd} AT_FDCWD) or the directory open at {@code dirfd}
     * (EBADF when none, ENOTDIR when not a directory).
     */
    byte[] absolute(FileTable files, int dirfd, byte[] path) {
        if (path.length > 0 && path[0] == '/') {
            return path;
        }
        byte[] base;
        if (dirfd == AT_FDCWD) {
            base = cwd();
        } else {
            OpenFile dir = files.get(dirfd);
            if (!dir.directory()) {
                throw new ErrnoException(Errno.ENOTDIR, dirfd, 0, "descriptor " + dirfd + " is not a directory");
            }
            base = guestPathOf(dir.hostFd());
        }
        byte[] out = Arrays.copyOf(base, base.length + 1 + path.length);
        out[base.length] = '/';
        System.arraycopy(path, 0, out, base.length + 1, path.length);
        return out;
    }

    /**
     * The host file of the program interpreter a dynamically linked program
     * names ({@code PT_INTERP}), opened as Linux's ELF loader opens it: the
     * guest path looked up beneath the root (a relative one from the working
     * directory), and it must be a regular file the guest may execute.
     *
     * @param path the interpreter's guest path, without its NUL
     * @return the file, open until closed: read and map it through its
     *     {@link Executable#path()}, never by a path looked up again
     * @throws ErrnoException ENOENT (and the lookup's other errnos) when it
     *     cannot be looked up, EACCES when it is no regular file or not
     *     executable
     */
    public Executable interpreter(byte[] path) {
        long fd = lookup(absolute(null, AT_FDCWD, path), 0);
        if (fd < 0) {
            Errno e = Errno.of((int) -fd);
            throw new ErrnoException(e != null ? e : Errno.ENOENT, 0, path.length,
                    new String(path, StandardCharsets.UTF_8) + ": the program's interpreter cannot be looked up");
        }
        try {
            checkExecutable((int) fd);
        } catch (RuntimeException e) {
            HostFiles.close((int) fd);
            throw e;
        }
        return new Executable((int) fd);
    }

    /**
     * A file looked up to be executed, held open: its {@code /proc/self/fd}
     * path reaches this very file however the tree changes meanwhile.
     *
     * @param fd the host descriptor, closed by {@link #close()}
     */
    public record Executable(int fd) implements AutoCloseable {
        /** {@return the path that reaches the file while it is open: its descriptor's /proc/self/fd link} */
        public Path path() {
            return Path.of("/proc/self/fd/" + fd);
        }

        @Override
        public void close() {
            HostFiles.close(fd);
        }
    }

    /**
     * Checks that host descriptor {@code fd} is a regular file the guest
     * may execute (EACCES otherwise, as execve answers).
     */
    static void checkExecutable(int fd) {
        byte[] st = new byte[HostFiles.STAT_SIZE];
        long r = HostFiles.fstatat(fd, new byte[0], st, HostFiles.AT_EMPTY_PATH);
        if (r < 0 || (Stat.mode(st) & HostFiles.S_IFMT) != HostFiles.S_IFREG) {
            throw new ErrnoException(Errno.EACCES, 0, 0, "not a regular file");
        }
        if (HostFiles.faccessat2(fd, new byte[0], X_OK, HostFiles.AT_EMPTY_PATH | HostFiles.AT_EACCESS) < 0) {
            throw new ErrnoException(Errno.EACCES, 0, 0, "not executable");
        }
    }

    /**
     * Looks guest path {@code abs} up beneath the root: a host O_PATH
     * descriptor (with {@code flags}, O_NOFOLLOW or O_DIRECTORY) the caller
     * owns, or -errno. A file of /proc other than the machine-wide ones is
     * ENOENT: /proc/self there is the JVM.
     */
    long lookup(byte[] abs, int flags) {
        long fd = HostFiles.openat2(rootFd, abs, O_PATH | O_CLOEXEC | flags, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        if (fd >= 0 && !visible((int) fd)) {
            HostFiles.close((int) fd);
            return -Errno.ENOENT.number();
        }
        return fd;
    }

    private boolean visible(int fd) {
        byte[] statfs = new byte[HostFiles.STATFS_SIZE];
        if (HostFiles.fstatfs(fd, statfs) < 0) {
            return false;
        }
        long magic = java.nio.ByteBuffer.wrap(statfs).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
        if (magic != PROC_SUPER_MAGIC) {
            return true;
        }
        return PROC_VISIBLE.contains(new String(hostPath(fd), StandardCharsets.ISO_8859_1));
    }

    /**
     * The path of {@code abs} relative to the writable directory, or null
     * when it does not start with that directory's guest path (compared a
     * component at a time, empty and {@code .} components skipped; a
     * {@code ..} is left for the host's RESOLVE_BENEATH to judge). A
     * trailing slash is kept.
     */
    byte[] writableRelative(byte[] abs) {
        if (rwGuest == null) {
            return null;
        }
        String[] want = components(rwGuest);
        String[] have = components(abs);
        if (have.length < want.length) {
            return null;
        }
        for (int i = 0; i < want.length; i++) {
            if (!want[i].equals(have[i])) {
                return null;
            }
        }
        StringBuilder rel = new StringBuilder();
        for (int i = want.length; i < have.length; i++) {
            rel.append(rel.length() > 0 ? "/" : "").append(have[i]);
        }
        if (rel.length() == 0) {
            rel.append('.');
        }
        if (abs.length > 0 && abs[abs.length - 1] == '/') {
            rel.append('/');
        }
        return rel.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The components of a path, bytes kept as ISO-8859-1 chars; empty and "." ones dropped. */
    private static String[] components(byte[] path) {
        return Arrays.stream(new String(path, StandardCharsets.ISO_8859_1).split("/"))
                .filter(c -> !c.isEmpty() && !c.equals(".")).toArray(String[]::new);
    }

    /**
     * openat2 beneath the writable directory: {@code rel} from
     * {@link #writableRelative}, RESOLVE_BENEATH, so a {@code ..} or symlink
     * that would leave it is the host's EXDEV, which the guest sees as the
     * read-only file system the target lies on (EROFS).
     */
    long openWritable(byte[] rel, int flags, int mode) {
        long fd = HostFiles.openat2(rwFd, rel, flags | O_CLOEXEC, mode, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
        return fd == -Errno.EXDEV.number() ? -Errno.EROFS.number() : fd;
    }
}
