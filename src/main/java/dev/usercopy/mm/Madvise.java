package dev.usercopy.mm;

import java.util.List;

import dev.usercopy.mm.Provider.Allocated;
import dev.usercopy.mm.Provider.PhysBorrowed;
import dev.usercopy.platform.Errno;

import static dev.usercopy.mm.PageTable.PAGE;

/** madvise(MADV_DONTNEED), as Linux's mm/madvise.c does it. */
final class Madvise {
    private Madvise() {}

    /**
     * Checks in do_madvise's order: EINVAL for an unaligned address or a
     * range that wraps, success for length 0; then every mapped part of the
     * range is dropped, holes skipped, and ENOMEM at the end if there was
     * one. Private pages are dropped (their frames freed): the next read sees
     * zeros, or the file. Shared pages stay. Device frames (PhysBorrowed,
     * Linux's VM_PFNMAP) are EINVAL, the grants before them dropped.
     */
    static void dontNeed(SpaceState s, long addr, long length) {
        if (addr % PAGE != 0) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "address is not page-aligned");
        }
        long end = SpaceState.alignedEnd(addr, length);
        if (length != 0 && end == addr || Long.compareUnsigned(end, addr) < 0) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "range wraps around the end of the address space");
        }
        if (end == addr) {
            return;
        }
        long from = s.pageLimit(addr);
        long to = s.pageLimit(end);
        List<Grant> cover = s.grants().in(from, to);
        long upTo = to;
        for (Grant g : cover) {
            if (g.provider() instanceof PhysBorrowed) {
                upTo = Math.max(from, g.start());
                break;
            }
        }
        HostMap trial = s.host().jvm().trial(from, upTo);
        long before = trial.vmas();
        for (Grant g : cover) {
            if (g.provider() instanceof Allocated && g.start() < upTo) {
                long first = Math.max(g.start(), from);
                trial.unmap(first, Math.min(g.end(), upTo) - first); // private pages become holes
            }
        }
        s.mm().reserveVmas(trial.vmas() - before);
        for (Grant g : cover) {
            if (g.provider() instanceof Allocated && g.start() < upTo) {
                long first = Math.max(g.start(), from);
                long last = Math.min(g.end(), upTo);
                s.host().takeAway(first, last); // host access first, then the references
                s.clearPages(first, last);
            }
        }
        s.host().sync(from, upTo);
        if (upTo < to) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "page 0x" + Long.toHexString(upTo * PAGE)
                    + " maps device frames, which MADV_DONTNEED cannot drop; the pages before it were dropped");
        }
        long hole = UserGrants.firstHole(from, to, cover);
        if (hole >= 0 || Long.compareUnsigned(end, s.size()) > 0) {
            throw new ErrnoException(Errno.ENOMEM, addr, length, "page 0x" + Long.toHexString((hole >= 0 ? hole : s.pages()) * PAGE)
                    + " is not mapped; the mapped pages of the range were dropped");
        }
    }
}
