package dev.usercopy.sys;

import java.util.concurrent.atomic.AtomicInteger;

import dev.usercopy.platform.HostFiles;

/**
 * An open file description: what the guest's file descriptors refer to
 * (shared by dup, and by a fork's copy of the table), holding one host file
 * descriptor, opened close-on-exec on the host. The host descriptor carries
 * the offset and the status flags, so they are shared exactly as Linux
 * shares them; it is closed when the last guest descriptor goes.
 */
public final class OpenFile {
    /** The access mode of a description opened with O_PATH: neither read nor write. */
    static final int PATH = -1;

    private final int hostFd;
    private final int accessMode;
    private final int type;
    private final AtomicInteger references = new AtomicInteger(1);
    /**
     * Whether the host description is this object's alone. Then, for a file
     * whose calls may wait, the host description is always O_NONBLOCK and
     * {@link #guestNonblock} holds the guest's flag; else (the JVM's own
     * standard streams, shared with whoever started it) the host's flags are
     * the guest's and are never changed behind its back.
     */
    private final boolean owned;
    private volatile boolean guestNonblock;

    /**
     * A description over {@code hostFd}, which it now owns; {@code accessMode}
     * is O_RDONLY, O_WRONLY, O_RDWR or {@link #PATH}; {@code type} the
     * S_IFMT bits of the file.
     */
    OpenFile(int hostFd, int accessMode, int type) {
        this(hostFd, accessMode, type, true);
    }

    private OpenFile(int hostFd, int accessMode, int type, boolean owned) {
        this.hostFd = hostFd;
        this.accessMode = accessMode;
        this.type = type;
        this.owned = owned && mayWait() && accessMode != PATH;
        if (this.owned) {
            long fl = HostFiles.fcntl(hostFd, HostFiles.F_GETFL, 0);
            guestNonblock = fl >= 0 && (fl & HostFiles.O_NONBLOCK) != 0;
            if (fl >= 0 && !guestNonblock) {
                HostFiles.fcntl(hostFd, HostFiles.F_SETFL, fl | HostFiles.O_NONBLOCK);
            }
        }
    }

    /**
     * A description over {@code hostFd} (now its own descriptor) whose host
     * description others share: a duplicate of the JVM's standard streams.
     */
    static OpenFile shared(int hostFd, int accessMode, int type) {
        return new OpenFile(hostFd, accessMode, type, false);
    }

    /** The host file descriptor; never shown to the guest. */
    int hostFd() {
        return hostFd;
    }

    /** S_IFMT bits of the file. */
    int type() {
        return type;
    }

    boolean readable() {
        return accessMode == HostFiles.O_RDONLY || accessMode == HostFiles.O_RDWR;
    }

    boolean writable() {
        return accessMode == HostFiles.O_WRONLY || accessMode == HostFiles.O_RDWR;
    }

    boolean isPath() {
        return accessMode == PATH;
    }

    /** A regular file (or block device): its reads and writes are not atomic, so a transfer may go in chunks. */
    boolean regular() {
        return type == HostFiles.S_IFREG || type == HostFiles.S_IFBLK;
    }

    /** Pipes and sockets have no offset: pread and pwrite are ESPIPE. */
    boolean seekless() {
        return type == HostFiles.S_IFIFO || type == HostFiles.S_IFSOCK;
    }

    /**
     * A pipe, FIFO, socket or character device (a terminal): a read or
     * write of it may wait for another party, where a regular file's or a
     * directory's never does.
     */
    boolean mayWait() {
        return type == HostFiles.S_IFIFO || type == HostFiles.S_IFSOCK || type == HostFiles.S_IFCHR;
    }

    /**
     * Whether the host description is always non-blocking, the guest's
     * O_NONBLOCK being {@link #guestNonblock}: true for a description of a
     * file that {@link #mayWait} that no one outside the guests shares.
     */
    boolean hostNonblocking() {
        return owned;
    }

    /** The guest's O_NONBLOCK: a call that would wait answers EAGAIN. */
    boolean nonblocking() {
        if (owned) {
            return guestNonblock;
        }
        long fl = HostFiles.fcntl(hostFd, HostFiles.F_GETFL, 0);
        return fl >= 0 && (fl & HostFiles.O_NONBLOCK) != 0;
    }

    /** F_GETFL: the host description's status flags, with the guest's O_NONBLOCK. */
    long statusFlags() {
        long fl = HostFiles.fcntl(hostFd, HostFiles.F_GETFL, 0);
        if (fl < 0 || !owned) {
            return fl;
        }
        return fl & ~HostFiles.O_NONBLOCK | (guestNonblock ? HostFiles.O_NONBLOCK : 0);
    }

    /** F_SETFL with {@code flags} (already cut to what passes): the guest's O_NONBLOCK kept here when the host's stays set. */
    long setStatusFlags(long flags) {
        if (!owned) {
            return HostFiles.fcntl(hostFd, HostFiles.F_SETFL, flags);
        }
        long r = HostFiles.fcntl(hostFd, HostFiles.F_SETFL, flags | HostFiles.O_NONBLOCK);
        if (r == 0) {
            guestNonblock = (flags & HostFiles.O_NONBLOCK) != 0;
        }
        return r;
    }

    boolean directory() {
        return type == HostFiles.S_IFDIR;
    }

    /** One more guest reference (dup, a copied table). */
    OpenFile share() {
        if (references.getAndIncrement() <= 0) {
            throw new IllegalStateException("description of host fd " + hostFd + " is already closed");
        }
        return this;
    }

    /** One guest reference fewer; the last closes the host descriptor. */
    void release() {
        int left = references.decrementAndGet();
        if (left == 0) {
            HostFiles.close(hostFd);
        } else if (left < 0) {
            throw new IllegalStateException("description of host fd " + hostFd + " released once too often");
        }
    }

    @Override
    public String toString() {
        return "OpenFile[host fd " + hostFd + ", " + (isPath() ? "path" : readable() && writable() ? "rw" : readable() ? "r" : "w")
                + ", type 0" + Integer.toOctalString(type) + ", refs " + references.get() + "]";
    }
}
