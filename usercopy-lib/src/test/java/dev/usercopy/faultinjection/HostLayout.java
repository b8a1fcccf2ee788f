package dev.usercopy.faultinjection;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.usercopy.platform.Posix;

import static dev.usercopy.platform.Posix.MAP_ANONYMOUS;
import static dev.usercopy.platform.Posix.MAP_FIXED;
import static dev.usercopy.platform.Posix.MAP_NORESERVE;
import static dev.usercopy.platform.Posix.MAP_PRIVATE;
import static dev.usercopy.platform.Posix.MAP_SHARED;
import static dev.usercopy.platform.Posix.MFD_CLOEXEC;
import static dev.usercopy.platform.Posix.PROT_NONE;
import static dev.usercopy.platform.Posix.PROT_READ;
import static dev.usercopy.platform.Posix.PROT_WRITE;

/**
 * A {@link Layout} of host kinds in host memory: one PROT_NONE reservation
 * with a PROT_NONE page on each side, the layout's pages mapped over it run
 * by run. File pages are a memfd's own pages; SIGBUS pages map a second memfd
 * that is truncated to nothing once they are mapped.
 *
 * <p>"Unmapped" host pages stay reserved PROT_NONE rather than becoming a
 * hole: the JVM maps memory from other threads, and a hole could be handed
 * to it between the test's munmap and a copy that writes there.
 */
final class HostLayout implements UserMemory {
    private static final long PAGE = Layout.PAGE;

    private final long reservation;
    private final long base;
    private final int pages;
    private final PageKind[] kinds;
    private final int fileFd;
    private final int busFd;

    HostLayout(Layout model) {
        pages = model.pages();
        kinds = model.kinds.clone();
        reservation = Posix.mmap(0, (pages + 2) * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        base = reservation + PAGE;
        int file = -1;
        int bus = -1;
        try {
            file = Posix.memfdCreate("fi-host-file", MFD_CLOEXEC);
            bus = Posix.memfdCreate("fi-host-sigbus", MFD_CLOEXEC);
            Posix.ftruncate(file, pages * PAGE);
            Posix.ftruncate(bus, pages * PAGE);
            int p = 0;
            while (p < pages) {
                int q = p;
                while (q < pages && kinds[q] == kinds[p]) {
                    q++;
                }
                map(kinds[p], p, q - p, file, bus, model.content);
                p = q;
            }
            Posix.ftruncate(bus, 0); // under the mappings: every SIGBUS page is now past the end
        } catch (RuntimeException e) {
            Posix.munmap(reservation, (pages + 2) * PAGE);
            closeQuietly(file);
            closeQuietly(bus);
            throw e;
        }
        fileFd = file;
        busFd = bus;
    }

    private static void closeQuietly(int fd) {
        if (fd >= 0) {
            Posix.close(fd);
        }
    }

    private void map(PageKind kind, int page, int count, int file, int bus, byte[] content) {
        long at = base + page * PAGE;
        long len = count * PAGE;
        switch (kind) {
            case HOST_RW, HOST_RO -> {
                Posix.mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
                fill(at, page, count, content);
                if (kind == PageKind.HOST_RO) {
                    Posix.mprotect(at, len, PROT_READ);
                }
            }
            case HOST_FILE -> {
                Posix.mmap(at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, file, page * PAGE);
                fill(at, page, count, content);
            }
            case HOST_SIGBUS -> Posix.mmap(at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, bus, page * PAGE);
            case HOST_NONE -> { } // the reservation already is
            default -> throw new IllegalArgumentException(kind + " is not a host kind");
        }
    }

    private static void fill(long at, int page, int count, byte[] content) {
        MemorySegment.copy(content, (int) (page * PAGE), Posix.segment(at, count * PAGE), ValueLayout.JAVA_BYTE, 0, (int) (count * PAGE));
    }

    @Override
    public long address(long offset) {
        return base + offset;
    }

    @Override
    public boolean peekPage(int page, byte[] dst) {
        PageKind k = kinds[page];
        if (!k.readable) {
            return false;
        }
        MemorySegment.copy(Posix.segment(base + page * PAGE, PAGE), ValueLayout.JAVA_BYTE, 0, dst, 0, (int) PAGE);
        return true;
    }

    /** The memfd behind the HOST_FILE pages (page i of the layout at file offset i * PAGE). */
    int fileFd() {
        return fileFd;
    }

    @Override
    public void close() {
        Posix.munmap(reservation, (pages + 2) * PAGE);
        Posix.close(fileFd);
        Posix.close(busFd);
    }
}
