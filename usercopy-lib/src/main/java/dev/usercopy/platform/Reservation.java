package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import dev.usercopy.uapi.Errno;

import static dev.usercopy.platform.Posix.MAP_ANONYMOUS;
import static dev.usercopy.platform.Posix.MAP_FIXED;
import static dev.usercopy.platform.Posix.MAP_NORESERVE;
import static dev.usercopy.platform.Posix.MAP_PRIVATE;
import static dev.usercopy.platform.Posix.PROT_NONE;

/**
 * A guest address space's host range: guest address 0 is its first byte.
 * Reserved as one PROT_NONE, MAP_NORESERVE mapping with a guard region after
 * it, so a copy that runs off the end faults instead of reaching whatever the
 * host maps next. Frames are mapped in and out of it; it never shrinks.
 *
 * <p>Copies run without locks and without any atomic read-modify-write.
 * {@link #close} does not wait for copies in flight: under the lock it turns
 * the whole range {@code PROT_NONE}, so a copy still running faults at its
 * next byte and ends with what it copied (its fixup, as for any EFAULT); the
 * frames are no longer mapped here once close returns. The range itself is
 * given back to the host (munmap) only after this object is unreachable:
 * every copy holds it reachable ({@link Reference#reachabilityFence}) until
 * its native call returns, so no copy can reach a range the host has handed
 * out again, to the JVM or anyone.
 */
public final class Reservation implements AutoCloseable {
    private static final long PAGE = PhysicalMemory.FRAME_SIZE;
    /**
     * Inaccessible bytes after the range: a copy that starts inside the range
     * and is no longer than this faults before it can leave the reservation,
     * which is what lets the unchecked copies skip the range check.
     */
    public static final long GUARD = 1L << 20;

    private final long base;
    private final long size;
    /**
     * Set under the lock by close. Copies read it only to skip a copy that
     * would fault anyway; what makes a late copy safe is the PROT_NONE range.
     */
    private volatile boolean closed;

    /** The closed ranges not yet given back, each waiting for its reservation to be unreachable. */
    private static final ReferenceQueue<Reservation> UNREACHABLE = new ReferenceQueue<>();
    private static final Set<ClosedRange> CLOSED_RANGES = ConcurrentHashMap.newKeySet();

    /** A closed reservation's host range (guard included), unmapped once the reservation is unreachable. */
    private static final class ClosedRange extends PhantomReference<Reservation> {
        final long base;
        final long length;

        ClosedRange(Reservation r) {
            super(r, UNREACHABLE);
            this.base = r.base;
            this.length = r.size + GUARD;
        }
    }

    /** Unmaps the closed ranges whose reservations are unreachable (no copy can be running in them). */
    private static void releaseUnreachable() {
        for (Reference<? extends Reservation> ref; (ref = UNREACHABLE.poll()) != null; ) {
            release((ClosedRange) ref);
        }
    }

    private static void release(ClosedRange range) {
        if (CLOSED_RANGES.remove(range)) {
            Posix.munmap(range.base, range.length);
        }
    }

    private Reservation(long base, long size) {
        this.base = base;
        this.size = size;
    }

    /** Reserves {@code size} bytes of guest address space (a multiple of the frame size). */
    public static Reservation reserve(long size) {
        if (size <= 0 || size % PAGE != 0) {
            throw new IllegalArgumentException("reservation size " + size + " is not a positive multiple of " + PAGE);
        }
        releaseUnreachable();
        long base;
        try {
            base = Posix.mmap(0, size + GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        } catch (NativeCallException e) {
            if (e.errno() != Errno.ENOMEM.number() || CLOSED_RANGES.isEmpty()) {
                throw e;
            }
            // Address space held by closed reservations still reachable: collect them and retry once.
            awaitUnreachable();
            base = Posix.mmap(0, size + GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        }
        return new Reservation(base, size);
    }

    /** Runs the collector and gives back what it found unreachable, waiting up to a second for the first. */
    private static void awaitUnreachable() {
        System.gc();
        try {
            Reference<? extends Reservation> ref = UNREACHABLE.remove(TimeUnit.SECONDS.toMillis(1));
            if (ref != null) {
                release((ClosedRange) ref);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        releaseUnreachable();
    }

    public long size() {
        return size;
    }

    /** Under the lock: maps and protections never race with close. */
    private void checkRange(long guest, long length) {
        if (closed) {
            throw new IllegalStateException("reservation is closed");
        }
        if (guest < 0 || length < 0 || guest > size - length || guest % PAGE != 0 || length % PAGE != 0) {
            throw new IndexOutOfBoundsException("guest range [0x" + Long.toHexString(guest) + ", +" + length
                    + ") not page-aligned inside a reservation of " + size);
        }
    }

    /** Maps {@code count} frames of {@code memory} at guest address {@code guest}; see {@link PhysicalMemory#mapInto}. */
    public synchronized void map(long guest, PhysicalMemory memory, long frame, long count, int prot, boolean populate) {
        if (count < 0 || count > size / PAGE) { // before the product, which could wrap
            throw new IndexOutOfBoundsException(count + " frames at guest 0x" + Long.toHexString(guest) + " in a reservation of " + size);
        }
        checkRange(guest, count * PAGE);
        memory.mapInto(base + guest, frame, count, prot, populate);
    }

    /** Returns a guest range to the reserved, inaccessible state. */
    public synchronized void unmap(long guest, long length) {
        checkRange(guest, length);
        Posix.mmap(base + guest, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    }

    /** mprotect of a guest range that is mapped. */
    public synchronized void protect(long guest, long length, int prot) {
        checkRange(guest, length);
        Posix.mprotect(base + guest, length, prot);
    }

    /** Bytes of {@code [guest, guest + length)} that lie inside the reservation. */
    private long inside(long guest, long length) {
        if (guest < 0 || guest >= size) {
            return 0;
        }
        return Math.min(length, size - guest);
    }

    // Each copy below ends with Reference.reachabilityFence(this): the range stays reserved
    // (at worst PROT_NONE) until its native call has returned; see the class comment.

    /** {@link UserCopy#rawCopyFromUser} at a guest address: bytes not copied (left as they were); past the end counts as not copied. */
    public long rawCopyFromUser(MemorySegment to, long from) {
        long n = to.byteSize();
        long in = inside(from, n);
        if (in == 0 || closed) {
            return n;
        }
        try {
            return n - in + UserCopy.rawCopyFromUser(in == n ? to : to.asSlice(0, in), base + from);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** {@link #rawCopyFromUser(MemorySegment, long)} into {@code to[offset..offset + length)}. */
    public long rawCopyFromUser(byte[] to, int offset, long from, int length) {
        Objects.checkFromIndexSize(offset, length, to.length);
        long in = inside(from, length);
        if (in == 0 || closed) {
            return length;
        }
        try {
            return length - in + UserCopy.rawCopyFromUser(to, offset, base + from, (int) in);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** {@link UserCopy#copyToUser} at a guest address: bytes not copied; past the end counts as not copied. */
    public long copyToUser(long to, MemorySegment from) {
        long n = from.byteSize();
        long in = inside(to, n);
        if (in == 0 || closed) {
            return n;
        }
        try {
            return n - in + UserCopy.copyToUser(base + to, in == n ? from : from.asSlice(0, in));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** {@link #copyToUser(long, MemorySegment)} from {@code from[offset..offset + length)}. */
    public long copyToUser(long to, byte[] from, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, from.length);
        long in = inside(to, length);
        if (in == 0 || closed) {
            return length;
        }
        try {
            return length - in + UserCopy.copyToUser(base + to, from, offset, (int) in);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** {@link UserCopy#clearUser} at a guest address. */
    public long clearUser(long to, long length) {
        long in = inside(to, length);
        if (in == 0 || closed) {
            return length;
        }
        try {
            return length - in + UserCopy.clearUser(base + to, in);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * The host address of guest byte {@code guest} with no range check:
     * {@code guest & (size - 1)}, which is inside the range whatever
     * {@code guest} is (and is the guest address modulo the size when the
     * size is a power of two). Safe with copies of at most {@link #GUARD} bytes.
     */
    private long unchecked(long guest) {
        return base + (guest & (size - 1));
    }

    /** One native copy of {@code length} bytes at host address {@code host}, {@code done} bytes into the whole: bytes not copied. */
    @FunctionalInterface
    private interface Piece {
        long copy(long host, long done, long length);
    }

    /**
     * Runs {@code piece} over {@code length} bytes from guest {@code guest}
     * without the range check: each piece starts at {@link #unchecked} of
     * its guest address and is at most {@link #GUARD} long, so it faults in
     * the guard region rather than run past it. Bytes not copied.
     */
    private long unchecked(long guest, long length, Piece piece) {
        if (closed) {
            return length;
        }
        try {
            long done = 0;
            while (done < length) {
                long n = Math.min(length - done, GUARD);
                long left = piece.copy(unchecked(guest + done), done, n);
                done += n - left;
                if (left != 0) {
                    break;
                }
            }
            return length - done;
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** {@link #rawCopyFromUser} without the range check (the Ludicrous profile); see {@link #unchecked(long, long, Piece)}. */
    public long rawCopyFromUserUnchecked(MemorySegment to, long from) {
        return unchecked(from, to.byteSize(), (host, done, n) -> UserCopy.rawCopyFromUser(to.asSlice(done, n), host));
    }

    /** {@link #copyToUser} without the range check. */
    public long copyToUserUnchecked(long to, MemorySegment from) {
        return unchecked(to, from.byteSize(), (host, done, n) -> UserCopy.copyToUser(host, from.asSlice(done, n)));
    }

    /** {@link #clearUser} without the range check. */
    public long clearUserUnchecked(long to, long length) {
        return unchecked(to, length, (host, done, n) -> UserCopy.clearUser(host, n));
    }

    /**
     * {@link UserCopy#strncpyFromUser} at a guest address, with the count
     * cut at the end of the reservation: a string that runs off it is -EFAULT.
     */
    public long strncpyFromUser(byte[] to, int toOffset, long from, int count) {
        long in = inside(from, count);
        if (count == 0) {
            return 0;
        }
        if (in == 0 || closed) {
            return -Errno.EFAULT.number();
        }
        try {
            long got = UserCopy.strncpyFromUser(to, toOffset, base + from, (int) in);
            return got == in && in < count ? -Errno.EFAULT.number() : got;
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * The host data calls ({@code read}, {@code readv}, ...) over guest
     * ranges, made with this reservation's addresses of the ranges: the
     * host kernel copies straight to or from the guest's pages, and where a
     * page is not mapped here (or read-only, for a read into it) it stops
     * there itself, as Linux does on a guest's own page tables (a short
     * count, or EFAULT when nothing moved). {@code ranges} holds guest
     * (address, length) pairs, each inside the reservation (else EFAULT, and
     * nothing is called); {@code offset} is the file offset of the
     * positional calls. The result is the host's: a count or {@code -errno}.
     *
     * <p>The call holds this reservation reachable, so the range is never
     * given back to the host while the kernel may still write through it; a
     * close during a blocking read makes the range PROT_NONE, and the host
     * kernel's own copy stops there (a short count, or EFAULT).
     */
    public long hostCall(HostCall call, int fd, long[] ranges, long offset) {
        if (ranges.length % 2 != 0 || ranges.length == 0) {
            throw new IllegalArgumentException("ranges are (address, length) pairs, at least one");
        }
        for (int i = 0; i < ranges.length; i += 2) {
            if (ranges[i + 1] < 0 || inside(ranges[i], ranges[i + 1]) != ranges[i + 1]) {
                return -Errno.EFAULT.number();
            }
        }
        if (closed) {
            return -Errno.EFAULT.number();
        }
        try {
            return switch (call) {
                case READ -> HostFiles.read(fd, host(ranges, 0), ranges[1]);
                case WRITE -> HostFiles.write(fd, host(ranges, 0), ranges[1]);
                case PREAD64 -> HostFiles.pread64(fd, host(ranges, 0), ranges[1], offset);
                case PWRITE64 -> HostFiles.pwrite64(fd, host(ranges, 0), ranges[1], offset);
                case GETDENTS64 -> HostFiles.getdents64(fd, host(ranges, 0), ranges[1]);
                case READV, WRITEV -> vector(call, fd, ranges);
            };
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The host address of range {@code i}; an empty range may name any guest address, so it gets the base (never touched). */
    private long host(long[] ranges, int i) {
        return ranges[2 * i + 1] == 0 ? base : base + ranges[2 * i];
    }

    private long vector(HostCall call, int fd, long[] ranges) {
        int n = ranges.length / 2;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment iov = arena.allocate(16L * n, 8);
            for (int i = 0; i < n; i++) {
                iov.set(ValueLayout.JAVA_LONG, 16L * i, host(ranges, i));
                iov.set(ValueLayout.JAVA_LONG, 16L * i + 8, ranges[2 * i + 1]);
            }
            return call == HostCall.READV ? HostFiles.readv(fd, iov.address(), n) : HostFiles.writev(fd, iov.address(), n);
        }
    }

    /**
     * The host mappings (lines of /proc/self/maps) that overlap the guest
     * range, not counting the guard page: what the kernel made of the maps,
     * unmaps and protects. Overlap, not containment, so a reserved gap the
     * kernel merged with a neighbouring mapping still counts once.
     */
    public long hostMappings() {
        long end = base + size;
        try (java.util.stream.Stream<String> lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/self/maps"))) {
            return lines.filter(line -> {
                int dash = line.indexOf('-');
                long lo = Long.parseUnsignedLong(line.substring(0, dash), 16);
                long hi = Long.parseUnsignedLong(line.substring(dash + 1, line.indexOf(' ')), 16);
                return lo < end && hi > base;
            }).count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read /proc/self/maps", e);
        }
    }

    /**
     * Makes the whole range inaccessible, so copies still running stop at
     * their next byte (EFAULT) and none reaches a frame once this returns;
     * later copies copy nothing. The range is unmapped once this object is
     * unreachable (at a later {@link #reserve}).
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            // MAP_FIXED replaces every frame mapping at once: after this call no CPU writes through them.
            Posix.mmap(base, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
            CLOSED_RANGES.add(new ClosedRange(this));
        }
        releaseUnreachable();
    }
}
