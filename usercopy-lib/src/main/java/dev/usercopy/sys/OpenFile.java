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
     * A description over {@code hostFd}, which it now owns; {@code accessMode}
     * is O_RDONLY, O_WRONLY, O_RDWR or {@link #PATH}; {@code type} the
     * S_IFMT bits of the file.
     */
    OpenFile(int hostFd, int accessMode, int type) {
        this.hostFd = hostFd;
        this.accessMode = accessMode;
        this.type = type;
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
