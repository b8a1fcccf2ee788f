package dev.usercopy.mm;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import dev.usercopy.mm.Provider.Allocated;
import dev.usercopy.mm.Provider.AllocatedShared;
import dev.usercopy.mm.Provider.External;
import dev.usercopy.mm.Provider.FmapBorrowed;
import dev.usercopy.mm.Provider.PhysBorrowed;
import dev.usercopy.platform.Errno;
import dev.usercopy.platform.Reservation;

import static dev.usercopy.mm.PageTable.BORROWED;
import static dev.usercopy.mm.PageTable.ZERO;

/**
 * A guest ("user") address space with Linux semantics: grants made by mmap,
 * a page table filled on demand, copy-on-write after fork.
 *
 * <p>The host mirrors the page table: every present page is mapped in the
 * {@link Reservation} with the protection its grant allows, less write while
 * the page is a zeroed frame, copy-on-write, or a clean page of a shared file.
 * A guest access the host refuses therefore means "not present" or "not
 * writable yet": the copy stops at that byte, {@link #resolve} fixes the page
 * under the manager's lock (or says EFAULT), and the copy resumes there.
 *
 * <p>Lock order: the manager's lock, then nothing. Copies run unlocked;
 * changes first take host access away, then free frames (so no copy can reach
 * a frame after it is reused).
 */
public final class AddressSpace implements AutoCloseable {
    public static final long PAGE = 4096;
    /** The lowest guest address mmap hands out or accepts with MAP_FIXED (Linux's mmap_min_addr). */
    public static final long MIN_ADDRESS = 0x10000;
    /** Consecutive faults at one address after which a copy gives up with EFAULT (a racing unmap). */
    private static final int MAX_RETRIES = 64;
    /** Pages MAP_POPULATE and fork of shared grants fill at once. */
    private static final int POPULATE_RUN = 512;

    private final MemoryManager mm;
    private final Reservation reservation;
    private final long pages;
    private final TreeMap<Long, Grant> grants = new TreeMap<>();
    private PageTable table;
    private final HostMap host;
    private volatile boolean closed;
    /** Copies skip the range check ({@link Profile#LUDICROUS}). */
    private final boolean unchecked;

    AddressSpace(MemoryManager mm) {
        this(mm, new PageTable(mm.config.addressSpaceSize() / PAGE, mm.info, mm::freed), Reservation.reserve(mm.config.addressSpaceSize()));
    }

    private AddressSpace(MemoryManager mm, PageTable table, Reservation reservation) {
        this.mm = mm;
        this.pages = mm.config.addressSpaceSize() / PAGE;
        this.reservation = reservation; // guest 0 is its first byte
        this.table = table;
        this.host = new HostMap(pages);
        this.unchecked = !mm.config.profile().checksAccess();
        mm.vmasChanged(host.vmas() + 1); // and the guard page
    }

    /** Bytes of guest address space: valid addresses are [0, size()). */
    public long size() {
        return pages * PAGE;
    }

    // ---------------------------------------------------------------- mmap & co

    /** Anonymous mmap. Returns the guest address. */
    public long mmap(long addr, long length, int prot, int flags) {
        return map(addr, length, prot, flags, null, 0);
    }

    /**
     * File mmap of a host file: MAP_SHARED reaches the file on {@link #msync};
     * MAP_PRIVATE reads it into private frames. Pages wholly past the end of
     * the file give EFAULT (Linux: SIGBUS).
     */
    public long mmapFile(long addr, long length, int prot, int flags, Path file, long offset) {
        if (offset % PAGE != 0) { // the syscall checks this before anything else
            throw new ErrnoException(Errno.EINVAL, addr, length, "file offset " + offset + " is not page-aligned");
        }
        return map(addr, length, prot, flags, file, offset);
    }

    /** Maps device frames [baseFrame, ...) of the machine (PhysBorrowed): shared, never allocated or freed. */
    public long mmapPhysical(long addr, long length, int prot, int flags, long baseFrame) {
        long n = length <= 0 || length > size() ? 0 : pageCount(length);
        // Written so that no sum can wrap: baseFrame + n could, and its frames would be another space's.
        if (n == 0 || baseFrame < mm.deviceBase || baseFrame > mm.config.frames() || n > mm.config.frames() - baseFrame) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "frames [" + baseFrame + ", +" + n + ") are not device frames ["
                    + mm.deviceBase + ", " + mm.config.frames() + ")");
        }
        return mapGrant(addr, length, prot, (flags & ~MapFlags.TYPE) | MapFlags.SHARED, () -> new PhysBorrowed(baseFrame));
    }

    /** Maps {@code length} bytes of {@code lender}'s pages at {@code lenderAddr} here (External): shared both ways. */
    public long mmapExternal(long addr, long length, int prot, int flags, AddressSpace lender, long lenderAddr) {
        return mapExternal(addr, length, prot, flags, lender, lenderAddr, true, false);
    }

    /** The whole pages of a {@link Lend}: writable only if the lend is, and not inherited by fork. */
    long mapLent(long addr, long length, AddressSpace lender, long lenderAddr, boolean writable) {
        int prot = Prot.READ | (writable ? Prot.WRITE : 0);
        return mapExternal(addr, length, prot, MapFlags.SHARED | MapFlags.FIXED, lender, lenderAddr, writable, true);
    }

    private long mapExternal(long addr, long length, int prot, int flags, AddressSpace lender, long lenderAddr, boolean mayWrite, boolean lent) {
        if (lenderAddr % PAGE != 0 || lenderAddr < 0 || lenderAddr >= lender.size() || lender.mm != mm) {
            throw new ErrnoException(Errno.EINVAL, lenderAddr, length, "lender address not page-aligned, outside the lender, or on another machine");
        }
        return mapGrant(addr, length, prot, (flags & ~MapFlags.TYPE) | MapFlags.SHARED,
                () -> new External(lender, lenderAddr / PAGE, mayWrite, lent));
    }

    private long map(long addr, long length, int prot, int flags, Path file, long offset) {
        // Under the lock from opening the file's cache to installing the grant: unused caches
        // are closed under it, and this one is unused until its grant exists.
        mm.lock.lock();
        try {
            if (file == null) {
                return mapGrant(addr, length, prot, flags, () -> switch (flags & MapFlags.TYPE) {
                    case MapFlags.SHARED -> new AllocatedShared();
                    case MapFlags.PRIVATE -> Allocated.ANONYMOUS;
                    default -> throw new ErrnoException(Errno.EINVAL, addr, length,
                            "flags 0x" + Integer.toHexString(flags) + " need exactly one of MAP_SHARED and MAP_PRIVATE");
                });
            }
            FileRef ref = open(file, offset, addr, length); // Linux: the fd is looked up first
            return mapGrant(addr, length, prot, flags, () -> fileProvider(ref, addr, length, prot, flags));
        } finally {
            mm.lock.unlock();
        }
    }

    private FileRef open(Path file, long offset, long addr, long length) {
        try {
            return new FileRef(mm.cache(file), offset);
        } catch (IOException e) {
            // The JDK reports the open's errno only in its message.
            Errno errno = String.valueOf(e.getMessage()).contains("Too many open files") ? Errno.EMFILE
                    : e instanceof java.nio.file.NoSuchFileException ? Errno.ENOENT : Errno.EACCES;
            throw new ErrnoException(errno, addr, length, "cannot open " + file + ": " + e.getMessage());
        }
    }

    /** The provider of a file mapping, with do_mmap's checks in its order: the offset's range, the type, the file's mode. */
    private Provider fileProvider(FileRef ref, long addr, long length, int prot, int flags) {
        // file_mmap_ok: the mapping must end at or below the largest file offset (signed 64-bit).
        if (ref.offset() < 0 || pageCount(length) * PAGE > Long.MAX_VALUE - ref.offset()) {
            throw new ErrnoException(Errno.EOVERFLOW, addr, length, "file offset " + Long.toUnsignedString(ref.offset())
                    + " plus the length passes the largest file offset");
        }
        boolean shared = switch (flags & MapFlags.TYPE) {
            case MapFlags.SHARED -> true;
            case MapFlags.SHARED_VALIDATE -> {
                if ((flags & ~MapFlags.LEGACY) != 0) {
                    throw new ErrnoException(Errno.EOPNOTSUPP, addr, length, "MAP_SHARED_VALIDATE with flags 0x"
                            + Integer.toHexString(flags & ~MapFlags.LEGACY) + " it does not know");
                }
                yield true;
            }
            case MapFlags.PRIVATE -> false;
            default -> throw new ErrnoException(Errno.EINVAL, addr, length,
                    "flags 0x" + Integer.toHexString(flags) + " have no mapping type (MAP_SHARED, MAP_PRIVATE or MAP_SHARED_VALIDATE)");
        };
        if (shared && (prot & Prot.WRITE) != 0 && !java.nio.file.Files.isWritable(ref.path())) {
            throw new ErrnoException(Errno.EACCES, addr, length, ref.path() + " is not writable for a shared writable mapping");
        }
        return shared ? new FmapBorrowed(ref) : new Allocated(ref);
    }

    /** Pages of a length known to be in 1..size(). */
    private static long pageCount(long length) {
        return (length + PAGE - 1) / PAGE;
    }

    /**
     * Places and installs a grant, with do_mmap's checks in Linux's order:
     * the length, the address (range, alignment, mmap_min_addr),
     * MAP_FIXED_NOREPLACE's overlap, then {@code provider}'s own (the type,
     * the file), then the space a hint or a search finds. Protection bits
     * and flags Linux's mmap ignores are ignored.
     */
    private long mapGrant(long addr, long length, int prot, int flags, java.util.function.Supplier<Provider> provider) {
        if (length == 0) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "length 0");
        }
        // A negative length is a size_t past the end of every address space.
        if (length < 0 || length > size()) {
            throw new ErrnoException(Errno.ENOMEM, addr, length, "length is more than the address space (0x" + Long.toHexString(size()) + ")");
        }
        long n = pageCount(length);
        boolean fixed = (flags & (MapFlags.FIXED | MapFlags.FIXED_NOREPLACE)) != 0;
        mm.lock.lock();
        try {
            checkOpen(addr, length);
            if (fixed) {
                // Unsigned, as Linux compares: a negative address is past the end.
                if (Long.compareUnsigned(addr, size() - n * PAGE) > 0) {
                    throw new ErrnoException(Errno.ENOMEM, addr, length, "range runs past the end of the address space (0x" + Long.toHexString(size()) + ")");
                }
                if (addr % PAGE != 0) {
                    throw new ErrnoException(Errno.EINVAL, addr, length, "MAP_FIXED address is not page-aligned");
                }
                if (addr < MIN_ADDRESS) {
                    throw new ErrnoException(Errno.EPERM, addr, length, "MAP_FIXED below the lowest mappable address 0x" + Long.toHexString(MIN_ADDRESS));
                }
                if ((flags & MapFlags.FIXED_NOREPLACE) != 0 && overlaps(addr / PAGE, addr / PAGE + n)) {
                    throw new ErrnoException(Errno.EEXIST, addr, length, "MAP_FIXED_NOREPLACE over an existing mapping");
                }
            }
            long start = fixed ? addr / PAGE : findFree(addr, n);
            Provider p = provider.get();
            if (fixed) {
                reserveUnmap(start, start + n);
                unmapLocked(start, start + n);
            }
            grants.put(start, new Grant(start, n, prot & Prot.ALL, p));
            if ((flags & MapFlags.POPULATE) != 0) {
                try {
                    populateAll(start, start + n, (prot & Prot.WRITE) != 0);
                } catch (ErrnoException e) {
                    unmapLocked(start, start + n);
                    mm.flushFreed();
                    throw new ErrnoException(e.errno(), start * PAGE, length, "MAP_POPULATE failed, mapping undone: " + e.getMessage());
                }
            }
            return start * PAGE;
        } finally {
            mm.flushFreed();
            mm.lock.unlock();
        }
    }

    private boolean overlaps(long from, long to) {
        Map.Entry<Long, Grant> e = grants.lowerEntry(to);
        return e != null && e.getValue().end() > from;
    }

    /**
     * The hint's page if [hint, +n) is free and inside, else the lowest free
     * range from MIN_ADDRESS. An unaligned hint is rounded down, as Linux x86
     * does.
     */
    private long findFree(long hint, long n) {
        long h = hint / PAGE;
        if (hint >= MIN_ADDRESS && h <= pages - n && !overlaps(h, h + n)) {
            return h;
        }
        long candidate = MIN_ADDRESS / PAGE;
        for (Grant g : grants.values()) {
            if (g.start() - candidate >= n) {
                break;
            }
            candidate = Math.max(candidate, g.end());
        }
        if (candidate + n > pages) {
            throw new ErrnoException(Errno.ENOMEM, hint, n * PAGE, "no free range of " + n + " pages in the address space");
        }
        return candidate;
    }

    public void munmap(long addr, long length) {
        long[] r = pageRange(addr, length);
        mm.lock.lock();
        try {
            checkOpen(addr, length);
            reserveUnmap(r[0], r[1]);
            unmapLocked(r[0], r[1]);
        } finally {
            mm.flushFreed();
            mm.lock.unlock();
        }
    }

    /** ENOMEM unless unmapping [from, to) fits the VMA budget: a hole inside a host mapping splits it; a whole one merges. */
    private void reserveUnmap(long from, long to) {
        HostMap trial = host.scratch(from, to);
        long before = trial.vmas();
        trial.unmap(from, to - from);
        mm.reserveVmas(trial.vmas() - before);
    }

    /** [first page, end page) of a page-aligned range inside the address space, or EINVAL. */
    private long[] pageRange(long addr, long length) {
        if (addr % PAGE != 0 || length <= 0 || addr < 0 || addr > size() - length) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "range is not page-aligned, empty, or outside the address space");
        }
        return new long[] {addr / PAGE, (addr + length + PAGE - 1) / PAGE};
    }

    /**
     * Removes [from, to): grants, then host access (no grant, nothing mapped),
     * then the page table's references. In that order, so no frame is freed
     * while the host still maps it, even if the host call fails.
     */
    private void unmapLocked(long from, long to) {
        splitAt(from);
        splitAt(to);
        for (Grant g : List.copyOf(grants.subMap(from, true, to, false).values())) {
            grants.remove(g.start());
        }
        sync(from, to);
        clearPages(from, to);
    }

    private void clearPages(long from, long to) {
        for (long p = table.nextPresent(from, to); p >= 0; p = table.nextPresent(p + 1, to)) {
            table.set(p, 0);
        }
    }

    /** Splits the grant that spans {@code page}, if any, so a grant starts there. */
    private void splitAt(long page) {
        Map.Entry<Long, Grant> e = grants.lowerEntry(page);
        if (e == null || e.getValue().end() <= page) {
            return;
        }
        Grant g = e.getValue();
        grants.put(g.start(), g.slice(g.start(), page));
        grants.put(page, g.slice(page, g.end()));
    }

    /**
     * The page-aligned end of {@code [addr, addr + length)} computed as Linux
     * does, in unsigned 64-bit arithmetic: {@code addr + PAGE_ALIGN(length)}.
     * A negative length is a huge size_t; the sum may wrap, which each caller
     * checks with its own errno.
     */
    private static long alignedEnd(long addr, long length) {
        return addr + ((length + PAGE - 1) & -PAGE);
    }

    /** The first page at or after {@code end} (an unsigned byte address) inside this space: at most {@link #pages}. */
    private long pageLimit(long end) {
        return Long.compareUnsigned(end, size()) >= 0 ? pages : end / PAGE;
    }

    /**
     * Where a change of [from, to) that walks the grants in order, as
     * Linux's mprotect does, stops: the first page not covered by a grant,
     * or the first grant {@code refusal} names an errno for. Returns
     * {stop page, errno ordinal or -1}.
     */
    private long[] walkStop(long from, long to, java.util.function.Function<Grant, Errno> refusal) {
        long p = from;
        for (Grant g : grantsIn(from, to)) {
            if (g.start() > p) {
                return new long[] {p, Errno.ENOMEM.ordinal()};
            }
            Errno refused = refusal.apply(g);
            if (refused != null) {
                return new long[] {p, refused.ordinal()};
            }
            p = g.end();
        }
        return p < to ? new long[] {p, Errno.ENOMEM.ordinal()} : new long[] {to, -1};
    }

    /**
     * mprotect with Linux's order of checks (do_mprotect_pkey): EINVAL for
     * an unaligned address, success for length 0, ENOMEM for a range that
     * wraps, EINVAL for unknown protection bits, then a walk of the grants
     * from {@code addr}: each is changed until the first hole (ENOMEM) or the
     * first grant that may not become writable (EACCES), and the grants
     * before it keep their new protection. The VMA budget for the whole
     * change is reserved before anything changes.
     */
    public void mprotect(long addr, long length, int prot) {
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
        long end = alignedEnd(addr, length);
        if (Long.compareUnsigned(end, addr) <= 0) {
            throw new ErrnoException(Errno.ENOMEM, addr, length, "range wraps around the end of the address space");
        }
        if ((prot & ~(Prot.ALL | Prot.SEM | grows)) != 0) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "protection 0x" + Integer.toHexString(prot) + " has unknown bits");
        }
        int newProt = prot & Prot.ALL;
        mm.lock.lock();
        try {
            checkOpen(addr, length);
            long from = pageLimit(addr);
            long to = pageLimit(end);
            if (grows != 0) { // no grant grows: EINVAL once there is one to refuse
                throw new ErrnoException(grantsIn(from, to).isEmpty() ? Errno.ENOMEM : Errno.EINVAL, addr, length,
                        "PROT_GROWSDOWN/PROT_GROWSUP, and no mapping here grows");
            }
            if (from >= pages || grantAt(from) == null) {
                throw new ErrnoException(Errno.ENOMEM, addr, length, "page 0x" + Long.toHexString(addr) + " is not mapped");
            }
            long[] stop = walkStop(from, to, g -> (g.provider() instanceof FmapBorrowed || g.provider() instanceof External)
                    && (newProt & Prot.WRITE) != 0 && (g.prot() & Prot.WRITE) == 0 && !writableBacking(g) ? Errno.EACCES : null);
            if (stop[1] < 0 && Long.compareUnsigned(end, size()) > 0) {
                stop = new long[] {pages, Errno.ENOMEM.ordinal()}; // past user space: nothing is mapped there
            }
            long upTo = stop[0];
            // Pages of one grant may differ in what the host lets them do (copy-on-write, zeroed,
            // clean file pages), so the new protection can split mappings inside the range too.
            mm.reserveVmas(costOf(from, upTo, newProt));
            splitAt(from);
            splitAt(upTo);
            for (Grant g : List.copyOf(grants.subMap(from, true, upTo, false).values())) {
                grants.put(g.start(), g.withProt(newProt));
            }
            sync(from, upTo);
            if (stop[1] >= 0) {
                Errno errno = Errno.values()[(int) stop[1]];
                throw new ErrnoException(errno, addr, length, "page 0x" + Long.toHexString(upTo * PAGE)
                        + (errno == Errno.ENOMEM ? " is not mapped" : grantAt(upTo).provider() instanceof External
                                ? " is lent read-only" : " maps a file that is not writable")
                        + "; the pages before it were changed");
            }
        } finally {
            mm.lock.unlock();
        }
    }

    /** How many host mappings giving the grants in [from, to) protection {@code prot} adds (negative: frees). */
    private long costOf(long from, long to, int prot) {
        HostMap trial = host.scratch(from, to);
        long before = trial.vmas();
        long p = from;
        while (p < to) {
            Grant g = grantAt(p);
            long[] want = g == null ? null : desired(g.withProt(prot), p);
            long q = p + 1;
            while (q < to && sameStretch(want, g == null ? null : desired(g.withProt(prot), q), q - p)) {
                q++;
            }
            if (want == null) {
                trial.unmap(p, q - p);
            } else {
                trial.map(p, q - p, want[0], (int) want[1]);
            }
            p = q;
        }
        return trial.vmas() - before;
    }

    private static boolean sameStretch(long[] first, long[] next, long distance) {
        return first == null ? next == null : next != null && next[0] == first[0] + distance && next[1] == first[1];
    }

    private static boolean writableBacking(Grant g) {
        return switch (g.provider()) {
            case FmapBorrowed f -> java.nio.file.Files.isWritable(f.file().path());
            case External x -> x.mayWrite();
            default -> true;
        };
    }

    /**
     * MADV_DONTNEED, in Linux's order (do_madvise): EINVAL for an unaligned
     * address or a range that wraps, success for length 0; then every mapped
     * part of the range is dropped, holes skipped, and ENOMEM at the end if
     * there was one. Private pages are dropped (their frames freed): the next
     * read sees zeros, or the file. Shared pages stay. Device frames
     * (PhysBorrowed, Linux's VM_PFNMAP) are EINVAL, the grants before them
     * dropped.
     */
    public void madviseDontNeed(long addr, long length) {
        if (addr % PAGE != 0) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "address is not page-aligned");
        }
        long end = alignedEnd(addr, length);
        if (length != 0 && end == addr || Long.compareUnsigned(end, addr) < 0) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "range wraps around the end of the address space");
        }
        if (end == addr) {
            return;
        }
        mm.lock.lock();
        try {
            checkOpen(addr, length);
            long from = pageLimit(addr);
            long to = pageLimit(end);
            List<Grant> cover = grantsIn(from, to);
            long upTo = to;
            for (Grant g : cover) {
                if (g.provider() instanceof PhysBorrowed) {
                    upTo = Math.max(from, g.start());
                    break;
                }
            }
            HostMap trial = host.scratch(from, upTo);
            long before = trial.vmas();
            for (Grant g : cover) {
                if (g.provider() instanceof Allocated && g.start() < upTo) {
                    long s = Math.max(g.start(), from);
                    trial.unmap(s, Math.min(g.end(), upTo) - s); // private pages become holes
                }
            }
            mm.reserveVmas(trial.vmas() - before);
            for (Grant g : cover) {
                if (g.provider() instanceof Allocated && g.start() < upTo) {
                    long s = Math.max(g.start(), from);
                    long e = Math.min(g.end(), upTo);
                    if (host.anyIn(s, e)) {
                        unmapHost(s, e); // host access first, then the references
                    }
                    clearPages(s, e);
                }
            }
            sync(from, upTo);
            if (upTo < to) {
                throw new ErrnoException(Errno.EINVAL, addr, length, "page 0x" + Long.toHexString(upTo * PAGE)
                        + " maps device frames, which MADV_DONTNEED cannot drop; the pages before it were dropped");
            }
            long hole = firstHole(from, to, cover);
            if (hole >= 0 || Long.compareUnsigned(end, size()) > 0) {
                throw new ErrnoException(Errno.ENOMEM, addr, length, "page 0x" + Long.toHexString((hole >= 0 ? hole : pages) * PAGE)
                        + " is not mapped; the mapped pages of the range were dropped");
            }
        } finally {
            mm.flushFreed();
            mm.lock.unlock();
        }
    }

    /** The first page of [from, to) that none of {@code cover} (the grants in it, in order) holds, or -1. */
    private static long firstHole(long from, long to, List<Grant> cover) {
        long p = from;
        for (Grant g : cover) {
            if (g.start() > p) {
                return p;
            }
            p = g.end();
        }
        return p < to ? p : -1;
    }

    /**
     * msync(MS_SYNC), in Linux's order: EINVAL for an unaligned address,
     * ENOMEM for a range that wraps, success for length 0; then the pages of
     * shared file mappings in the range that were ever written, through any
     * mapping, go back to their files, holes skipped, and ENOMEM at the end
     * if there was one.
     */
    public void msync(long addr, long length) {
        if (addr % PAGE != 0) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "address is not page-aligned");
        }
        long end = alignedEnd(addr, length);
        if (Long.compareUnsigned(end, addr) < 0) {
            throw new ErrnoException(Errno.ENOMEM, addr, length, "range wraps around the end of the address space");
        }
        if (end == addr) {
            return;
        }
        mm.lock.lock();
        try {
            checkOpen(addr, length);
            long from = pageLimit(addr);
            long to = pageLimit(end);
            List<Grant> cover = grantsIn(from, to);
            byte[] buf = new byte[(int) PAGE];
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
                    if (frame >= 0 && mm.info.isWritten(frame)) {
                        mm.memory.frame(frame).read(0, buf, 0, buf.length);
                        f.file().cache().write(filePage, buf);
                    }
                }
                f.file().channel().force(false);
            }
            long hole = firstHole(from, to, cover);
            if (hole >= 0 || Long.compareUnsigned(end, size()) > 0) {
                throw new ErrnoException(Errno.ENOMEM, addr, length, "page 0x" + Long.toHexString((hole >= 0 ? hole : pages) * PAGE)
                        + " is not mapped; the mapped pages of the range were written back");
            }
        } catch (IOException e) {
            throw new ErrnoException(Errno.EIO, addr, length, "msync write-back failed: " + e.getMessage());
        } finally {
            mm.lock.unlock();
        }
    }

    // ---------------------------------------------------------------- fork and close

    /**
     * A copy of this address space: private pages become copy-on-write in
     * both, shared mappings stay shared. The child's host mappings are made
     * from this one's runs, one mmap a run, so the cost is one step per run
     * and per 512 pages of page table, not per page.
     */
    public AddressSpace fork() {
        mm.lock.lock();
        try {
            checkOpen(0, 0);
            mm.reserveVmas(host.vmas() + 3);
            // Shared anonymous grants must have all their frames before the page table is shared,
            // or each side would fill a lazy page with a frame of its own. (Shared file pages
            // meet again in the file's page cache.)
            for (Grant g : List.copyOf(grants.values())) {
                if (g.provider() instanceof AllocatedShared) {
                    populateAll(g.start(), g.end(), false);
                }
            }
            // Take write access away from private pages before anyone shares them.
            for (HostMap.Run run : toList(host.runs())) {
                if ((run.prot() & Prot.WRITE) == 0) {
                    continue;
                }
                for (Grant g : grantsIn(run.start(), run.end())) {
                    if (g.provider() instanceof Allocated) {
                        long s = Math.max(run.start(), g.start());
                        long e = Math.min(run.end(), g.end());
                        protectHost(s, e, run.frameAt(s), run.prot() & ~Prot.WRITE);
                    }
                }
            }
            // The child's host range before anything that takes references: its failure leaks nothing.
            Reservation childRange = Reservation.reserve(size());
            PageTable childTable = mm.config.forkMode() == MemoryManager.ForkMode.SHARED_TABLES ? table.forkShared() : table.forkCopied();
            AddressSpace child = new AddressSpace(mm, childTable, childRange);
            mm.registerFork(child);
            child.grants.putAll(grants);
            for (HostMap.Run run : host.runs()) {
                child.mapHost(run.start(), run.end(), run.frame(), run.prot());
            }
            // A lend's pages stay with the borrower alone: its end must be able to take them all back.
            for (Grant g : List.copyOf(child.grants.values())) {
                if (g.provider() instanceof External x && x.lent()) {
                    try {
                        child.reserveUnmap(g.start(), g.end());
                        child.unmapLocked(g.start(), g.end());
                    } catch (ErrnoException e) {
                        child.close();
                        throw e;
                    }
                }
            }
            return child;
        } finally {
            mm.flushFreed();
            mm.lock.unlock();
        }
    }

    private static List<HostMap.Run> toList(Iterable<HostMap.Run> runs) {
        List<HostMap.Run> out = new ArrayList<>();
        runs.forEach(out::add);
        return out;
    }

    private List<Grant> grantsIn(long from, long to) {
        List<Grant> out = new ArrayList<>();
        Map.Entry<Long, Grant> first = grants.floorEntry(from);
        Long key = first != null && first.getValue().end() > from ? first.getKey() : grants.ceilingKey(from);
        if (key != null) {
            for (Grant g : grants.tailMap(key, true).values()) {
                if (g.start() >= to) {
                    break;
                }
                out.add(g);
            }
        }
        return out;
    }

    /** Unmaps everything and frees what only this address space held. Copies still running end with nothing copied. */
    @Override
    public void close() {
        // Under the lock, so no fault resolution maps into the range once it is given back;
        // copies in flight hold no lock, so waiting for them here cannot deadlock.
        mm.lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            reservation.close(); // waits for copies in flight; none can reach a frame after this
            grants.clear();
            table.release();
            mm.vmasChanged(-(host.vmas() + 1));
            mm.removed(this);
        } finally {
            mm.flushFreed();
            mm.lock.unlock();
        }
    }

    private void checkOpen(long addr, long length) {
        mm.checkOpen();
        if (closed) {
            throw new ErrnoException(Errno.EFAULT, addr, length, "address space is closed");
        }
    }

    // ---------------------------------------------------------------- faults

    private Grant grantAt(long page) {
        Map.Entry<Long, Grant> e = grants.floorEntry(page);
        return e != null && e.getValue().contains(page) ? e.getValue() : null;
    }

    /**
     * Resolves a fault on guest byte {@code address}: makes its page present,
     * or writable for a write. Returns false where the access is not allowed
     * (EFAULT). Throws ENOMEM when no frame or host mapping is left.
     */
    public boolean resolve(long address, boolean write) {
        if (address < 0 || address >= size()) {
            return false;
        }
        mm.lock.lock();
        try {
            return !closed && resolveLocked(address / PAGE, write);
        } finally {
            mm.flushFreed();
            mm.lock.unlock();
        }
    }

    private boolean resolveLocked(long page, boolean write) {
        Grant g = grantAt(page);
        if (g == null || (write ? (g.prot() & Prot.WRITE) == 0 : !Prot.readable(g.prot()))) {
            return false;
        }
        long pte = table.get(page);
        if (!PageTable.present(pte)) {
            return populate(g, page, write, mm.config.faultAround());
        }
        if (write && !writableNow(g, page, pte)) {
            mm.reserveVmas(2);
            if (!makeWritable(g, page, pte)) {
                return false;
            }
        }
        sync(page, page + 1);
        return true;
    }

    /** Whether a present page may be mapped writable now (its grant allowing it). */
    private boolean writableNow(Grant g, long page, long pte) {
        if ((pte & ZERO) != 0) {
            return false;
        }
        if ((pte & BORROWED) != 0) {
            return true;
        }
        return switch (g.provider()) {
            case FmapBorrowed f -> mm.info.isWritten(PageTable.frame(pte));
            case Allocated a -> mm.info.isShared(PageTable.frame(pte)) || (!table.leafShared(page) && mm.info.refcount(PageTable.frame(pte)) == 1);
            case AllocatedShared s -> true;
            case External x -> (pte & PageTable.LENT_WRITABLE) != 0;
            case PhysBorrowed b -> true;
        };
    }

    /** Makes a present page writable (its grant allows it); false where the page's owner refuses (EFAULT). */
    private boolean makeWritable(Grant g, long page, long pte) {
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
        if ((pte & ZERO) != 0) {
            long frame = mm.allocateOne(page * PAGE);
            if (mm.info.first(frame, false)) {
                mm.memory.frame(frame).zero();
            }
            table.install(page, PageTable.entry(frame, 0));
            return true;
        }
        // Copy-on-write with another mapper (writableNow lets the last owner keep its frame).
        long old = PageTable.frame(pte);
        long frame = mm.allocateOne(page * PAGE);
        mm.info.first(frame, false);
        mm.memory.frame(old).copyTo(mm.memory.frame(frame));
        table.install(page, PageTable.entry(frame, 0));
        return true;
    }

    /**
     * Fills a lazy page, and the lazy pages around it in its aligned window
     * of {@code window} pages and in its grant, with one host mapping.
     */
    private boolean populate(Grant g, long page, boolean write, int window) {
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
        long window0 = from;
        long window1 = to;
        try {
            return fill(g, page, write, from, to);
        } catch (ErrnoException e) {
            sync(window0, window1); // mirror what was filled before the failure
            throw e;
        }
    }

    private boolean fill(Grant g, long page, boolean write, long from, long to) {
        switch (g.provider()) {
            case Allocated a when a.cowFile() == null -> {
                if (write) {
                    fillFresh(page, from, to, false);
                } else {
                    for (long p = from; p < to; p++) {
                        table.set(p, PageTable.entry(mm.zeroFrame(p), ZERO));
                    }
                }
            }
            case Allocated a -> {
                long[] r = clipToFile(a.cowFile(), g, page, from, to);
                if (r == null) {
                    return false;
                }
                fillPrivateFromFile(a.cowFile(), g, page, r[0], r[1]);
                from = r[0];
                to = r[1];
            }
            case AllocatedShared s -> fillFresh(page, from, to, true);
            case FmapBorrowed f -> {
                long[] r = clipToFile(f.file(), g, page, from, to);
                if (r == null) {
                    return false;
                }
                fillFromCache(f.file(), g, page, r[0], r[1]);
                if (write) {
                    mm.info.markWritten(PageTable.frame(table.get(page)));
                }
                from = r[0];
                to = r[1];
            }
            case PhysBorrowed b -> {
                for (long p = from; p < to; p++) {
                    table.set(p, PageTable.entry(b.base() + (p - g.start()), BORROWED));
                }
            }
            case External x -> {
                long frame = x.lender().lendFrame(x.page() + (page - g.start()), write);
                if (frame < 0) {
                    return false;
                }
                table.set(page, PageTable.entry(frame, write ? PageTable.LENT_WRITABLE : 0));
                from = page;
                to = page + 1;
            }
        }
        sync(from, to);
        return true;
    }

    /** New zeroed frames for [from, to), contiguous if a run is free, else just {@code page}'s. */
    private void fillFresh(long page, long from, long to, boolean shared) {
        long frame = mm.allocate(to - from);
        if (frame < 0) {
            from = page;
            to = page + 1;
            frame = mm.allocateOne(page * PAGE);
        }
        for (long p = from; p < to; p++) {
            if (mm.info.first(frame + (p - from), shared)) {
                mm.memory.frame(frame + (p - from)).zero();
            }
            table.install(p, PageTable.entry(frame + (p - from), 0));
        }
    }

    /** [from, to) cut to the pages that hold file bytes, or null if {@code page} lies wholly past the end of the file. */
    private long[] clipToFile(FileRef file, Grant g, long page, long from, long to) {
        long size;
        try {
            size = file.channel().size();
        } catch (IOException e) {
            throw new ErrnoException(Errno.EIO, page * PAGE, PAGE, "cannot read the size of " + file.path() + ": " + e.getMessage());
        }
        long filePages = Math.max(0, (size - file.offset() + PAGE - 1) / PAGE); // pages of the grant with file bytes
        long last = g.start() + filePages;
        if (page >= last) {
            return null;
        }
        return new long[] {from, Math.min(to, last)};
    }

    /** Private copies of the file's bytes for [from, to), falling back to {@code page} alone when no run is free. */
    private void fillPrivateFromFile(FileRef file, Grant g, long page, long from, long to) {
        long frame = mm.allocate(to - from);
        if (frame < 0) {
            from = page;
            to = page + 1;
            frame = mm.allocateOne(page * PAGE);
        }
        for (long p = from; p < to; p++) {
            long f = frame + (p - from);
            // A page the file's shared mappings hold may be newer than the file: copy that, as
            // Linux's private mappings read through the page cache.
            long cached = file.cache().frame(file.filePage(p - g.start()));
            if (cached >= 0) {
                mm.memory.frame(cached).copyTo(mm.memory.frame(f));
            } else {
                readPage(file, file.filePage(p - g.start()), p, f, to - p);
            }
            mm.info.first(f, false);
            table.install(p, PageTable.entry(f, 0));
        }
    }

    /** Maps [from, to) to the file's page-cache frames, reading the pages the cache lacks. */
    private void fillFromCache(FileRef file, Grant g, long page, long from, long to) {
        boolean noneCached = true;
        for (long p = from; p < to && noneCached; p++) {
            noneCached = file.cache().frame(file.filePage(p - g.start())) < 0;
        }
        long run = noneCached && to - from > 1 ? mm.allocate(to - from) : -1;
        if (run >= 0) {
            // A window the cache knows nothing of: contiguous frames, so the host merges the mapping.
            for (long p = from; p < to; p++) {
                long frame = run + (p - from);
                readPage(file, file.filePage(p - g.start()), p, frame, to - p);
                mm.info.first(frame, true);
                mm.cached(frame, file.cache(), file.filePage(p - g.start()));
                table.install(p, PageTable.entry(frame, 0));
            }
            return;
        }
        for (long p = from; p < to; p++) {
            long filePage = file.filePage(p - g.start());
            long frame = file.cache().frame(filePage);
            if (frame >= 0) {
                table.set(p, PageTable.entry(frame, 0));
                continue;
            }
            if (p != page && mm.allocator.free() == 0) {
                continue; // fault-around is best effort; the faulting page itself must get a frame
            }
            frame = mm.allocateOne(p * PAGE);
            readPage(file, filePage, p, frame, 1);
            mm.info.first(frame, true);
            mm.cached(frame, file.cache(), filePage);
            table.install(p, PageTable.entry(frame, 0));
        }
    }

    /**
     * Fills free frame {@code frame} with file page {@code filePage} for guest
     * page {@code page} (zeros past the end of the file). Fortress reads into
     * a kernel buffer and copies that into the frame; the other profiles read
     * straight into the frame. On a read error the frame and the
     * {@code unused - 1} after it, not yet handed out, go back to the
     * allocator, and the fault is EIO.
     */
    private void readPage(FileRef file, long filePage, long page, long frame, long unused) {
        try {
            if (mm.config.profile() == Profile.FORTRESS) {
                byte[] buf = mm.pageBuffer;
                file.cache().read(filePage, buf);
                mm.memory.frame(frame).write(0, buf, 0, buf.length);
            } else {
                mm.memory.frame(frame).readFrom(file.channel(), filePage * PAGE);
            }
        } catch (IOException e) {
            mm.allocator.release(frame, unused);
            throw new ErrnoException(Errno.EIO, page * PAGE, PAGE, "reading " + file.path() + " failed: " + e.getMessage());
        }
    }

    /** The frame of one of this space's pages for a borrower, made present (writable if asked) and marked shared; -1 for EFAULT. */
    private long lendFrame(long page, boolean write) {
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
        if (closed || page < 0 || page >= pages || !resolveLocked(page, write)) {
            return -1;
        }
        long pte = table.get(page);
        boolean cow = PageTable.refcounted(pte) && !mm.info.isShared(PageTable.frame(pte))
                && (table.leafShared(page) || mm.info.refcount(PageTable.frame(pte)) > 1);
        if ((pte & ZERO) != 0 || cow) {
            // Lender and borrower must share one frame that no one else copies on write:
            // give the lender a frame of its own first (as a write would).
            mm.reserveVmas(2);
            if (!makeWritable(grantAt(page), page, pte)) {
                return -1;
            }
            sync(page, page + 1);
            pte = table.get(page);
        }
        if (!PageTable.refcounted(pte)) {
            return -1;
        }
        mm.info.markShared(PageTable.frame(pte));
        return PageTable.frame(pte);
    }

    private void populateAll(long from, long to, boolean write) {
        for (long p = nextLazy(from, to); p >= 0; p = nextLazy(p + 1, to)) {
            Grant g = grantAt(p);
            if (g != null && !populate(g, p, write, POPULATE_RUN)) {
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

    // ---------------------------------------------------------------- host mirror

    /** What the host should map at {@code page}: {frame, prot}, or null for nothing. */
    private long[] desired(Grant g, long page) {
        long pte = table.get(page);
        if (g == null || !PageTable.present(pte)) {
            return null;
        }
        int prot = g.prot();
        if (Prot.readable(prot)) {
            prot |= Prot.READ; // x86 reads a writable page: taking write away must not take reading too
        }
        if ((prot & Prot.WRITE) != 0 && !writableNow(g, page, pte)) {
            prot &= ~Prot.WRITE;
        }
        return new long[] {PageTable.frame(pte), prot};
    }

    /** Brings the host mappings of [from, to) in line with the grants and the page table. */
    private void sync(long from, long to) {
        long p = from;
        while (p < to) {
            Grant g = grantAt(p);
            long[] want = desired(g, p);
            long q = p + 1;
            if (want == null) {
                long gEnd = g == null ? nextGrantStart(p, to) : Math.min(g.end(), to);
                while (q < gEnd && desired(g, q) == null) {
                    q++;
                }
                if (host.anyIn(p, q)) {
                    unmapHost(p, q);
                }
            } else {
                long gEnd = Math.min(g.end(), to);
                while (q < gEnd) {
                    long[] next = desired(g, q);
                    if (next == null || next[0] != want[0] + (q - p) || next[1] != want[1]) {
                        break;
                    }
                    q++;
                }
                if (!host.maps(p, q, want[0], (int) want[1])) {
                    mapHost(p, q, want[0], (int) want[1]);
                }
            }
            p = q;
        }
    }

    private long nextGrantStart(long page, long limit) {
        Long k = grants.ceilingKey(page);
        return k == null ? limit : Math.min(k, limit);
    }

    private void mapHost(long from, long to, long frame, int prot) {
        long before = host.vmas();
        // Populate writable mappings: they are about to be written (a write fault, a fork's child
        // that shares the parent's written frames); read-only ones may map zeroed frames lazily.
        reservation.map(from * PAGE, mm.memory, frame, to - from, prot, (prot & Prot.WRITE) != 0);
        host.map(from, to - from, frame, prot);
        mm.vmasChanged(host.vmas() - before);
    }

    private void unmapHost(long from, long to) {
        long before = host.vmas();
        reservation.unmap(from * PAGE, (to - from) * PAGE);
        host.unmap(from, to - from);
        mm.vmasChanged(host.vmas() - before);
    }

    private void protectHost(long from, long to, long frame, int prot) {
        long before = host.vmas();
        reservation.protect(from * PAGE, (to - from) * PAGE, prot);
        host.map(from, to - from, frame, prot);
        mm.vmasChanged(host.vmas() - before);
    }

    /** The host mappings (VMAs) over this address space's guest range, by the model the budget uses; the guard page is one more. */
    public long vmas() {
        return host.vmas();
    }

    /** The host mappings the kernel has over this address space's guest range (reads /proc/self/maps). */
    public long hostVmasMeasured() {
        return reservation.hostMappings();
    }

    /** Adds the page caches this space's file grants use. */
    void pageCachesInUse(Set<PageCache> used) {
        for (Grant g : grants.values()) {
            switch (g.provider()) {
                case Allocated a when a.cowFile() != null -> used.add(a.cowFile().cache());
                case FmapBorrowed f -> used.add(f.file().cache());
                default -> { }
            }
        }
    }

    void countReferences(Map<Object, Boolean> leaves, Map<Long, Long> refs) {
        table.countReferences(leaves, refs);
    }

    /**
     * Throws if a host mapping maps another frame than the page table, or
     * allows more than it: less is allowed (after the other side of a
     * copy-on-write pair breaks it, this side may write, and learns so at its
     * next write fault).
     */
    void checkHostMappings() {
        for (HostMap.Run run : host.runs()) {
            for (long p = run.start(); p < run.end(); p++) {
                long[] want = desired(grantAt(p), p);
                if (want == null || want[0] != run.frameAt(p) || (run.prot() & ~want[1]) != 0) {
                    throw new IllegalStateException("guest page 0x" + Long.toHexString(p * PAGE) + " is host-mapped to frame "
                            + run.frameAt(p) + " " + Prot.toString(run.prot()) + " but should be "
                            + (want == null ? "unmapped" : "frame " + want[0] + " " + Prot.toString((int) want[1])));
                }
            }
        }
        for (Grant g : grants.values()) {
            for (long p = table.nextPresent(g.start(), g.end()); p >= 0; p = table.nextPresent(p + 1, g.end())) {
                if (host.at(p) == null) {
                    throw new IllegalStateException("guest page 0x" + Long.toHexString(p * PAGE) + " is present but not host-mapped");
                }
            }
        }
        if (host.recount() != host.vmas()) {
            throw new IllegalStateException("VMA count " + host.vmas() + " but the runs make " + host.recount());
        }
    }

    // ---------------------------------------------------------------- copies

    /**
     * {@link #resolve} for a copy of {@code length} at {@code start} that got
     * {@code done} bytes in: an ENOMEM says so. {@code masked}: the unchecked
     * copies reach guest addresses modulo the size, so resolve that one.
     */
    private boolean resolveDuringCopy(long start, long length, long done, boolean write, boolean masked) {
        try {
            return resolve(masked ? (start + done) & (size() - 1) : start + done, write);
        } catch (ErrnoException e) {
            throw new ErrnoException(e.errno(), start, length, done, "copy stopped at guest 0x" + Long.toHexString(start + done) + ": " + e.reason());
        }
    }

    /**
     * Copies guest bytes at {@code from} into {@code to}, resolving demand
     * faults on the way. Returns the bytes not copied: 0, or the count from
     * the first byte the guest may not read (EFAULT); those last bytes of
     * {@code to} are zeroed, as Linux's {@code copy_from_user} does, so a
     * reused kernel buffer never hands old kernel bytes to a guest. A range
     * that does not lie wholly inside user space copies nothing (Linux's
     * {@code access_ok}).
     *
     * <p>Under {@link Profile#LUDICROUS} no range is checked: the guest
     * address is taken modulo the address-space size, and a copy that would
     * run past the end faults in the guard region instead.
     */
    public long copyFromUser(MemorySegment to, long from) {
        long left = rawCopyFromUser(to, from);
        if (left != 0) {
            to.asSlice(to.byteSize() - left).fill((byte) 0);
        }
        return left;
    }

    public long copyFromUser(byte[] to, int offset, long from, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, to.length);
        return copyFromUser(MemorySegment.ofArray(to).asSlice(offset, length), from);
    }

    /** {@link #copyFromUser(MemorySegment, long)} that leaves the bytes not copied as they were (Linux's {@code raw_copy_from_user}). */
    public long rawCopyFromUser(MemorySegment to, long from) {
        long n = to.byteSize();
        if (unchecked) {
            return resumable(from, n, false, done -> reservation.rawCopyFromUserUnchecked(to.asSlice(done), from + done));
        }
        if (!accessOk(from, n)) {
            return n;
        }
        return resumable(from, n, false, done -> reservation.rawCopyFromUser(to.asSlice(done), from + done));
    }

    public long rawCopyFromUser(byte[] to, int offset, long from, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, to.length);
        return rawCopyFromUser(MemorySegment.ofArray(to).asSlice(offset, length), from);
    }

    /**
     * Copies {@code from} to guest address {@code to}, resolving faults
     * (including copy-on-write). Returns bytes not copied; a range not wholly
     * inside user space copies nothing.
     */
    public long copyToUser(long to, MemorySegment from) {
        long n = from.byteSize();
        if (unchecked) {
            return resumable(to, n, true, done -> reservation.copyToUserUnchecked(to + done, from.asSlice(done)));
        }
        if (!accessOk(to, n)) {
            return n;
        }
        return resumable(to, n, true, done -> reservation.copyToUser(to + done, from.asSlice(done)));
    }

    public long copyToUser(long to, byte[] from, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, from.length);
        return copyToUser(to, MemorySegment.ofArray(from).asSlice(offset, length));
    }

    /** Zeroes guest bytes, resolving faults. Returns bytes not cleared; a range not wholly inside user space clears nothing. */
    public long clearUser(long to, long length) {
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length);
        }
        if (unchecked) {
            return resumable(to, length, true, done -> reservation.clearUserUnchecked(to + done, length - done));
        }
        if (!accessOk(to, length)) {
            return length;
        }
        return resumable(to, length, true, done -> reservation.clearUser(to + done, length - done));
    }

    /** One native pass of a copy from {@code done} bytes in: returns the bytes of the whole copy not done. */
    @FunctionalInterface
    private interface Pass {
        long from(long done);
    }

    /**
     * Runs {@code pass} until the copy of {@code length} bytes at guest
     * {@code start} is done or meets a byte it may not access: each stop is a
     * fault to resolve, after which the next pass resumes at that byte.
     * Returns the bytes not copied.
     */
    private long resumable(long start, long length, boolean write, Pass pass) {
        long done = 0;
        int retries = 0;
        while (done < length) {
            long left = pass.from(done);
            long now = length - left;
            retries = now == done ? retries + 1 : 0;
            done = now;
            if (left == 0 || retries > MAX_RETRIES || !resolveDuringCopy(start, length, done, write, unchecked)) {
                break;
            }
        }
        return length - done;
    }

    /**
     * strncpy_from_user with demand faults: a page at a time, so a fault
     * names its page. Returns the length without the NUL, {@code count}, or
     * -EFAULT.
     */
    public long strncpyFromUser(byte[] to, int offset, long from, int count) {
        java.util.Objects.checkFromIndexSize(offset, count, to.length);
        int done = 0;
        int retries = 0;
        while (done < count) {
            long at = from + done;
            int piece = (int) Math.min(count - done, PAGE - Math.floorMod(at, PAGE));
            long got = reservation.strncpyFromUser(to, offset + done, at, piece);
            if (got == -Errno.EFAULT.number()) {
                if (++retries > MAX_RETRIES || !resolveDuringCopy(from, count, done, false, false)) {
                    return got;
                }
                continue;
            }
            retries = 0;
            if (got < piece) {
                return done + got;
            }
            done += piece;
        }
        return count;
    }

    // ---------------------------------------------------------------- checks for user access

    /** The safety profile of this address space's machine. */
    public Profile profile() {
        return mm.config.profile();
    }

    /**
     * Whether {@code [addr, addr + length)} lies inside user space: no
     * overflow, nothing negative, nothing past the end (Linux's
     * {@code access_ok}). Length 0 is inside anywhere.
     */
    public boolean accessOk(long addr, long length) {
        return length == 0 || (addr >= 0 && length > 0 && addr <= size() - length);
    }

    /**
     * Whether every page of {@code [addr, addr + length)} is granted for the
     * access (axptr's {@code check_region}: a walk of the grants under the
     * lock, no page touched). Says nothing about later: a racing munmap can
     * take the range away before it is used, which the copies themselves
     * report as EFAULT.
     */
    public boolean checkAccess(long addr, long length, boolean write) {
        if (length == 0) {
            return true;
        }
        if (!accessOk(addr, length)) {
            return false;
        }
        long from = addr / PAGE;
        long to = (addr + length + PAGE - 1) / PAGE;
        mm.lock.lock();
        try {
            if (closed) {
                return false;
            }
            for (long p = from; p < to; ) {
                Grant g = grantAt(p);
                if (g == null || (write ? (g.prot() & Prot.WRITE) == 0 : !Prot.readable(g.prot()))) {
                    return false;
                }
                p = g.end();
            }
            return true;
        } finally {
            mm.lock.unlock();
        }
    }

    /**
     * Makes every page of {@code [addr, addr + length)} present, and writable
     * for a write, now rather than at the first touch (axptr's
     * {@code populate_area}). EFAULT naming the first page that may not be
     * accessed, with the bytes before it populated; ENOMEM when frames or
     * host mappings run out.
     */
    public void populate(long addr, long length, boolean write) {
        if (length == 0) {
            return;
        }
        if (!accessOk(addr, length)) {
            throw new ErrnoException(Errno.EFAULT, addr, length, "range is outside user space [0, 0x" + Long.toHexString(size()) + ")");
        }
        long from = addr / PAGE;
        long to = (addr + length + PAGE - 1) / PAGE;
        mm.lock.lock();
        try {
            checkOpen(addr, length);
            for (long p = from; p < to; p++) {
                long done = Math.max(0, p * PAGE - addr);
                boolean allowed;
                try {
                    allowed = resolveLocked(p, write);
                } catch (ErrnoException e) {
                    throw new ErrnoException(e.errno(), addr, length, done, "populating guest page 0x" + Long.toHexString(p * PAGE) + ": " + e.reason());
                }
                if (!allowed) {
                    throw new ErrnoException(Errno.EFAULT, addr, length, done,
                            "guest page 0x" + Long.toHexString(p * PAGE) + " may not be " + (write ? "written" : "read"));
                }
            }
        } finally {
            mm.flushFreed();
            mm.lock.unlock();
        }
    }

    /**
     * Lends the guest buffer {@code [addr, addr + length)} to
     * {@code borrower}; see {@link Lend}. EFAULT unless this space grants the
     * whole buffer for reading, and for writing when {@code writable}.
     */
    public Lend lend(long addr, long length, AddressSpace borrower, boolean writable) {
        return Lend.create(this, addr, length, borrower, writable);
    }

    // ---------------------------------------------------------------- inspection

    /** The grants, in address order. */
    public List<Grant> grants() {
        mm.lock.lock();
        try {
            return List.copyOf(grants.values());
        } finally {
            mm.lock.unlock();
        }
    }

    /** What backs one guest page now. */
    public enum PageState { UNMAPPED, LAZY, ZEROED, PRIVATE, COW_SHARED, SHARED }

    public PageState pageState(long address) {
        mm.lock.lock();
        try {
            long page = address / PAGE;
            Grant g = address < 0 || address >= size() ? null : grantAt(page);
            if (g == null) {
                return PageState.UNMAPPED;
            }
            long pte = table.get(page);
            if (!PageTable.present(pte)) {
                return PageState.LAZY;
            }
            if ((pte & ZERO) != 0) {
                return PageState.ZEROED;
            }
            if (g.provider().shared() || (pte & BORROWED) != 0 || mm.info.isShared(PageTable.frame(pte))) {
                return PageState.SHARED;
            }
            return table.leafShared(page) || mm.info.refcount(PageTable.frame(pte)) > 1 ? PageState.COW_SHARED : PageState.PRIVATE;
        } finally {
            mm.lock.unlock();
        }
    }

    /**
     * Reads the present page that holds {@code address} through the kernel's
     * view of its frame, not through the guest mapping, into {@code dst}
     * (one page): a check of guest memory that shares nothing with the copy
     * path it checks. Returns false, {@code dst} untouched, when the page is
     * not present (a lazy page reads as zeros; others fault).
     */
    public boolean peekPage(long address, byte[] dst) {
        java.util.Objects.checkFromIndexSize(0, (int) PAGE, dst.length);
        mm.lock.lock();
        try {
            long pte = address < 0 || address >= size() ? 0 : table.get(address / PAGE);
            if (!PageTable.present(pte)) {
                return false;
            }
            mm.memory.frame(PageTable.frame(pte)).read(0, dst, 0, (int) PAGE);
            return true;
        } finally {
            mm.lock.unlock();
        }
    }

    /** The frame mapped at a guest page and its refcount, or null when not present; for tests and the demo. */
    public long[] frameOf(long address) {
        mm.lock.lock();
        try {
            long pte = address < 0 || address >= size() ? 0 : table.get(address / PAGE);
            if (!PageTable.present(pte)) {
                return null;
            }
            long f = PageTable.frame(pte);
            return new long[] {f, PageTable.refcounted(pte) ? mm.info.refcount(f) : 0};
        } finally {
            mm.lock.unlock();
        }
    }

    // ---------------------------------------------------------------- strnlen_user and the nofault copies

    /**
     * Linux's {@code strnlen_user}: the length of the NUL-terminated guest
     * string at {@code from} INCLUDING the NUL, resolving demand faults as
     * {@link #strncpyFromUser} does (it is built on it, a page at a time).
     * Returns 0 when {@code count <= 0}, when {@code from} is outside user
     * space, when a byte before the NUL cannot be read, or when the string
     * runs to the end of user space; {@code count + 1} when there is no NUL
     * among the first {@code count} bytes. (Linux's word-at-a-time loop can
     * return any number above {@code count} there, so callers test
     * {@code > count}; this is the smallest such number.) Every profile
     * checks the range, as {@code strncpyFromUser} does.
     */
    public long strnlenUser(long from, long count) {
        if (count <= 0 || from < 0 || from >= size()) {
            return 0;
        }
        byte[] scratch = new byte[(int) PAGE];
        long done = 0; // from + done stays inside user space: a copy past its end is -EFAULT first
        while (done < count) {
            long at = from + done;
            int piece = (int) Math.min(count - done, PAGE - at % PAGE);
            long got = strncpyFromUser(scratch, 0, at, piece);
            if (got < 0) {
                return 0;
            }
            if (got < piece) {
                return done + got + 1;
            }
            done += piece;
        }
        return count + 1;
    }

    /**
     * Linux's {@code copy_from_user_nofault}: copies {@code to.byteSize()}
     * guest bytes at {@code from} only if they are all there now, for
     * callers that may not fault (tracing, perf). One pass of the
     * fault-fixup copy over the host mapping: a page that is not present
     * (lazy, or unmapped) stops it, no demand fault is resolved and the
     * machine's lock is never taken. Returns 0, or {@code -EFAULT} (the
     * range is outside user space, or a byte could not be read); after
     * {@code -EFAULT} the bytes before that byte may have arrived and the
     * rest of {@code to} is unchanged, as in Linux.
     */
    public long copyFromUserNofault(MemorySegment to, long from) {
        long n = to.byteSize();
        if (!unchecked && !accessOk(from, n)) {
            return -Errno.EFAULT.number();
        }
        long left = unchecked ? reservation.rawCopyFromUserUnchecked(to, from) : reservation.rawCopyFromUser(to, from);
        return left == 0 ? 0 : -Errno.EFAULT.number();
    }

    public long copyFromUserNofault(byte[] to, int offset, long from, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, to.length);
        return copyFromUserNofault(MemorySegment.ofArray(to).asSlice(offset, length), from);
    }

    /**
     * Linux's {@code copy_to_user_nofault}: writes {@code from} at guest
     * {@code to} through the host mapping as it is now. A page that is not
     * present or not writable yet (a zeroed frame, copy-on-write, a clean
     * shared file page) stops it: nothing is resolved, no lock is taken.
     * Returns 0 or {@code -EFAULT}; a range outside user space writes
     * nothing, otherwise the bytes before the failing one may be written.
     */
    public long copyToUserNofault(long to, MemorySegment from) {
        long n = from.byteSize();
        if (!unchecked && !accessOk(to, n)) {
            return -Errno.EFAULT.number();
        }
        long left = unchecked ? reservation.copyToUserUnchecked(to, from) : reservation.copyToUser(to, from);
        return left == 0 ? 0 : -Errno.EFAULT.number();
    }

    public long copyToUserNofault(long to, byte[] from, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, from.length);
        return copyToUserNofault(to, MemorySegment.ofArray(from).asSlice(offset, length));
    }

    /**
     * Linux's {@code strncpy_from_user_nofault}: one pass of
     * {@code strncpy_from_user} over the host mapping as it is now, no fault
     * resolved, no lock taken. Returns the length INCLUDING the NUL; when no
     * NUL lies within {@code count} bytes, {@code count}, with the last byte
     * of the buffer replaced by a NUL; 0 for {@code count} 0; {@code -EFAULT}
     * when a byte before the NUL is not readable now or the string runs past
     * the end of user space (checked in every profile, as
     * {@link #strncpyFromUser}).
     */
    public long strncpyFromUserNofault(byte[] to, int offset, long from, int count) {
        java.util.Objects.checkFromIndexSize(offset, count, to.length);
        if (count == 0) {
            return 0;
        }
        long got = reservation.strncpyFromUser(to, offset, from, count);
        if (got >= count) {
            to[offset + count - 1] = 0;
            return count;
        }
        return got >= 0 ? got + 1 : got;
    }
}
