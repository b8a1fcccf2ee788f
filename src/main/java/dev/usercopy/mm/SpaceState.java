package dev.usercopy.mm;

import static dev.usercopy.mm.PageTable.PAGE;

/**
 * The state of one address space that its operations share: the grants,
 * the page table, the host mirrors and the fault path over them. Each
 * operation ({@link Mprotect}, {@link Madvise}, {@link Msync}, {@link Fork},
 * ...) is handed this, so none reaches back into {@link AddressSpace}, which
 * keeps the lock discipline and the entry points. Used under the manager's
 * lock.
 */
record SpaceState(MemoryManager mm, UserGrants grants, PageTable table, HostSync host, PageFault faults, long pages) {

    static SpaceState create(MemoryManager mm, PageTable table, JvmMirror jvm, long pages) {
        UserGrants grants = new UserGrants();
        HostSync host = new HostSync(grants, table, mm.info, jvm);
        return new SpaceState(mm, grants, table, host, new PageFault(mm, grants, table, host, pages), pages);
    }

    /** Bytes of guest address space. */
    long size() {
        return pages * PAGE;
    }

    /**
     * The page-aligned end of {@code [addr, addr + length)} computed as Linux
     * does, in unsigned 64-bit arithmetic: {@code addr + PAGE_ALIGN(length)}.
     * A negative length is a huge size_t; the sum may wrap, which each caller
     * checks with its own errno.
     */
    static long alignedEnd(long addr, long length) {
        return addr + ((length + PAGE - 1) & -PAGE);
    }

    /** The first page at or past {@code end}, an unsigned byte address, cut at the end of the space. */
    long pageLimit(long end) {
        return Long.compareUnsigned(end, size()) >= 0 ? pages : end / PAGE;
    }

    /**
     * Removes [from, to): grants, then host access (no grant, nothing
     * mapped), then the page table's references. In that order, so no frame
     * is freed while a mirror still maps it, even if a host call fails.
     */
    void unmap(long from, long to) {
        grants.remove(from, to);
        host.sync(from, to);
        clearPages(from, to);
    }

    void clearPages(long from, long to) {
        for (long p = table.nextPresent(from, to); p >= 0; p = table.nextPresent(p + 1, to)) {
            table.set(p, 0);
        }
    }
}
