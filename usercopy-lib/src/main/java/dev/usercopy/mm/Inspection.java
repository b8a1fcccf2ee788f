package dev.usercopy.mm;

import dev.usercopy.mm.AddressSpace.PageState;

import static dev.usercopy.mm.PageTable.BORROWED;
import static dev.usercopy.mm.PageTable.PAGE;
import static dev.usercopy.mm.PageTable.ZERO;

/** What backs a guest page, read without touching it: for tests, the demo and the page map. Under the manager's lock. */
final class Inspection {
    private Inspection() {}

    static PageState pageState(SpaceState s, long address) {
        long page = address / PAGE;
        Grant g = address < 0 || address >= s.size() ? null : s.grants().at(page);
        if (g == null) {
            return PageState.UNMAPPED;
        }
        long pte = s.table().get(page);
        if (!PageTable.present(pte)) {
            return PageState.LAZY;
        }
        if ((pte & ZERO) != 0) {
            return PageState.ZEROED;
        }
        PageInfo info = s.mm().info;
        if (g.provider().shared() || (pte & BORROWED) != 0 || info.isShared(PageTable.frame(pte))) {
            return PageState.SHARED;
        }
        return s.table().leafShared(page) || info.refcount(PageTable.frame(pte)) > 1 ? PageState.COW_SHARED : PageState.PRIVATE;
    }

    /** {present pages, of them shared with another space or a file (SHARED or COW_SHARED)}, over every grant. */
    static long[] residency(SpaceState s) {
        long present = 0;
        long shared = 0;
        for (Grant g : s.grants().snapshot()) {
            for (long p = g.start(); p < g.end(); p++) {
                PageState st = pageState(s, p * PAGE);
                if (st == PageState.PRIVATE || st == PageState.ZEROED || st == PageState.COW_SHARED || st == PageState.SHARED) {
                    present++;
                    if (st == PageState.COW_SHARED || st == PageState.SHARED) {
                        shared++;
                    }
                }
            }
        }
        return new long[] {present, shared};
    }

    /** The present page at {@code address}, read through the kernel's view of its frame into {@code dst}; false if not present. */
    static boolean peekPage(SpaceState s, long address, byte[] dst) {
        long pte = address < 0 || address >= s.size() ? 0 : s.table().get(address / PAGE);
        if (!PageTable.present(pte)) {
            return false;
        }
        s.mm().readFrame(PageTable.frame(pte), dst);
        return true;
    }

    /** {frame, refcount} of the page at {@code address}, or null when not present. */
    static long[] frameOf(SpaceState s, long address) {
        long pte = address < 0 || address >= s.size() ? 0 : s.table().get(address / PAGE);
        if (!PageTable.present(pte)) {
            return null;
        }
        long f = PageTable.frame(pte);
        return new long[] {f, PageTable.refcounted(pte) ? s.mm().info.refcount(f) : 0};
    }
}
