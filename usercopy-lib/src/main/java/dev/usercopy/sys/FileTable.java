package dev.usercopy.sys;

import java.util.Arrays;

import dev.usercopy.mm.ErrnoException;
import dev.usercopy.platform.HostFiles;
import dev.usercopy.uapi.Errno;

/**
 * A guest's file descriptors: small numbers to {@link OpenFile}
 * descriptions, each with its own close-on-exec bit, as Linux's
 * {@code files_struct}. A new descriptor is the lowest free number; numbers
 * stop at the soft RLIMIT_NOFILE given at creation (EMFILE). Synchronized,
 * so tables shared by threads, or copied for a fork, stay consistent.
 */
public final class FileTable {
    /** The soft RLIMIT_NOFILE most systems start a user's processes with. */
    public static final int DEFAULT_LIMIT = 1024;

    private final int limit;
    private OpenFile[] files = new OpenFile[16];
    private boolean[] closeOnExec = new boolean[16];

    /** An empty table whose descriptors stop below {@code limit} (the soft RLIMIT_NOFILE). */
    public FileTable(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("negative descriptor limit " + limit);
        }
        this.limit = limit;
    }

    /** A table whose 0, 1 and 2 are the host's standard input, output and error, with {@link #DEFAULT_LIMIT}. */
    public static FileTable withStdio() {
        return withStdio(DEFAULT_LIMIT);
    }

    /**
     * A table whose 0, 1 and 2 are the host's standard input, output and
     * error (each a host duplicate, so the guest closing one leaves the
     * JVM's own alone; a host descriptor that is not open is left out).
     */
    public static FileTable withStdio(int limit) {
        FileTable t = new FileTable(limit);
        for (int fd = 0; fd < 3 && fd < limit; fd++) {
            long dup = HostFiles.fcntl(fd, HostFiles.F_DUPFD_CLOEXEC, 3);
            if (dup < 0) {
                continue;
            }
            long mode = HostFiles.fcntl((int) dup, HostFiles.F_GETFL, 0);
            byte[] stat = new byte[HostFiles.STAT_SIZE];
            HostFiles.fstatat((int) dup, new byte[0], stat, HostFiles.AT_EMPTY_PATH);
            int type = Stat.mode(stat) & HostFiles.S_IFMT;
            t.installAt(fd, OpenFile.shared((int) dup, mode < 0 ? HostFiles.O_RDWR : (int) (mode & HostFiles.O_ACCMODE), type), false);
        }
        return t;
    }

    /** The soft RLIMIT_NOFILE: descriptors are below it. */
    public int limit() {
        return limit;
    }

    /** The description of {@code fd}; EBADF when none. */
    public synchronized OpenFile get(int fd) {
        if (fd < 0 || fd >= files.length || files[fd] == null) {
            throw new ErrnoException(Errno.EBADF, fd, 0, "no open file descriptor " + fd);
        }
        return files[fd];
    }

    /** Whether {@code fd} is open. */
    public synchronized boolean isOpen(int fd) {
        return fd >= 0 && fd < files.length && files[fd] != null;
    }

    /** The open descriptors, ascending. */
    public synchronized int[] openDescriptors() {
        return java.util.stream.IntStream.range(0, files.length).filter(i -> files[i] != null).toArray();
    }

    /** EMFILE unless a descriptor below the limit is free (Linux takes one before an open looks its path up). */
    public synchronized void checkFree() {
        for (int fd = 0; fd < limit; fd++) {
            if (fd >= files.length || files[fd] == null) {
                return;
            }
        }
        throw new ErrnoException(Errno.EMFILE, limit, 0, "every descriptor below " + limit + " is open");
    }

    /**
     * Makes guest descriptor {@code fd} host file {@code host}, opened for
     * writing (created, or truncated): where the embedder sends a guest's
     * output instead of this process's own (/dev/null, a capture file).
     */
    public synchronized void redirectOutput(int fd, java.nio.file.Path host) {
        byte[] path = host.toAbsolutePath().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        long hostFd = HostFiles.openat(HostFiles.AT_FDCWD, path, HostFiles.O_WRONLY | HostFiles.O_CREAT | HostFiles.O_TRUNC | HostFiles.O_CLOEXEC, 0644);
        if (hostFd < 0) {
            throw new ErrnoException(Errno.of((int) -hostFd) != null ? Errno.of((int) -hostFd) : Errno.EIO, fd, 0, "cannot open " + host + " for the guest's descriptor " + fd);
        }
        byte[] stat = new byte[HostFiles.STAT_SIZE];
        HostFiles.fstatat((int) hostFd, new byte[0], stat, HostFiles.AT_EMPTY_PATH);
        installAt(fd, new OpenFile((int) hostFd, HostFiles.O_WRONLY, Stat.mode(stat) & HostFiles.S_IFMT), false);
    }

    /** Installs {@code file} at the lowest free descriptor and returns it; EMFILE (releasing {@code file}) when none is below the limit. */
    public synchronized int install(OpenFile file, boolean cloexec) {
        return installFrom(0, file, cloexec);
    }

    /** F_DUPFD: the lowest free descriptor at least {@code from}; EINVAL when {@code from} is not below the limit, EMFILE when none is free. */
    synchronized int installFrom(long from, OpenFile file, boolean cloexec) {
        if (from < 0 || from >= limit) {
            file.release();
            throw new ErrnoException(Errno.EINVAL, from, 0, "descriptor " + from + " is not below the limit " + limit);
        }
        for (int fd = (int) from; fd < limit; fd++) {
            if (fd >= files.length || files[fd] == null) {
                put(fd, file, cloexec);
                return fd;
            }
        }
        file.release();
        throw new ErrnoException(Errno.EMFILE, from, 0, "every descriptor below " + limit + " is open");
    }

    /** dup2/dup3: {@code file} at {@code fd}, closing what was there; EBADF (releasing {@code file}) when {@code fd} is not below the limit. */
    synchronized int installAt(int fd, OpenFile file, boolean cloexec) {
        if (fd < 0 || fd >= limit) {
            file.release();
            throw new ErrnoException(Errno.EBADF, fd, 0, "descriptor " + fd + " is not below the limit " + limit);
        }
        OpenFile old = fd < files.length ? files[fd] : null;
        put(fd, file, cloexec);
        if (old != null) {
            old.release();
        }
        return fd;
    }

    private void put(int fd, OpenFile file, boolean cloexec) {
        if (fd >= files.length) {
            int n = Math.min(Math.max(fd + 1, files.length * 2), limit);
            files = Arrays.copyOf(files, n);
            closeOnExec = Arrays.copyOf(closeOnExec, n);
        }
        files[fd] = file;
        closeOnExec[fd] = cloexec;
    }

    /** Closes {@code fd}; EBADF when it is not open. */
    public synchronized void close(int fd) {
        OpenFile f = get(fd);
        files[fd] = null;
        closeOnExec[fd] = false;
        f.release();
    }

    public synchronized boolean closeOnExec(int fd) {
        get(fd);
        return closeOnExec[fd];
    }

    public synchronized void setCloseOnExec(int fd, boolean on) {
        get(fd);
        closeOnExec[fd] = on;
    }

    /** What an exec does: closes every close-on-exec descriptor. */
    public synchronized void closeOnExecNow() {
        for (int fd = 0; fd < files.length; fd++) {
            if (files[fd] != null && closeOnExec[fd]) {
                close(fd);
            }
        }
    }

    /** A copy for a fork: the same descriptors, sharing their descriptions (offsets and flags), with their close-on-exec bits. */
    public synchronized FileTable copy() {
        FileTable t = new FileTable(limit);
        t.files = new OpenFile[files.length];
        t.closeOnExec = closeOnExec.clone();
        for (int fd = 0; fd < files.length; fd++) {
            if (files[fd] != null) {
                t.files[fd] = files[fd].share();
            }
        }
        return t;
    }

    /** Closes every descriptor (the task's end). */
    public synchronized void closeAll() {
        for (int fd = 0; fd < files.length; fd++) {
            if (files[fd] != null) {
                close(fd);
            }
        }
    }
}
