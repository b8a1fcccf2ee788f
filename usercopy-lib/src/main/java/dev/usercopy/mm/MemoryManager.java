package dev.usercopy.mm;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import dev.usercopy.uapi.Errno;
import dev.usercopy.platform.HostVmas;
import dev.usercopy.platform.PhysicalMemory;

/**
 * One machine's memory: the physical frames, their {@link PageInfo}, the
 * allocator, the zeroed frames, the address spaces, and the lock their
 * changes take. Copies into guest memory never take the lock; resolving the
 * faults they meet does.
 *
 * <p>Frame layout: [0, ZERO_RUN) are the zeroed frames, mapped read-only
 * wherever a lazy page is read before it is written (a run rather than one
 * frame, so fault-around maps a whole window with one mmap); the last
 * {@code deviceFrames} frames stand for device memory (PhysBorrowed grants,
 * never allocated); the allocator owns the rest.
 */
public final class MemoryManager implements AutoCloseable {
    /** Zeroed frames: the largest fault-around window. */
    static final int ZERO_RUN = 512;

    /** How fork copies the page table. */
    public enum ForkMode {
        /** Share page-table leaves copy-on-write: one step per 512 pages. */
        SHARED_TABLES,
        /** Copy every present entry and take a reference per frame. */
        COPY_PAGES
    }

    /** The largest guest address space: x86-64's 47-bit user space. */
    public static final long MAX_ADDRESS_SPACE = 1L << 47;

    /**
     * A machine's sizes and choices, fixed when it is made; start from
     * {@link #defaults()} and change what a caller needs.
     *
     * @param frames       frames of physical memory (the memfd is sparse: unused frames cost nothing)
     * @param faultAround  pages a demand fault maps at once, aligned (a power of two, 1 to {@value #ZERO_RUN})
     * @param vmaBudget    host mappings this manager may create; 0 for a share of what the host allows
     * @param addressSpaceSize bytes of guest address space each address space reserves (a multiple of a page,
     *                     at most {@link #MAX_ADDRESS_SPACE}; a power of two under {@link Profile#LUDICROUS})
     * @param deviceFrames frames at the top set aside for PhysBorrowed mappings
     * @param forkMode     how fork copies page tables
     * @param profile      the safety profile (see {@link Profile})
     */
    public record Config(long frames, int faultAround, long vmaBudget, long addressSpaceSize, long deviceFrames, ForkMode forkMode,
            Profile profile) {
        /**
         * Checks the sizes against each other.
         *
         * @throws IllegalArgumentException if {@code faultAround} is not a power of two in range, a count is
         *         negative, no frame is left to allocate, or the address-space size is not one a profile takes
         * @throws NullPointerException if {@code forkMode} or {@code profile} is null
         */
        public Config {
            if (faultAround < 1 || faultAround > ZERO_RUN || Integer.bitCount(faultAround) != 1) {
                throw new IllegalArgumentException("faultAround " + faultAround + " is not a power of two in 1.." + ZERO_RUN);
            }
            if (deviceFrames < 0 || vmaBudget < 0) {
                throw new IllegalArgumentException("negative deviceFrames " + deviceFrames + " or vmaBudget " + vmaBudget);
            }
            if (frames < ZERO_RUN + deviceFrames + 1) {
                throw new IllegalArgumentException(frames + " frames leave none to allocate");
            }
            if (addressSpaceSize <= 0 || addressSpaceSize % AddressSpace.PAGE != 0 || addressSpaceSize > MAX_ADDRESS_SPACE) {
                throw new IllegalArgumentException("address space size " + addressSpaceSize + " is not a multiple of a page in 1 page.."
                        + MAX_ADDRESS_SPACE + " (x86-64 user space)");
            }
            if (profile == Profile.LUDICROUS && Long.bitCount(addressSpaceSize) != 1) {
                throw new IllegalArgumentException("the Ludicrous profile needs a power-of-two address space size, not " + addressSpaceSize);
            }
            Objects.requireNonNull(forkMode, "forkMode");
            Objects.requireNonNull(profile, "profile");
        }

        /**
         * {@return 4 GiB of frames, fault-around of 16 pages, a share of the host's mappings, 64 GiB
         * address spaces, 16 device frames, shared page-table leaves on fork, and the profile of
         * {@link Profile#fromSystemProperty()}}
         */
        public static Config defaults() {
            return new Config(1L << 20, 16, 0, 64L << 30, 16, ForkMode.SHARED_TABLES, Profile.fromSystemProperty());
        }

        /**
         * In a copy: changes the size of physical memory.
         *
         * @param n frames of physical memory, more than the zeroed and device frames
         * @return a copy of this config with that many frames
         */
        public Config withFrames(long n) {
            return new Config(n, faultAround, vmaBudget, addressSpaceSize, deviceFrames, forkMode, profile);
        }

        /**
         * In a copy: changes how many pages a demand fault maps at once.
         *
         * @param pages pages a demand fault maps at once: a power of two, 1 to {@value #ZERO_RUN}
         * @return a copy of this config with that window
         */
        public Config withFaultAround(int pages) {
            return new Config(frames, pages, vmaBudget, addressSpaceSize, deviceFrames, forkMode, profile);
        }

        /**
         * In a copy: changes how many host mappings the manager may create.
         *
         * @param n host mappings the manager may create; 0 for a share of what the host allows
         * @return a copy of this config with that budget
         */
        public Config withVmaBudget(long n) {
            return new Config(frames, faultAround, n, addressSpaceSize, deviceFrames, forkMode, profile);
        }

        /**
         * In a copy: changes the guest address-space size.
         *
         * @param bytes guest address space each address space reserves: a multiple of a page, at most
         *        {@link #MAX_ADDRESS_SPACE}
         * @return a copy of this config with that size
         */
        public Config withAddressSpaceSize(long bytes) {
            return new Config(frames, faultAround, vmaBudget, bytes, deviceFrames, forkMode, profile);
        }

        /**
         * In a copy: changes how fork copies page tables.
         *
         * @param mode how fork copies page tables
         * @return a copy of this config with that mode
         */
        public Config withForkMode(ForkMode mode) {
            return new Config(frames, faultAround, vmaBudget, addressSpaceSize, deviceFrames, mode, profile);
        }

        /**
         * In a copy: changes the safety profile.
         *
         * @param p the safety profile; Ludicrous needs a power-of-two address-space size
         * @return a copy of this config with that profile
         */
        public Config withProfile(Profile p) {
            return new Config(frames, faultAround, vmaBudget, addressSpaceSize, deviceFrames, forkMode, p);
        }
    }

    /**
     * Host mappings all managers together may hold: what vm.max_map_count
     * leaves after the JVM's own, less a margin for what the JVM maps later
     * (threads, heap, code cache).
     */
    private static final long PROCESS_VMA_BUDGET = Math.max(1024, HostVmas.limit() - HostVmas.inUse() - 8192);
    private static final AtomicLong PROCESS_VMAS = new AtomicLong();

    final ReentrantLock lock = new ReentrantLock();
    final Config config;
    final PhysicalMemory memory;
    final PageInfo info;
    final FrameAllocator allocator;
    final long deviceBase;
    private final long vmaBudget;
    private long vmas;
    private final List<Long> freed = new ArrayList<>();
    /** Fortress's kernel buffer for a file page on its way into a frame; used under the lock. */
    final byte[] pageBuffer = new byte[(int) AddressSpace.PAGE];
    private final Set<AddressSpace> spaces = Collections.synchronizedSet(new LinkedHashSet<>());
    /** The open page caches, by the file's identity: (device, inode), never a path another file may take. */
    private final Map<List<Long>, PageCache> caches = new HashMap<>();
    /** Page-cache frames: which file page each holds. */
    private final Map<Long, CachedPage> cachedPages = new HashMap<>();
    private boolean closed;

    /**
     * A machine: creates its memfd of frames (sparse: unused frames cost
     * nothing). Close it to give the memfd and every address space back.
     *
     * @param config its sizes and choices
     */
    public MemoryManager(Config config) {
        this.config = config;
        this.memory = PhysicalMemory.create(config.frames());
        this.info = new PageInfo(config.frames());
        this.deviceBase = config.frames() - config.deviceFrames();
        this.allocator = new FrameAllocator(ZERO_RUN, deviceBase);
        this.vmaBudget = config.vmaBudget() > 0 ? config.vmaBudget() : PROCESS_VMA_BUDGET;
    }

    /** A machine with {@link Config#defaults()}. */
    public MemoryManager() {
        this(Config.defaults());
    }

    /**
     * The host file descriptor of the machine's frames (a memfd; frame
     * {@code n} at offset {@code n * PAGE}), for a {@link HostMirror} in
     * another process: a guest process maps its frames from its own copy.
     *
     * @return the descriptor, owned by this manager: valid until {@link #close}
     */
    public int frameFile() {
        return memory.fd();
    }

    /** {@return the sizes and choices this machine was made with} */
    public Config config() {
        return config;
    }

    /**
     * A new, empty address space; ENOMEM when its host mappings do not fit the budget.
     *
     * @return the space; the caller closes it (or closing the manager does)
     */
    public AddressSpace newAddressSpace() {
        lock.lock();
        try {
            checkOpen();
            reserveVmas(2);
            AddressSpace space = new AddressSpace(this);
            spaces.add(space);
            return space;
        } finally {
            lock.unlock();
        }
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("memory manager is closed");
        }
    }

    void registerFork(AddressSpace child) {
        spaces.add(child);
    }

    void removed(AddressSpace space) {
        spaces.remove(space);
    }

    /** The zeroed frame that maps {@code page}: consecutive pages, consecutive frames. */
    long zeroFrame(long page) {
        return page % ZERO_RUN;
    }

    /** Allocates {@code count} contiguous frames; -1 if no run that long is free. */
    long allocate(long count) {
        return allocator.allocate(count);
    }

    /** The run of {@code count} frames at {@code wanted}, if all are free (-1: no wish); else -1. */
    long allocateAt(long wanted, long count) {
        return wanted >= 0 ? allocator.allocateAt(wanted, count) : -1;
    }

    /** A run of {@code count} frames, at {@code wanted} if those are free (-1: no wish), else anywhere; -1 if none. */
    long allocateNear(long wanted, long count) {
        long f = wanted >= 0 ? allocator.allocateAt(wanted, count) : -1;
        return f >= 0 ? f : allocator.allocate(count);
    }

    /** A new frame holding zeros, its first reference taken; ENOMEM naming {@code address} when none is left. */
    long zeroedFrame(long address, boolean shared) {
        return zeroedFrame(-1, address, shared);
    }

    /** {@link #zeroedFrame}, at frame {@code wanted} if it is free. */
    long zeroedFrame(long wanted, long address, boolean shared) {
        long frame = allocateOne(wanted, address);
        takeZeroed(frame, shared);
        return frame;
    }

    /** Takes the first reference of an allocated frame and clears what its last use left. */
    void takeZeroed(long frame, boolean shared) {
        if (info.first(frame, shared)) {
            memory.frame(frame).zero();
        }
    }

    /** A new private frame holding a copy of {@code frame}'s bytes (a copy-on-write break). */
    long copyOfFrame(long frame, long address) {
        return copyOfFrame(frame, -1, address);
    }

    /** {@link #copyOfFrame}, into frame {@code wanted} if it is free. */
    long copyOfFrame(long frame, long wanted, long address) {
        long copy = allocateOne(wanted, address);
        info.first(copy, false);
        memory.frame(frame).copyTo(memory.frame(copy));
        return copy;
    }

    /** Copies frame {@code from}'s bytes into frame {@code to}. */
    void copyFrame(long from, long to) {
        memory.frame(from).copyTo(memory.frame(to));
    }

    /** Frame {@code frame}'s bytes into {@code dst} (one page). */
    void readFrame(long frame, byte[] dst) {
        memory.frame(frame).read(0, dst, 0, (int) PageTable.PAGE);
    }

    /**
     * Fills free frame {@code frame} with page {@code filePage} of
     * {@code file} (zeros past its end). Fortress reads into a kernel buffer
     * and copies that into the frame; the other profiles read straight into
     * the frame.
     */
    void readFilePage(FileRef file, long filePage, long frame) throws IOException {
        if (config.profile() == Profile.FORTRESS) {
            file.cache().read(filePage, pageBuffer);
            memory.frame(frame).write(0, pageBuffer, 0, pageBuffer.length);
        } else {
            memory.frame(frame).readFrom(file.channel(), filePage * PageTable.PAGE);
        }
    }

    /** {@link #readFilePage} for {@code count} pages into frames {@code frame...}: one host read where the profile allows. */
    void readFilePages(FileRef file, long filePage, long frame, long count) throws IOException {
        if (config.profile() == Profile.FORTRESS || count == 1) {
            for (long i = 0; i < count; i++) {
                readFilePage(file, filePage + i, frame + i);
            }
        } else {
            memory.readFrom(file.channel(), filePage * PageTable.PAGE, frame, count);
        }
    }

    /** Gives {@code count} frames from {@code frame}, allocated but never used, back. */
    void releaseUnused(long frame, long count) {
        allocator.release(frame, count);
    }

    long freeFrames() {
        return allocator.free();
    }

    /** Allocates one frame or fails with ENOMEM. */
    long allocateOne(long address) {
        return allocateOne(-1, address);
    }

    /** One frame, {@code wanted} if it is free (-1: no wish); ENOMEM naming {@code address} when none is left. */
    long allocateOne(long wanted, long address) {
        long f = allocateNear(wanted, 1);
        if (f < 0) {
            throw new ErrnoException(Errno.ENOMEM, address, AddressSpace.PAGE,
                    "out of physical frames (" + allocator.capacity() + " in all)");
        }
        return f;
    }

    /**
     * A frame whose last reference went; reusable after {@link #flushFreed}.
     * A page-cache frame leaves its cache now, so no mapping finds it again.
     */
    void freed(long frame) {
        freed.add(frame);
        CachedPage cp = cachedPages.remove(frame);
        if (cp == null) {
            return;
        }
        cp.cache().remove(cp.filePage());
        if (info.isWritten(frame)) {
            // Now, not at flush: the same operation may read this file page again. Nothing maps
            // the frame any more (host access goes before references), so its bytes are settled.
            byte[] buf = new byte[(int) AddressSpace.PAGE];
            memory.frame(frame).read(0, buf, 0, buf.length);
            try {
                cp.cache().write(cp.filePage(), buf);
            } catch (IOException e) {
                lostWriteBack = e;
            }
        }
    }

    /** A write-back that failed while freeing, reported by the next {@link #flushFreed}. */
    private IOException lostWriteBack;

    /**
     * Gives freed frames back to the allocator, in runs. Call after the host
     * no longer maps them.
     *
     * <p>The frames stay resident, as a machine's memory does: handing one out
     * again zeroes it where zeros are needed ({@link PageInfo#first}), which
     * costs far less than the host allocating and zeroing a page it was given
     * back. The memfd so grows to the most frames ever in use at once.
     *
     * <p>The end of every operation: where a budget is more than half used,
     * parked host mappings go back too, so that an operation near the budget
     * meets none (and prices its host mappings exactly, as without parking).
     */
    void flushFreed() {
        if (parked && (vmas > vmaBudget / 2 || PROCESS_VMAS.get() > PROCESS_VMA_BUDGET / 2)) {
            releaseParked();
        }
        if (!freed.isEmpty()) {
            freed.sort(null);
            int i = 0;
            while (i < freed.size()) {
                int j = i + 1;
                while (j < freed.size() && freed.get(j) == freed.get(j - 1) + 1) {
                    j++;
                }
                allocator.release(freed.get(i), j - i);
                i = j;
            }
            freed.clear();
        }
        if (lostWriteBack != null) {
            IOException lost = lostWriteBack;
            lostWriteBack = null;
            throw new ErrnoException(Errno.EIO, 0, 0, "writing a shared file mapping back failed: " + lost.getMessage());
        }
    }

    /**
     * Fails with ENOMEM unless {@code n} more host mappings fit the budgets;
     * parked host mappings ({@link JvmMirror#unmap}) are given back first
     * when they are in the way.
     */
    void reserveVmas(long n) {
        if (fitsNot(n) && parked) {
            releaseParked(); // an operation that started below half the budget and needs more than the rest
        }
        if (fitsNot(n)) {
            throw new ErrnoException(Errno.ENOMEM, 0, 0, "host mapping budget reached: " + vmas + " of " + vmaBudget
                    + " for this machine, " + PROCESS_VMAS.get() + " of " + PROCESS_VMA_BUDGET
                    + " for the process (vm.max_map_count " + HostVmas.limit() + ")");
        }
    }

    private void releaseParked() {
        for (AddressSpace s : List.copyOf(spaces)) {
            s.releaseParked();
        }
        parked = false;
    }

    private boolean fitsNot(long n) {
        return vmas + n > vmaBudget || PROCESS_VMAS.get() + n > PROCESS_VMA_BUDGET;
    }

    /**
     * Whether a host mapping may be parked at a cost of up to {@code n} more
     * host mappings than giving it back: while both budgets are less than
     * half used, so parking never decides whether an operation fits.
     */
    boolean mayPark(long n) {
        if (vmas + n > vmaBudget / 2 || PROCESS_VMAS.get() + n > PROCESS_VMA_BUDGET / 2) {
            return false;
        }
        parked = true;
        return true;
    }

    /** Some address space may hold parked host mappings. */
    private boolean parked;

    /** How deep borrowing goes through External grants now; a cycle would recurse for ever. */
    int lendDepth;

    void vmasChanged(long delta) {
        vmas += delta;
        PROCESS_VMAS.addAndGet(delta);
    }

    /** Open page caches above which opening another first closes those nothing uses. */
    private static final int OPEN_CACHES = 64;
    private static final Path PROC_SELF_FD = Path.of("/proc/self/fd");

    /**
     * The page cache of a host file, opened once per manager while something
     * uses it: read-only, unless a shared mapping may write it back
     * ({@code shared}). A file held open for writing cannot be executed
     * (ETXTBSY), so a guest's program, mapped privately, must never be.
     * A {@code /proc/self/fd/N} path stands for the file open at that
     * descriptor: it is opened through the link, so a rename or a symlink
     * put in its path meanwhile cannot make it another file, and it is
     * listed by the path the link shows. A cache is the file's by its
     * device and inode, read from the file just opened: a file that took
     * another's name (replaced, renamed over) gets its own.
     */
    PageCache cache(Path file, boolean shared) throws IOException {
        Path shown = file.startsWith(PROC_SELF_FD) ? java.nio.file.Files.readSymbolicLink(file) : file.toAbsolutePath().normalize();
        boolean write = shared && java.nio.file.Files.isWritable(file);
        FileChannel channel = open(file, write);
        List<Long> key;
        try {
            var ids = java.nio.file.Files.readAttributes(file, "unix:dev,ino");
            key = List.of((Long) ids.get("dev"), (Long) ids.get("ino"));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        PageCache cache = caches.get(key);
        if (cache == null) {
            if (caches.size() >= OPEN_CACHES) {
                closeUnusedCaches();
            }
            cache = new PageCache(shown, channel, write);
            caches.put(key, cache);
            return cache;
        }
        if (write && !cache.writable()) {
            cache.reopen(channel); // the one just opened, read-write
        } else {
            channel.close();
        }
        return cache;
    }

    private static FileChannel open(Path key, boolean write) throws IOException {
        return write ? FileChannel.open(key, StandardOpenOption.READ, StandardOpenOption.WRITE) : FileChannel.open(key, StandardOpenOption.READ);
    }

    /**
     * Closes the page caches no grant of any address space refers to and
     * that hold no frame, so a long-lived machine mapping many files keeps a
     * file descriptor only for the files still mapped.
     */
    private void closeUnusedCaches() {
        Set<PageCache> used = Collections.newSetFromMap(new IdentityHashMap<>());
        for (AddressSpace s : List.copyOf(spaces)) {
            s.pageCachesInUse(used);
        }
        for (var it = caches.values().iterator(); it.hasNext(); ) {
            PageCache c = it.next();
            if (!used.contains(c) && c.isEmpty()) {
                it.remove();
                try {
                    c.channel().close();
                } catch (IOException ignored) {
                    // nothing was written through it that a frame still holds
                }
            }
        }
    }

    /** Records that {@code frame} caches {@code filePage} of {@code cache}. */
    void cached(long frame, PageCache cache, long filePage) {
        cache.put(filePage, frame);
        cachedPages.put(frame, new CachedPage(cache, filePage));
    }

    private record CachedPage(PageCache cache, long filePage) {}

    /**
     * The machine's use of its resources at one moment.
     *
     * @param frames frames the allocator owns (the zeroed and device frames not counted)
     * @param freeFrames of those, frames free now
     * @param usedFrames of those, frames in use now: {@code frames - freeFrames}
     * @param vmas host mappings this manager holds now, by its model
     * @param vmaBudget the most host mappings it may hold
     * @param addressSpaces address spaces open now
     */
    public record Stats(long frames, long freeFrames, long usedFrames, long vmas, long vmaBudget, int addressSpaces) {}

    /** {@return the machine's use of its resources now, read under its lock} */
    public Stats stats() {
        lock.lock();
        try {
            return new Stats(allocator.capacity(), allocator.free(), allocator.capacity() - allocator.free(), vmas, vmaBudget, spaces.size());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Checks that every frame is free or referenced exactly as often as page
     * tables point at it (a leaf shared by forks counting once), and that each
     * address space's host mappings match its page table. Throws
     * {@link IllegalStateException} naming the first thing wrong.
     */
    public void checkInvariants() {
        lock.lock();
        try {
            if (!freed.isEmpty()) {
                throw new IllegalStateException(freed.size() + " freed frames not given back");
            }
            Map<Object, Boolean> leaves = PageTable.identitySet();
            Map<Long, Long> refs = new HashMap<>();
            long spaceVmas = 0;
            for (AddressSpace s : List.copyOf(spaces)) {
                s.countReferences(leaves, refs);
                s.checkHostMappings();
                spaceVmas += s.vmas() + 1; // the guard page
            }
            for (long f = ZERO_RUN; f < deviceBase; f++) {
                long want = refs.getOrDefault(f, 0L);
                if (info.refcount(f) != want) {
                    throw new IllegalStateException("frame " + f + " has refcount " + info.refcount(f) + " but " + want + " page-table leaves map it");
                }
                if (allocator.isAllocated(f) != (want > 0)) {
                    throw new IllegalStateException("frame " + f + " is " + (allocator.isAllocated(f) ? "allocated" : "free") + " with " + want + " references");
                }
            }
            for (Long f : refs.keySet()) {
                if (!allocator.owns(f)) {
                    throw new IllegalStateException("frame " + f + " outside the allocator is refcounted");
                }
            }
            if (spaceVmas != vmas) {
                throw new IllegalStateException("VMA count " + vmas + " but address spaces hold " + spaceVmas);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Closes every address space, then physical memory. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true; // first: no new address space or fork from here on
            for (AddressSpace s : List.copyOf(spaces)) {
                s.close();
            }
            for (PageCache cache : caches.values()) {
                try {
                    cache.channel().close();
                } catch (IOException ignored) {
                    // closing a read channel loses nothing
                }
            }
            memory.close();
        } finally {
            lock.unlock();
        }
    }
}
