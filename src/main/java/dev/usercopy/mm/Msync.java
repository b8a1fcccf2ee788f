package dev.usercopy.mm;

import java.io.IOException;
import java.util.List;

import dev.usercopy.mm.Provider.FmapBorrowed;
import dev.usercopy.platform.Errno;

import static dev.usercopy.mm.PageTable.PAGE;

/** msync(MS_SYNC), as Linux's mm/msync.c does it. */
final class Msync {
    private Msync() {}

    /**
     * Checks in Linux's order: EINVAL for an unaligned address, ENOMEM for a
     * range that wraps, success for length 0; then the pages of shared file
     * mappings in the range that were ever written, through any mapping, go
     * back to their files, holes skipped, and ENOMEM at the end if there was
     * one.
     */
    static void msync(SpaceState s, long addr, long length) {
        if (addr % PAGE != 0) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "address is not page-aligned");
        }
        long end = SpaceState.alignedEnd(addr, length);
        if (Long.compareUnsigned(end, addr) < 0) {
            throw new ErrnoException(Errno.ENOMEM, addr, length, "range wraps around the end of the address space");
        }
        if (end == addr) {
            return;
        }
        long from = s.pageLimit(addr);
        long to = s.pageLimit(end);
        List<Grant> cover = s.grants().in(from, to);
        byte[] buf = new byte[(int) PAGE];
        try {
            for (Grant g : cover) {
                if (!(g.provider() instanceof FmapBorrowed f)) {
                    continue;
                }
                // The file's range, not this mapping's pages: another mapping (a fork's child) may
                // have written a page of it that this one never touched.
                long last = Math.min(g.end(), to);
                for (long p = Math.max(g.start(), from); p < last; p++) {
                    long filePage = f.file().filePage(p - g.start());
                    long frame = f.file().cache().frame(filePage);
                    if (frame >= 0 && s.mm().info.isWritten(frame)) {
                        s.mm().readFrame(frame, buf);
                        f.file().cache().write(filePage, buf);
                    }
                }
                f.file().channel().force(false);
            }
        } catch (IOException e) {
            throw new ErrnoException(Errno.EIO, addr, length, "msync write-back failed: " + e.getMessage());
        }
        long hole = UserGrants.firstHole(from, to, cover);
        if (hole >= 0 || Long.compareUnsigned(end, s.size()) > 0) {
            throw new ErrnoException(Errno.ENOMEM, addr, length, "page 0x" + Long.toHexString((hole >= 0 ? hole : s.pages()) * PAGE)
                    + " is not mapped; the mapped pages of the range were written back");
        }
    }
}
