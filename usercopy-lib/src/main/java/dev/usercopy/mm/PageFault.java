package dev.usercopy.mm;

import java.io.IOException;

import dev.usercopy.mm.Provider.Allocated;
import dev.usercopy.mm.Provider.AllocatedShared;
import dev.usercopy.mm.Provider.External;
import dev.usercopy.mm.Provider.FmapBorrowed;
import dev.usercopy.mm.Provider.PhysBorrowed;
import dev.usercopy.uapi.Errno;

import static dev.usercopy.mm.PageTable.PAGE;
import static dev.usercopy.mm.PageTable.ZERO;

/**
 * The fault path of one address space, named as Linux's mm/memory.c names
 * its cases. {@link #handle} finds the grant and says EFAULT where the access
 * is not allowed; a page that is not present goes to {@link #faultIn} with
 * its {@link Fault} (the window fault-around may fill), which dispatches by
 * the grant's kind: {@link #doAnonymousPage}, {@link #doCowFault} (a private
 * file page), {@link #doSharedFault} (a shared file page), device frames and
 * lent pages; a present page that may not be written yet goes to
 * {@link #doWpPage}. Every case ends by syncing the host mirrors.
 *
 * <p>Runs under the manager's lock. Throws ENOMEM when no frame or host
 * mapping is left, EIO when a file cannot be read.
 */
final class PageFault {
    /** Pages MAP_POPULATE and fork of shared grants fill at once. */
    static final int POPULATE_RUN = 512;

    /**
     * One fault: {@code page} of {@code grant}, written or read, and the lazy
     * pages around it in [from, to) that fault-around fills with it.
     */
    record Fault(Grant grant, long page, boolean write, long from, long to) {
        Fault window(long from, long to) {
            return new Fault(grant, page, write, from, to);
        }
    }

    private final MemoryManager mm;
    private final UserGrants grants;
    private final PageTable table;
    private final HostSync host;
    private final long pages;

    PageFault(MemoryManager mm, UserGrants grants, PageTable table, HostSync host, long pages) {
        this.mm = mm;
        this.grants = grants;
        this.table = table;
        this.host = host;
        this.pages = pages;
    }

    /** Makes {@code page} present, and writable for a write; false where the access is not allowed (EFAULT). */
    boolean handle(long page, boolean write) {
        Grant g = grants.at(page);
        if (g == null || (write ? (g.prot() & Prot.WRITE) == 0 : !Prot.readable(g.prot()))) {
            return false;
        }
        long pte = table.get(page);
        if (!PageTable.present(pte)) {
            return faultIn(g, page, write, mm.config.faultAround());
        }
        if (write && !host.writableNow(g, page, pte)) {
            mm.reserveVmas(2);
            if (!doWpPage(g, page, pte)) {
                return false;
            }
        }
        host.sync(page, page + 1);
        return true;
    }

    /**
     * do_wp_page: a write to a present page the host maps read-only. A zeroed
     * frame gets a frame of its own, a copy-on-write page a copy (the last
     * mapper keeps its frame: {@link HostSync#writableNow} lets it), a clean
     * shared file page is marked written, a lent page asks its lender. False
     * where the page's owner refuses (EFAULT).
     */
    /** Write faults that gave a page a frame of its own (a copy, or a zeroed frame for the zero page). */
    long cowBreaks;

    boolean doWpPage(Grant g, long page, long pte) {
        if (g.provider() instanceof FmapBorrowed) {
            mm.info.markWritten(PageTable.frame(pte)); // from now on msync writes it back
            return true;
        }
        if (g.provider() instanceof External x) {
            if (!x.mayWrite()) {
                return false;
            }
            // Only the lender can say yes: it checks its own protection, breaks its own
            // copy-on-write, and marks a file page written.
            long frame = x.lender().lendFrame(x.page() + (page - g.start()), true);
            if (frame < 0) {
                return false;
            }
            table.set(page, PageTable.entry(frame, PageTable.LENT_WRITABLE));
            return true;
        }
        cowBreaks++;
        long wanted = continuing(new Fault(g, page, true, page, page + 1));
        long frame = (pte & ZERO) != 0 ? mm.zeroedFrame(wanted, page * PAGE, false) : mm.copyOfFrame(PageTable.frame(pte), wanted, page * PAGE);
        table.install(page, PageTable.entry(frame, 0));
        return true;
    }

    /**
     * A lazy page and fault-around: fills {@code page}, and the lazy pages
     * around it in its aligned window of {@code window} pages and in its
     * grant, with one host mapping where the frames allow.
     */
    boolean faultIn(Grant g, long page, boolean write, int window) {
        long w0 = Math.max(g.start(), page & -window);
        long w1 = Math.min(g.end(), (page & -window) + window);
        long from = page;
        while (from > w0 && !PageTable.present(table.get(from - 1))) {
            from--;
        }
        long to = page + 1;
        while (to < w1 && !PageTable.present(table.get(to))) {
            to++;
        }
        if (g.provider() instanceof FmapBorrowed && to - from > 1) {
            // The file's cached pages may sit in scattered frames: up to a host mapping and a gap
            // a page. Where that does not fit the budget, fault in the one page alone.
            try {
                mm.reserveVmas(2 * (to - from));
            } catch (ErrnoException e) {
                from = page;
                to = page + 1;
            }
        }
        mm.reserveVmas(2);
        Fault f = new Fault(g, page, write, from, to);
        try {
            return fill(f);
        } catch (ErrnoException e) {
            host.sync(f.from(), f.to()); // mirror what was filled before the failure
            throw e;
        }
    }

    private boolean fill(Fault f) {
        Fault done = switch (f.grant().provider()) {
            case Allocated a when a.cowFile() == null -> doAnonymousPage(f);
            case Allocated a -> doCowFault(f, a.cowFile());
            case AllocatedShared s -> fillFresh(f, true);
            case FmapBorrowed b -> doSharedFault(f, b.file());
            case PhysBorrowed b -> {
                for (long p = f.from(); p < f.to(); p++) {
                    table.set(p, PageTable.entry(b.base() + (p - f.grant().start()), PageTable.BORROWED));
                }
                yield f;
            }
            case External x -> lentPage(f, x);
        };
        if (done == null) {
            return false;
        }
        host.sync(done.from(), done.to());
        return true;
    }

    /** do_anonymous_page: a read maps the zeroed frames (read-only), a write new zeroed frames. */
    private Fault doAnonymousPage(Fault f) {
        if (f.write()) {
            return fillFresh(f, false);
        }
        for (long p = f.from(); p < f.to(); p++) {
            table.set(p, PageTable.entry(mm.zeroFrame(p), ZERO));
        }
        return f;
    }

    /**
     * The first frame that would continue a neighbour of the window: the one
     * after the frame of the page before it, or the run that ends just before
     * the frame of the page after it; -1 when neither neighbour has a frame
     * of its own. Pages touched in either direction then map runs of frames,
     * and a host mirror maps each run as one mapping (a guest process has
     * vm.max_map_count of them).
     */
    private long continuing(Fault f) {
        long n = f.to() - f.from();
        if (f.from() > f.grant().start()) {
            long before = table.get(f.from() - 1);
            if (PageTable.refcounted(before)) {
                return PageTable.frame(before) + 1;
            }
        }
        if (f.to() < f.grant().end()) {
            long after = table.get(f.to());
            if (PageTable.refcounted(after) && PageTable.frame(after) >= n) {
                return PageTable.frame(after) - n;
            }
        }
        return -1;
    }

    /**
     * New zeroed frames for the window, contiguous if a run is free, else just
     * the faulting page's: those that continue a neighbour's if free, else
     * those the JVM's mirror still maps parked at the window (mapping them
     * again only changes the host's protection), else any.
     */
    private Fault fillFresh(Fault f, boolean shared) {
        long frame = mm.allocateAt(continuing(f), f.to() - f.from());
        if (frame < 0) {
            frame = mm.allocateNear(host.jvm().parkedFrame(f.from()), f.to() - f.from());
        }
        if (frame < 0) {
            f = f.window(f.page(), f.page() + 1);
            frame = mm.allocateOne(f.page() * PAGE);
        }
        for (long p = f.from(); p < f.to(); p++) {
            mm.takeZeroed(frame + (p - f.from()), shared);
            table.install(p, PageTable.entry(frame + (p - f.from()), 0));
        }
        return f;
    }

    /**
     * do_cow_fault, for reads too: a private file mapping gets private copies
     * of the file's bytes for the window (falling back to the faulting page
     * alone when no run is free); null when the page lies wholly past the end
     * of the file (EFAULT, Linux's SIGBUS).
     */
    private Fault doCowFault(Fault f, FileRef file) {
        f = clipToFile(f, file);
        if (f == null) {
            return null;
        }
        long frame = mm.allocateNear(continuing(f), f.to() - f.from());
        if (frame < 0) {
            f = f.window(f.page(), f.page() + 1);
            frame = mm.allocateOne(f.page() * PAGE);
        }
        Grant g = f.grant();
        boolean noneCached = true;
        for (long p = f.from(); p < f.to() && noneCached; p++) {
            noneCached = file.cache().frame(file.filePage(p - g.start())) < 0;
        }
        if (noneCached) {
            readPages(file, file.filePage(f.from() - g.start()), f.from(), frame, f.to() - f.from()); // one read for the window
        }
        for (long p = f.from(); p < f.to(); p++) {
            long copy = frame + (p - f.from());
            if (!noneCached) {
                // A page the file's shared mappings hold may be newer than the file: copy that, as
                // Linux's private mappings read through the page cache.
                long cached = file.cache().frame(file.filePage(p - g.start()));
                if (cached >= 0) {
                    mm.copyFrame(cached, copy);
                } else {
                    readPage(file, file.filePage(p - g.start()), p, copy, f.to() - p);
                }
            }
            mm.info.first(copy, false);
            table.install(p, PageTable.entry(copy, 0));
        }
        return f;
    }

    /**
     * do_read_fault / do_shared_fault on a shared file mapping: the window
     * maps the file's page-cache frames, reading the pages the cache lacks
     * (contiguous frames when it has none of them, so the host merges the
     * mapping). A write marks the page written, for msync. Null past the end
     * of the file.
     */
    private Fault doSharedFault(Fault f, FileRef file) {
        f = clipToFile(f, file);
        if (f == null) {
            return null;
        }
        Grant g = f.grant();
        boolean noneCached = true;
        for (long p = f.from(); p < f.to() && noneCached; p++) {
            noneCached = file.cache().frame(file.filePage(p - g.start())) < 0;
        }
        long run = noneCached && f.to() - f.from() > 1 ? mm.allocate(f.to() - f.from()) : -1;
        for (long p = f.from(); p < f.to(); p++) {
            long filePage = file.filePage(p - g.start());
            long frame = run >= 0 ? run + (p - f.from()) : file.cache().frame(filePage);
            if (run < 0 && frame >= 0) {
                table.set(p, PageTable.entry(frame, 0));
                continue;
            }
            if (run < 0) {
                if (p != f.page() && mm.freeFrames() == 0) {
                    continue; // fault-around is best effort; the faulting page itself must get a frame
                }
                frame = mm.allocateOne(p * PAGE);
            }
            readPage(file, filePage, p, frame, run >= 0 ? f.to() - p : 1);
            mm.info.first(frame, true);
            mm.cached(frame, file.cache(), filePage);
            table.install(p, PageTable.entry(frame, 0));
        }
        if (f.write()) {
            mm.info.markWritten(PageTable.frame(table.get(f.page())));
        }
        return f;
    }

    /** A page of another address space: only the faulting page, as its lender makes it present. */
    private Fault lentPage(Fault f, External x) {
        long frame = x.lender().lendFrame(x.page() + (f.page() - f.grant().start()), f.write());
        if (frame < 0) {
            return null;
        }
        table.set(f.page(), PageTable.entry(frame, f.write() ? PageTable.LENT_WRITABLE : 0));
        return f.window(f.page(), f.page() + 1);
    }

    /** The window cut to the pages that hold file bytes, or null if the faulting page lies wholly past the end of the file. */
    private static Fault clipToFile(Fault f, FileRef file) {
        long size;
        try {
            size = file.channel().size();
        } catch (IOException e) {
            throw new ErrnoException(Errno.EIO, f.page() * PAGE, PAGE, "cannot read the size of " + file.path() + ": " + e.getMessage());
        }
        long filePages = Math.max(0, (size - file.offset() + PAGE - 1) / PAGE); // pages of the grant with file bytes
        long last = f.grant().start() + filePages;
        return f.page() >= last ? null : f.window(f.from(), Math.min(f.to(), last));
    }

    /**
     * Fills free frame {@code frame} with file page {@code filePage} for guest
     * page {@code page}. On a read error the frame and the {@code unused - 1}
     * after it, not yet handed out, go back to the allocator, and the fault
     * is EIO.
     */
    /** Reads {@code count} file pages from {@code filePage} into frames {@code frame...}; EIO gives all of them back. */
    private void readPages(FileRef file, long filePage, long page, long frame, long count) {
        try {
            mm.readFilePages(file, filePage, frame, count);
        } catch (IOException e) {
            mm.releaseUnused(frame, count);
            throw new ErrnoException(Errno.EIO, page * PAGE, count * PAGE, "reading " + file.path() + " failed: " + e.getMessage());
        }
    }

    private void readPage(FileRef file, long filePage, long page, long frame, long unused) {
        try {
            mm.readFilePage(file, filePage, frame);
        } catch (IOException e) {
            mm.releaseUnused(frame, unused);
            throw new ErrnoException(Errno.EIO, page * PAGE, PAGE, "reading " + file.path() + " failed: " + e.getMessage());
        }
    }

    /** The frame of one of this space's pages for a borrower, made present (writable if asked) and marked shared; -1 for EFAULT. */
    long lendFrame(long page, boolean write) {
        if (mm.lendDepth >= 8) {
            return -1; // a borrow of a borrow ... that comes back to itself
        }
        mm.lendDepth++;
        try {
            return lendFrameLocked(page, write);
        } finally {
            mm.lendDepth--;
        }
    }

    private long lendFrameLocked(long page, boolean write) {
        if (page < 0 || page >= pages || !handle(page, write)) {
            return -1;
        }
        long pte = table.get(page);
        boolean cow = PageTable.refcounted(pte) && !mm.info.isShared(PageTable.frame(pte))
                && (table.leafShared(page) || mm.info.refcount(PageTable.frame(pte)) > 1);
        if ((pte & ZERO) != 0 || cow) {
            // Lender and borrower must share one frame that no one else copies on write:
            // give the lender a frame of its own first (as a write would).
            mm.reserveVmas(2);
            if (!doWpPage(grants.at(page), page, pte)) {
                return -1;
            }
            host.sync(page, page + 1);
            pte = table.get(page);
        }
        if (!PageTable.refcounted(pte)) {
            return -1;
        }
        mm.info.markShared(PageTable.frame(pte));
        return PageTable.frame(pte);
    }

    /** Makes every lazy page of [from, to) present, {@value #POPULATE_RUN} pages a fault, up to the end of a file. */
    void populateAll(long from, long to, boolean write) {
        for (long p = nextLazy(from, to); p >= 0; p = nextLazy(p + 1, to)) {
            Grant g = grants.at(p);
            if (g != null && !faultIn(g, p, write, POPULATE_RUN)) {
                return; // the rest lies past the end of the file
            }
        }
    }

    private long nextLazy(long from, long to) {
        for (long p = from; p < to; p++) {
            if (!PageTable.present(table.get(p))) {
                return p;
            }
        }
        return -1;
    }
}
