package dev.usercopy.mm;


import dev.usercopy.mm.Provider.External;
import dev.usercopy.mm.Provider.FmapBorrowed;
import dev.usercopy.uapi.Errno;

import static dev.usercopy.mm.PageTable.PAGE;

/** mprotect, as Linux's mm/mprotect.c does it. */
final class Mprotect {
    private Mprotect() {}

    /**
     * Checks in do_mprotect_pkey's order: EINVAL for an unaligned address,
     * success for length 0, ENOMEM for a range that wraps, EINVAL for unknown
     * protection bits; then a walk of the grants from {@code addr}: each is
     * changed until the first hole (ENOMEM) or the first grant that may not
     * become writable (EACCES), and the grants before it keep their new
     * protection. The VMA budget for the whole change is reserved before
     * anything changes.
     */
    static void mprotect(SpaceState s, long addr, long length, int prot) {
        int grows = prot & (Prot.GROWSDOWN | Prot.GROWSUP);
        if (grows == (Prot.GROWSDOWN | Prot.GROWSUP)) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "PROT_GROWSDOWN and PROT_GROWSUP together");
        }
        if (addr % PAGE != 0) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "address is not page-aligned");
        }
        if (length == 0) {
            return;
        }
        long end = SpaceState.alignedEnd(addr, length);
        if (Long.compareUnsigned(end, addr) <= 0) {
            throw new ErrnoException(Errno.ENOMEM, addr, length, "range wraps around the end of the address space");
        }
        if ((prot & ~(Prot.ALL | Prot.SEM | grows)) != 0) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "protection 0x" + Integer.toHexString(prot) + " has unknown bits");
        }
        int newProt = Prot.granted(prot & ~grows);
        long from = s.pageLimit(addr);
        long to = s.pageLimit(end);
        if (grows != 0) { // no grant grows: EINVAL once there is one to refuse
            // PROT_GROWSDOWN refuses any grant in the range; PROT_GROWSUP only one holding addr (a hole there is ENOMEM).
            boolean found = grows == Prot.GROWSDOWN ? !s.grants().in(from, to).isEmpty() : from < s.pages() && s.grants().at(from) != null;
            throw new ErrnoException(found ? Errno.EINVAL : Errno.ENOMEM, addr, length,
                    "PROT_GROWSDOWN/PROT_GROWSUP, and no mapping here grows");
        }
        if (from >= s.pages() || s.grants().at(from) == null) {
            throw new ErrnoException(Errno.ENOMEM, addr, length, "page 0x" + Long.toHexString(addr) + " is not mapped");
        }
        UserGrants.Stop stop = s.grants().walk(from, to, g -> (g.provider() instanceof FmapBorrowed || g.provider() instanceof External)
                && (newProt & Prot.WRITE) != 0 && (g.prot() & Prot.WRITE) == 0 && !writableBacking(g) ? Errno.EACCES : null);
        if (stop.errno() == null && Long.compareUnsigned(end, s.size()) > 0) {
            stop = new UserGrants.Stop(s.pages(), Errno.ENOMEM); // past user space: nothing is mapped there
        }
        long upTo = stop.page();
        // Pages of one grant may differ in what the host lets them do (copy-on-write, zeroed,
        // clean file pages), so the new protection can split mappings inside the range too.
        if (upTo > from) { // refused at its first page, Linux changes nothing and splits nothing
            s.mm().reserveVmas(s.host().costOf(from, upTo, newProt));
            s.grants().protect(from, upTo, newProt);
            s.host().sync(from, upTo);
        }
        if (stop.errno() != null) {
            throw new ErrnoException(stop.errno(), addr, length, "page 0x" + Long.toHexString(upTo * PAGE)
                    + (stop.errno() == Errno.ENOMEM ? " is not mapped" : s.grants().at(upTo).provider() instanceof External
                            ? " is lent read-only" : " maps a file that is not writable")
                    + "; the pages before it were changed");
        }
    }

    private static boolean writableBacking(Grant g) {
        return switch (g.provider()) {
            case FmapBorrowed f -> f.mayWrite();
            case External x -> x.mayWrite();
            default -> true;
        };
    }
}
