package dev.usercopy.platform;

import java.lang.foreign.MemorySegment;

import static dev.usercopy.platform.Posix.PROT_NONE;

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

    private final HostMapping mapping;
    private final int pages;

    private GuardedRegion(HostMapping mapping, int pages) {
        this.mapping = mapping;
        this.pages = pages;
    }

    static GuardedRegion create(int pages, Guard guard) {
        long length = (pages + 1) * PAGE;
        if (guard == Guard.SEGV) {
            HostMapping m = HostMapping.anonymous(length);
            m.protect(pages * PAGE, PAGE, PROT_NONE);
            return new GuardedRegion(m, pages);
        }
        return new GuardedRegion(HostMapping.memfd("guarded-region", pages * PAGE, length), pages);
    }

    /** Host address of the first accessible byte. */
    long base() {
        return mapping.address();
    }

    /** Host address of the first byte that faults. */
    long boundary() {
        return mapping.address() + pages * PAGE;
    }

    /** The accessible pages. */
    MemorySegment accessible() {
        return mapping.segment().asSlice(0, pages * PAGE);
    }

    /** The accessible pages and the guard page after them: a segment whose end faults. */
    MemorySegment withGuard() {
        return mapping.segment();
    }

    @Override
    public void close() {
        mapping.close();
    }
}
