package dev.usercopy.platform;

import java.lang.foreign.MemorySegment;

import static dev.usercopy.platform.Posix.MAP_ANONYMOUS;
import static dev.usercopy.platform.Posix.MAP_PRIVATE;
import static dev.usercopy.platform.Posix.MAP_SHARED;
import static dev.usercopy.platform.Posix.MFD_CLOEXEC;
import static dev.usercopy.platform.Posix.PROT_READ;
import static dev.usercopy.platform.Posix.PROT_WRITE;

/**
 * An owned range of host pages: anonymous, or a shared mapping of a memfd
 * that may run past the file's end (those pages raise SIGBUS). Closing unmaps
 * it and closes the memfd.
 */
public final class HostMapping implements AutoCloseable {
    private final long address;
    private final long length;
    private final int fd;
    private boolean closed;

    private HostMapping(long address, long length, int fd) {
        this.address = address;
        this.length = length;
        this.fd = fd;
    }

    /** {@code length} bytes of private anonymous read-write memory. */
    public static HostMapping anonymous(long length) {
        return new HostMapping(Posix.mmap(0, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), length, -1);
    }

    /**
     * A new memfd of {@code fileSize} bytes mapped shared and read-write over
     * {@code length} bytes; pages wholly past {@code fileSize} raise SIGBUS.
     */
    public static HostMapping memfd(String name, long fileSize, long length) {
        int fd = Posix.memfdCreate(name, MFD_CLOEXEC);
        try {
            Posix.ftruncate(fd, fileSize);
            return new HostMapping(Posix.mmap(0, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), length, fd);
        } catch (RuntimeException e) {
            Posix.close(fd);
            throw e;
        }
    }

    public long address() {
        return address;
    }

    /** The memfd behind a {@link #memfd} mapping, for mapping its pages elsewhere too. */
    int fd() {
        if (fd < 0) {
            throw new IllegalStateException("an anonymous mapping has no file");
        }
        return fd;
    }

    public long length() {
        return length;
    }

    /** mprotect {@code [offset, offset + len)} of this mapping. */
    public void protect(long offset, long len, int prot) {
        if (offset < 0 || len < 0 || offset + len > length) {
            throw new IndexOutOfBoundsException("protect [" + offset + ", +" + len + ") outside a mapping of " + length);
        }
        Posix.mprotect(address + offset, len, prot);
    }

    /** A view of the mapping, valid until {@link #close}. */
    public MemorySegment segment() {
        return Posix.segment(address, length);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Posix.munmap(address, length);
        if (fd >= 0) {
            Posix.close(fd);
        }
    }
}
