package dev.usercopy.platform;

import java.lang.foreign.MemorySegment;

import static dev.usercopy.platform.libc_h.MAP_ANONYMOUS;
import static dev.usercopy.platform.libc_h.MAP_PRIVATE;
import static dev.usercopy.platform.libc_h.MAP_SHARED;
import static dev.usercopy.platform.libc_h.MFD_CLOEXEC;
import static dev.usercopy.platform.libc_h.PROT_NONE;
import static dev.usercopy.platform.libc_h.PROT_READ;
import static dev.usercopy.platform.libc_h.PROT_WRITE;

/**
 * Host memory standing in for guest memory: {@code pages} accessible pages
 * followed by one page whose first access faults, either a PROT_NONE page
 * (SIGSEGV) or a page of a memfd past its end of file (SIGBUS).
 */
final class GuardedRegion implements AutoCloseable {
    enum Guard {
        /** The page after the accessible run is PROT_NONE: SIGSEGV. */
        SEGV,
        /** The page after the accessible run lies past the end of a memfd: SIGBUS. */
        BUS
    }

    static final long PAGE = Posix.PAGE_SIZE;

    private final long base;
    private final long length;
    private final int pages;
    private final int fd;

    private GuardedRegion(long base, long length, int pages, int fd) {
        this.base = base;
        this.length = length;
        this.pages = pages;
        this.fd = fd;
    }

    static GuardedRegion create(int pages, Guard guard) {
        long length = (pages + 1) * PAGE;
        if (guard == Guard.SEGV) {
            long base = Posix.mmap(0, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            Posix.mprotect(base + pages * PAGE, PAGE, PROT_NONE);
            return new GuardedRegion(base, length, pages, -1);
        }
        int fd = Posix.memfdCreate("guarded-region", MFD_CLOEXEC);
        Posix.ftruncate(fd, pages * PAGE);
        long base = Posix.mmap(0, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        return new GuardedRegion(base, length, pages, fd);
    }

    /** Host address of the first accessible byte. */
    long base() {
        return base;
    }

    /** Host address of the first byte that faults. */
    long boundary() {
        return base + pages * PAGE;
    }

    /** The accessible pages. */
    MemorySegment accessible() {
        return Posix.segment(base, pages * PAGE);
    }

    @Override
    public void close() {
        Posix.munmap(base, length);
        if (fd >= 0) {
            Posix.close(fd);
        }
    }
}
