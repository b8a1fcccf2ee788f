package dev.usercopy.mm;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongSupplier;

import dev.usercopy.mm.Provider.Allocated;
import dev.usercopy.mm.Provider.AllocatedShared;
import dev.usercopy.mm.Provider.External;
import dev.usercopy.mm.Provider.FmapBorrowed;
import dev.usercopy.mm.Provider.PhysBorrowed;
import dev.usercopy.uapi.Errno;
import dev.usercopy.platform.Reservation;

import static dev.usercopy.mm.PageTable.BORROWED;
import static dev.usercopy.mm.PageTable.ZERO;

/**
 * A guest ("user") address space with Linux semantics: grants made by mmap,
 * a page table filled on demand, copy-on-write after fork.
 *
 * <p>This class keeps the state, the lock discipline and the entry points;
 * the work is in the rooms around it, each handed the {@link SpaceState} it
 * needs: {@link UserGrants} (the grant tree), {@link PageFault} (the fault
 * path), {@link HostSync} with its {@link HostMirror}s (the host views that
 * follow the page table: the JVM's {@link Reservation}, and any a guest
 * process attaches), {@link Mprotect}, {@link Madvise}, {@link Msync},
 * {@link Fork}, {@link UserCopies} and {@link Inspection}.
 *
 * <p>A guest access the host refuses means "not present" or "not writable
 * yet": the copy stops at that byte, {@link #resolve} fixes the page under
 * the manager's lock (or says EFAULT), and the copy resumes there.
 *
 * <p>Lock order: the manager's lock, then nothing. Copies run unlocked;
 * changes first take host access away, then free frames (so no copy can reach
 * a frame after it is reused).
 *
 * <p>Why this file is about 600 lines: it is the public face of guest memory,
 * and most of it is the javadoc of each entry point (the copies' Linux
 * contracts above all); the work behind them is in the rooms named above.
 */
public final class AddressSpace implements AutoCloseable {
    /** Bytes of a guest page. */
    public static final long PAGE = PageTable.PAGE;
    /** The lowest guest address mmap hands out or accepts with MAP_FIXED (Linux's mmap_min_addr). */
    public static final long MIN_ADDRESS = 0x10000;

    private final MemoryManager mm;
    private final SpaceState state;
    private final JvmMirror jvm;
    private final UserCopies copies;
    private volatile boolean closed;
    /** Counted under the lock; read without it for statistics. */
    private volatile long faultsResolved;

    AddressSpace(MemoryManager mm) {
        this(mm, new PageTable(mm.config.addressSpaceSize() / PAGE, mm.info, mm::freed), Reservation.reserve(mm.config.addressSpaceSize()));
    }

    private AddressSpace(MemoryManager mm, PageTable table, Reservation reservation) {
        long pages = mm.config.addressSpaceSize() / PAGE;
        this.mm = mm;
        this.jvm = new JvmMirror(reservation, pages, mm);
        this.state = SpaceState.create(mm, table, jvm, pages);
        this.copies = new UserCopies(reservation, pages * PAGE, !mm.config.profile().checksAccess(), this::resolve);
    }

    /** {@return bytes of guest address space, a multiple of {@link #PAGE}: valid addresses are [0, size())} */
    public long size() {
        return state.size();
    }

    // ---------------------------------------------------------------- mmap & co

    /**
     * Anonymous mmap, with Linux's checks in do_mmap's order: EINVAL for
     * length 0, an unaligned MAP_FIXED address or a type that is not exactly
     * one of MAP_SHARED and MAP_PRIVATE; ENOMEM when the range does not fit;
     * EPERM for MAP_FIXED below {@link #MIN_ADDRESS}; EEXIST for
     * MAP_FIXED_NOREPLACE over a mapping. Pages get frames at first touch.
     *
     * @param addr a hint (rounded down to a page), or with MAP_FIXED the page-aligned guest address; 0 for any
     * @param length bytes, rounded up to whole pages
     * @param prot {@link Prot} bits
     * @param flags {@link MapFlags} bits; those Linux's mmap ignores are ignored
     * @return the guest address of the mapping's first byte
     */
    public long mmap(long addr, long length, int prot, int flags) {
        return locked(addr, length, () -> Mmap.map(state, addr, length, prot, flags, null, 0, false));
    }

    /**
     * File mmap of a host file: MAP_SHARED reaches the file on {@link #msync};
     * MAP_PRIVATE reads it into private frames. Pages wholly past the end of
     * the file give EFAULT (Linux: SIGBUS). Errors as {@link #mmap}, and
     * EINVAL for an unaligned offset, EOVERFLOW when offset plus length
     * overflows, EACCES for a shared mapping with PROT_WRITE of a file that
     * is not writable.
     *
     * @param addr a hint, or with MAP_FIXED the page-aligned guest address; 0 for any
     * @param length bytes, rounded up to whole pages
     * @param prot {@link Prot} bits
     * @param flags {@link MapFlags} bits
     * @param file the host file, opened here (its page cache is shared by every mapping of it in the machine)
     * @param offset the file offset in bytes of the first page, a multiple of {@link #PAGE}
     * @return the guest address of the mapping's first byte
     */
    public long mmapFile(long addr, long length, int prot, int flags, Path file, long offset) {
        return mmapFile(addr, length, prot, flags, file, offset, Files.isWritable(file));
    }

    /**
     * File mmap as {@link #mmapFile(long, long, int, int, Path, long)}, for
     * a file a guest opened: {@code writable} says whether its descriptor
     * was opened for writing. Only then may a shared mapping be writable,
     * now or by a later mprotect (Linux's VM_MAYWRITE): EACCES otherwise,
     * whatever the host user may do to the file.
     *
     * @param addr a hint, or with MAP_FIXED the page-aligned guest address; 0 for any
     * @param length bytes, rounded up to whole pages
     * @param prot {@link Prot} bits
     * @param flags {@link MapFlags} bits
     * @param file the host file, opened here (its page cache is shared by every mapping of it in the machine)
     * @param offset the file offset in bytes of the first page, a multiple of {@link #PAGE}
     * @param writable whether the guest's descriptor of the file was opened for writing
     * @return the guest address of the mapping's first byte
     */
    public long mmapFile(long addr, long length, int prot, int flags, Path file, long offset, boolean writable) {
        if (offset % PAGE != 0) { // the syscall checks this before anything else
            throw new ErrnoException(Errno.EINVAL, addr, length, "file offset " + offset + " is not page-aligned");
        }
        return locked(addr, length, () -> Mmap.map(state, addr, length, prot, flags, file, offset, writable));
    }

    /**
     * Maps device frames [baseFrame, ...) of the machine (PhysBorrowed):
     * shared, never allocated or freed. EINVAL unless every frame is a
     * device frame (the top {@code deviceFrames} of {@link MemoryManager.Config}); otherwise
     * errors as {@link #mmap}.
     *
     * @param addr a hint, or with MAP_FIXED the page-aligned guest address; 0 for any
     * @param length bytes, rounded up to whole pages
     * @param prot {@link Prot} bits
     * @param flags {@link MapFlags} bits; the type is forced to MAP_SHARED
     * @param baseFrame the frame number behind the first page
     * @return the guest address of the mapping's first byte
     */
    public long mmapPhysical(long addr, long length, int prot, int flags, long baseFrame) {
        long n = length <= 0 || length > size() ? 0 : (length + PAGE - 1) / PAGE;
        // Written so that no sum can wrap: baseFrame + n could, and its frames would be another space's.
        if (n == 0 || baseFrame < mm.deviceBase || baseFrame > mm.config.frames() || n > mm.config.frames() - baseFrame) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "frames [" + baseFrame + ", +" + n + ") are not device frames ["
                    + mm.deviceBase + ", " + mm.config.frames() + ")");
        }
        return locked(addr, length, () -> Mmap.mapGrant(state, addr, length, prot, (flags & ~MapFlags.TYPE) | MapFlags.SHARED, () -> new PhysBorrowed(baseFrame)));
    }

    /**
     * Maps {@code length} bytes of {@code lender}'s pages at
     * {@code lenderAddr} here (External): shared both ways, a write on
     * either side seen at once by the other. The lender's pages are made
     * present at the borrower's first touch. EINVAL for an unaligned or
     * out-of-range {@code lenderAddr} or a lender of another machine;
     * otherwise errors as {@link #mmap}.
     *
     * @param addr a hint, or with MAP_FIXED the page-aligned guest address; 0 for any
     * @param length bytes, rounded up to whole pages
     * @param prot {@link Prot} bits
     * @param flags {@link MapFlags} bits; the type is forced to MAP_SHARED
     * @param lender an address space of the same {@link MemoryManager}
     * @param lenderAddr the page-aligned guest address in {@code lender} of the first page
     * @return the guest address of the mapping's first byte here
     */
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
        return locked(addr, length, () -> Mmap.mapGrant(state, addr, length, prot, (flags & ~MapFlags.TYPE) | MapFlags.SHARED,
                () -> new External(lender, lenderAddr / PAGE, mayWrite, lent)));
    }

    /** Runs {@code op} under the manager's lock on an open space, then frees the frames it let go. */
    private long locked(long addr, long length, LongSupplier op) {
        mm.lock.lock();
        try {
            checkOpen(addr, length);
            return op.getAsLong();
        } finally {
            mm.flushFreed();
            mm.lock.unlock();
        }
    }

    /**
     * Linux's munmap: removes every mapping of the pages the range touches;
     * pages with nothing mapped are fine. Frames no other mapping holds are
     * freed after the JVM's view and every {@link HostMirror} dropped them.
     * EINVAL for an unaligned address, a length of 0 or less, or a range
     * outside the address space.
     *
     * @param addr the page-aligned guest address
     * @param length bytes, rounded up to whole pages
     */
    public void munmap(long addr, long length) {
        if (addr % PAGE != 0 || length <= 0 || addr < 0 || addr > size() - length) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "range is not page-aligned, empty, or outside the address space");
        }
        long from = addr / PAGE;
        long to = (addr + length + PAGE - 1) / PAGE;
        mm.lock.lock();
        try {
            checkOpen(addr, length);
            jvm.reserveUnmap(from, to);
            state.unmap(from, to);
        } finally {
            mm.flushFreed();
            mm.lock.unlock();
        }
    }

    /**
     * Linux's mprotect; see {@link Mprotect}: over a hole it changes the
     * pages before it, then says ENOMEM. EINVAL for an unaligned address or
     * unknown bits; EACCES for write on a mapping that may never be written
     * (a read-only file, a read-only lend).
     *
     * @param addr the page-aligned guest address
     * @param length bytes, rounded up to whole pages
     * @param prot {@link Prot} bits, with PROT_GROWSDOWN or PROT_GROWSUP as Linux takes them
     */
    public void mprotect(long addr, long length, int prot) {
        mm.lock.lock();
        try {
            checkOpen(addr, length);
            Mprotect.mprotect(state, addr, length, prot);
        } finally {
            mm.lock.unlock();
        }
    }

    /**
     * MADV_DONTNEED; see {@link Madvise}: private pages are dropped (their
     * frames freed), so the next read sees zeros, or the file; over holes the
     * mapped parts are dropped, then ENOMEM.
     *
     * @param addr the page-aligned guest address
     * @param length bytes, rounded up to whole pages
     */
    public void madviseDontNeed(long addr, long length) {
        mm.lock.lock();
        try {
            checkOpen(addr, length);
            Madvise.dontNeed(state, addr, length);
        } finally {
            mm.flushFreed();
            mm.lock.unlock();
        }
    }

    /**
     * msync(MS_SYNC); see {@link Msync}: writes the pages of shared file
     * mappings in the range that were ever written, through any mapping,
     * back to their files; over holes the mapped parts, then ENOMEM.
     *
     * @param addr the page-aligned guest address
     * @param length bytes, rounded up to whole pages
     */
    public void msync(long addr, long length) {
        mm.lock.lock();
        try {
            checkOpen(addr, length);
            Msync.msync(state, addr, length);
        } finally {
            mm.lock.unlock();
        }
    }

    // ---------------------------------------------------------------- fork and close

    /**
     * A copy of this address space, copy-on-write; see {@link Fork}. Shared
     * mappings stay shared; a {@link Lend}'s pages are not inherited.
     *
     * @return the child, on the same {@link MemoryManager}; the caller closes it
     */
    public AddressSpace fork() {
        mm.lock.lock();
        try {
            checkOpen(0, 0);
            Fork.prepare(state);
            // The child's host range before anything that takes references: its failure leaks nothing.
            Reservation childRange = Reservation.reserve(size());
            AddressSpace child = new AddressSpace(mm, Fork.childTable(state), childRange);
            mm.registerFork(child);
            try {
                Fork.inherit(state, child.state);
            } catch (ErrnoException e) {
                child.close();
                throw e;
            }
            return child;
        } finally {
            mm.flushFreed();
            mm.lock.unlock();
        }
    }

    /** Unmaps everything and frees what only this address space held. Copies still running stop at their next byte (EFAULT). */
    @Override
    public void close() {
        // Under the lock, so no fault resolution maps into the range once it is closed; copies
        // in flight hold no lock and are not waited for: they fault on the closed range (EFAULT).
        mm.lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            jvm.close();
            state.grants().clear();
            state.table().release();
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

    // ---------------------------------------------------------------- host mirrors

    /**
     * Adds a host view of this space's pages that must follow its page table
     * (a guest process): it is told every page mapped now, then every change.
     *
     * @param mirror called under the manager's lock, from the thread that changes the space
     */
    public void attach(HostMirror mirror) {
        mm.lock.lock();
        try {
            checkOpen(0, 0);
            state.host().attach(mirror);
        } finally {
            mm.lock.unlock();
        }
    }

    /**
     * Stops telling {@code mirror} about changes; what it maps stays as it was.
     *
     * @param mirror one {@link #attach} was given; any other is ignored
     */
    public void detach(HostMirror mirror) {
        mm.lock.lock();
        try {
            state.host().detach(mirror);
        } finally {
            mm.lock.unlock();
        }
    }

    /**
     * {@return the host mappings (VMAs) over this address space's guest range,
     * by the model the budget uses; the guard page is one more}
     */
    public long vmas() {
        return jvm.vmas();
    }

    /**
     * {@return the host mappings the host kernel has over this address space's
     * guest range, read from /proc/self/maps (slow: for tests and diagnostics)}
     */
    public long hostVmasMeasured() {
        return jvm.measured();
    }

    /** Under the lock: gives the parked host mappings back (the VMA budget wants them). */
    void releaseParked() {
        if (!closed) {
            state.host().releaseParked();
        }
    }

    /** Adds the page caches this space's file grants use. */
    void pageCachesInUse(Set<PageCache> used) {
        for (Grant g : state.grants().values()) {
            switch (g.provider()) {
                case Allocated a when a.cowFile() != null -> used.add(a.cowFile().cache());
                case FmapBorrowed f -> used.add(f.file().cache());
                default -> { }
            }
        }
    }

    void countReferences(Map<Object, Boolean> leaves, Map<Long, Long> refs) {
        state.table().countReferences(leaves, refs);
    }

    /** What the JVM's mirror maps at {@code page}: {frame, prot}, or null; for tests of other mirrors. */
    long[] jvmMapping(long page) {
        mm.lock.lock();
        try {
            HostMap.Run run = jvm.model().at(page);
            boolean parked = run != null && run.prot() == Prot.NONE && state.host().desired(state.grants().at(page), page) == null;
            return run == null || parked ? null : new long[] {run.frameAt(page), run.prot()};
        } finally {
            mm.lock.unlock();
        }
    }

    /** Throws if a host mapping maps another frame than the page table, or allows more than it; see {@link HostSync#check}. */
    void checkHostMappings() {
        state.host().check();
    }

    // ---------------------------------------------------------------- faults

    /**
     * Resolves a fault on guest byte {@code address}: makes its page present,
     * or writable for a write. Returns false where the access is not allowed
     * (EFAULT). Throws ENOMEM when no frame or host mapping is left.
     * Takes the manager's lock; any thread.
     *
     * @param address the guest byte that faulted
     * @param write whether the access was a write (breaks copy-on-write, dirties a shared file page)
     * @return whether the access may now be retried; false on a closed space or outside it
     */
    public boolean resolve(long address, boolean write) {
        if (address < 0 || address >= size()) {
            return false;
        }
        mm.lock.lock();
        try {
            faultsResolved++;
            return !closed && state.faults().handle(address / PAGE, write);
        } finally {
            mm.flushFreed();
            mm.lock.unlock();
        }
    }

    /**
     * Whether guest byte {@code address} lies in private anonymous memory
     * that may be written: where a guest process's first touch, whose kind
     * its tracer cannot see, is best served as a write (new frames at once,
     * rather than zeroed frames now and a second fault at the first store).
     *
     * @param address a guest byte address; outside the space is false
     * @return whether a writable private anonymous grant holds it now
     */
    public boolean anonymousWritable(long address) {
        if (address < 0 || address >= size()) {
            return false;
        }
        mm.lock.lock();
        try {
            Grant g = state.grants().at(address / PAGE);
            return g != null && (g.prot() & Prot.WRITE) != 0 && g.provider() instanceof Provider.Allocated a && a.cowFile() == null;
        } finally {
            mm.lock.unlock();
        }
    }

    /** {@return faults {@link #resolve} has been asked to serve since creation: the kernel's copies' and a guest process's own} */
    public long faultsResolved() {
        return faultsResolved;
    }

    /** For a borrower's fault, under the lock: one of this space's frames, made present and shared; -1 for EFAULT. */
    long lendFrame(long page, boolean write) {
        return closed ? -1 : state.faults().lendFrame(page, write);
    }

    // ---------------------------------------------------------------- copies (see UserCopies)

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
     *
     * @param to the kernel buffer; its whole size is copied
     * @param from the guest address
     * @return bytes not copied, 0 when all were
     */
    public long copyFromUser(MemorySegment to, long from) {
        return copies.copyFromUser(to, from);
    }

    /**
     * {@link #copyFromUser(MemorySegment, long)} into part of an array.
     *
     * @param to the kernel buffer
     * @param offset where in {@code to} the bytes go
     * @param from the guest address
     * @param length bytes to copy
     * @return bytes not copied, 0 when all were; those are zeroed in {@code to}
     */
    public long copyFromUser(byte[] to, int offset, long from, int length) {
        return copies.copyFromUser(to, offset, from, length);
    }

    /**
     * {@link #copyFromUser(MemorySegment, long)} that leaves the bytes not
     * copied as they were (Linux's {@code raw_copy_from_user}).
     *
     * @param to the kernel buffer; its whole size is copied
     * @param from the guest address
     * @return bytes not copied, 0 when all were
     */
    public long rawCopyFromUser(MemorySegment to, long from) {
        return copies.rawCopyFromUser(to, from);
    }

    /**
     * {@link #rawCopyFromUser(MemorySegment, long)} into part of an array.
     *
     * @param to the kernel buffer
     * @param offset where in {@code to} the bytes go
     * @param from the guest address
     * @param length bytes to copy
     * @return bytes not copied, 0 when all were; those bytes of {@code to} are left as they were
     */
    public long rawCopyFromUser(byte[] to, int offset, long from, int length) {
        return copies.rawCopyFromUser(to, offset, from, length);
    }

    /**
     * Copies {@code from} to guest address {@code to}, resolving faults
     * (including copy-on-write). Returns bytes not copied; a range not wholly
     * inside user space copies nothing.
     *
     * @param to the guest address
     * @param from the kernel bytes; all of them are copied
     * @return bytes not copied, 0 when all were; they are the last ones of {@code from}
     */
    public long copyToUser(long to, MemorySegment from) {
        return copies.copyToUser(to, from);
    }

    /**
     * {@link #copyToUser(long, MemorySegment)} from part of an array.
     *
     * @param to the guest address
     * @param from the kernel bytes
     * @param offset where in {@code from} the bytes start
     * @param length bytes to copy
     * @return bytes not copied, 0 when all were
     */
    public long copyToUser(long to, byte[] from, int offset, int length) {
        return copies.copyToUser(to, from, offset, length);
    }

    /**
     * Linux's {@code clear_user}: zeroes guest bytes, resolving faults. A
     * range not wholly inside user space clears nothing.
     *
     * @param to the guest address
     * @param length bytes to zero
     * @return bytes not cleared, 0 when all were; they are the last ones of the range
     */
    public long clearUser(long to, long length) {
        return copies.clearUser(to, length);
    }

    /**
     * strncpy_from_user with demand faults: a page at a time, so a fault
     * names its page. Returns the length without the NUL, {@code count}, or
     * -EFAULT.
     *
     * @param to the kernel buffer; bytes past the returned length are not written
     * @param offset where in {@code to} the string goes
     * @param from the guest address of the string
     * @param count the most bytes to copy, NUL included
     * @return the string's length without its NUL; {@code count} when no NUL lies in the first
     *         {@code count} bytes; {@code -EFAULT} when a byte before the NUL cannot be read
     */
    public long strncpyFromUser(byte[] to, int offset, long from, int count) {
        return copies.strncpyFromUser(to, offset, from, count);
    }

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
     *
     * @param from the guest address of the string
     * @param count the most bytes to look at
     * @return the length including the NUL, {@code count + 1} when there is none, or 0 as above
     */
    public long strnlenUser(long from, long count) {
        return copies.strnlenUser(from, count);
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
     *
     * @param to the kernel buffer; its whole size is copied
     * @param from the guest address
     * @return 0, or {@code -EFAULT}
     */
    public long copyFromUserNofault(MemorySegment to, long from) {
        return copies.copyFromUserNofault(to, from);
    }

    /**
     * {@link #copyFromUserNofault(MemorySegment, long)} into part of an array.
     *
     * @param to the kernel buffer
     * @param offset where in {@code to} the bytes go
     * @param from the guest address
     * @param length bytes to copy
     * @return 0, or {@code -EFAULT}
     */
    public long copyFromUserNofault(byte[] to, int offset, long from, int length) {
        return copies.copyFromUserNofault(to, offset, from, length);
    }

    /**
     * Linux's {@code copy_to_user_nofault}: writes {@code from} at guest
     * {@code to} through the host mapping as it is now. A page that is not
     * present or not writable yet (a zeroed frame, copy-on-write, a clean
     * shared file page) stops it: nothing is resolved, no lock is taken.
     * Returns 0 or {@code -EFAULT}; a range outside user space writes
     * nothing, otherwise the bytes before the failing one may be written.
     *
     * @param to the guest address
     * @param from the kernel bytes; all of them are copied
     * @return 0, or {@code -EFAULT}
     */
    public long copyToUserNofault(long to, MemorySegment from) {
        return copies.copyToUserNofault(to, from);
    }

    /**
     * {@link #copyToUserNofault(long, MemorySegment)} from part of an array.
     *
     * @param to the guest address
     * @param from the kernel bytes
     * @param offset where in {@code from} the bytes start
     * @param length bytes to copy
     * @return 0, or {@code -EFAULT}
     */
    public long copyToUserNofault(long to, byte[] from, int offset, int length) {
        return copies.copyToUserNofault(to, from, offset, length);
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
     *
     * @param to the kernel buffer
     * @param offset where in {@code to} the string goes
     * @param from the guest address of the string
     * @param count the most bytes to copy, NUL included
     * @return the length including the NUL, {@code count}, 0, or {@code -EFAULT}, as above
     */
    public long strncpyFromUserNofault(byte[] to, int offset, long from, int count) {
        return copies.strncpyFromUserNofault(to, offset, from, count);
    }

    // ---------------------------------------------------------------- checks for user access

    /** {@return the safety profile of this address space's machine, fixed when the machine was made} */
    public Profile profile() {
        return mm.config.profile();
    }

    /**
     * Whether {@code [addr, addr + length)} lies inside user space: no
     * overflow, nothing negative, nothing past the end (Linux's
     * {@code access_ok}). Length 0 is inside anywhere.
     *
     * @param addr the guest address
     * @param length bytes
     * @return whether a copy of the range may be tried; the pages may still be unmapped
     */
    public boolean accessOk(long addr, long length) {
        return copies.accessOk(addr, length);
    }

    /**
     * Whether every page of {@code [addr, addr + length)} is granted for the
     * access (axptr's {@code check_region}: a walk of the grants under the
     * lock, no page touched). Says nothing about later: a racing munmap can
     * take the range away before it is used, which the copies themselves
     * report as EFAULT.
     *
     * @param addr the guest address
     * @param length bytes; 0 is always granted
     * @param write whether the access is a write, else a read
     * @return whether every page in the range is granted for it now
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
                Grant g = state.grants().at(p);
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
     *
     * @param addr the guest address
     * @param length bytes; 0 does nothing
     * @param write whether to make the pages writable too (breaking copy-on-write)
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
                    allowed = state.faults().handle(p, write);
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
     * Resolves the pages of {@code ranges} ((address, length) pairs, each
     * inside user space) in order for the access, up to {@code limit} bytes
     * or the first page the guest may not access, whichever comes first,
     * without complaint: the caller's host call meets that page itself.
     * Returns the bytes from the start of the ranges now accessible (a
     * racing munmap may take them away again; that is the host call's EFAULT).
     * Running out of frames or host mappings stops it too.
     */
    long populatePrefix(long[] ranges, long limit, boolean write) {
        long done = 0;
        mm.lock.lock();
        try {
            if (closed) {
                return 0;
            }
            for (int i = 0; i < ranges.length && done < limit; i += 2) {
                long addr = ranges[i];
                long len = Math.min(ranges[i + 1], limit - done);
                if (len == 0) {
                    continue;
                }
                for (long p = addr / PAGE; p * PAGE < addr + len; p++) {
                    boolean allowed;
                    try {
                        allowed = state.faults().handle(p, write);
                    } catch (ErrnoException e) {
                        allowed = false; // ENOMEM: the host stops at this page, as a copy would
                    }
                    if (!allowed) {
                        return done + Math.max(0, p * PAGE - addr);
                    }
                }
                done += len;
            }
            return done;
        } finally {
            mm.flushFreed();
            mm.lock.unlock();
        }
    }

    /**
     * Makes host syscall {@code op} on host file descriptor {@code fd} with
     * the guest's own buffer: {@code ranges} are guest (address, length)
     * pairs (one pair but for the vector calls), {@code offset} the file
     * offset of the positional calls. The pages the guest may access are
     * resolved first, then the host kernel copies through the JVM's view of
     * them and stops where the guest could not go, so the count or EFAULT
     * is the one Linux gives (see {@link HostIo}). A range not inside user
     * space is EFAULT with no call ({@code access_ok}, in every profile).
     * {@code regularFile}: the transfer may go on in chunks (a regular
     * file's read or write is not atomic), else it is one host call. Returns
     * the host's count or {@code -errno}.
     *
     * @param op the host call
     * @param fd a host file descriptor the caller owns
     * @param ranges guest (address, length) pairs: one pair, or for READV and WRITEV one or more
     * @param offset the file offset for PREAD and PWRITE; ignored by the others
     * @param regularFile whether {@code fd} is a regular file
     * @return bytes moved, or {@code -errno} when nothing was
     * @throws IllegalArgumentException if {@code ranges} is not the shape {@code op} takes
     */
    public long hostIo(HostIo op, int fd, long[] ranges, long offset, boolean regularFile) {
        if (ranges.length == 0 || ranges.length % 2 != 0 || (!op.vector() && ranges.length != 2)) {
            throw new IllegalArgumentException(op + " takes " + (op.vector() ? "(address, length) pairs" : "one (address, length) pair"));
        }
        return op.transfer(this, jvm.reservation(), fd, ranges, offset, regularFile);
    }

    /**
     * Lends the guest buffer {@code [addr, addr + length)} to
     * {@code borrower}; see {@link Lend}. EFAULT unless this space grants the
     * whole buffer for reading, and for writing when {@code writable}; EINVAL
     * for a length of 0 or less.
     *
     * @param addr the buffer's guest address here
     * @param length the buffer's length in bytes
     * @param borrower an address space of the same machine that gets a range holding the buffer
     * @param writable whether the borrower may write the buffer
     * @return the lend; closing it ends it
     */
    public Lend lend(long addr, long length, AddressSpace borrower, boolean writable) {
        return Lend.create(this, addr, length, borrower, writable);
    }


    /** What backs one guest page now. */
    public enum PageState {
        /** No grant holds the page: any access is EFAULT. */
        UNMAPPED,
        /** Granted but not present: the first touch gives it a frame (or reads its file page). */
        LAZY,
        /** Present as one of the machine's zeroed frames, read-only: the first write gives it a frame of its own. */
        ZEROED,
        /** Present on a frame only this page maps. */
        PRIVATE,
        /** Present on a frame shared copy-on-write (after fork): the first write copies it. */
        COW_SHARED,
        /** Present on a frame shared for writing: a shared mapping, a borrowed or device frame. */
        SHARED
    }

    // ---------------------------------------------------------------- inspection (see Inspection)

    /**
     * What this space holds now: its present pages, how many of them it
     * shares (copy-on-write with a fork, or a shared mapping), and the write
     * faults that gave a page a frame of its own (copy-on-write breaks).
     *
     * @param frames present pages, zeroed ones included
     * @param sharedFrames of those, pages whose frame is shared (copy-on-write or a shared mapping)
     * @param cowBreaks write faults since creation that gave a page a frame of its own
     */
    public record Usage(long frames, long sharedFrames, long cowBreaks) {}

    /** {@return what this space holds now, read under the manager's lock} */
    public Usage usage() {
        mm.lock.lock();
        try {
            long[] r = Inspection.residency(state);
            return new Usage(r[0], r[1], state.faults().cowBreaks);
        } finally {
            mm.lock.unlock();
        }
    }

    /** {@return a snapshot of the grants (the mappings), in address order} */
    public List<Grant> grants() {
        mm.lock.lock();
        try {
            return state.grants().snapshot();
        } finally {
            mm.lock.unlock();
        }
    }

    /**
     * What backs a guest page now, for tests and the demo.
     *
     * @param address any guest byte address in the page; outside the space is UNMAPPED
     * @return its state, read under the manager's lock
     */
    public PageState pageState(long address) {
        mm.lock.lock();
        try {
            return Inspection.pageState(state, address);
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
     *
     * @param address any guest byte address in the page
     * @param dst one page ({@link #PAGE} bytes)
     * @return whether the page was present and read
     */
    public boolean peekPage(long address, byte[] dst) {
        Objects.checkFromIndexSize(0, (int) PAGE, dst.length);
        mm.lock.lock();
        try {
            return Inspection.peekPage(state, address, dst);
        } finally {
            mm.lock.unlock();
        }
    }

    /**
     * The frame mapped at a guest page, for tests and the demo.
     *
     * @param address any guest byte address in the page
     * @return {frame number, refcount (0 for a frame that is not refcounted)}, or null when not present
     */
    public long[] frameOf(long address) {
        mm.lock.lock();
        try {
            return Inspection.frameOf(state, address);
        } finally {
            mm.lock.unlock();
        }
    }
}
