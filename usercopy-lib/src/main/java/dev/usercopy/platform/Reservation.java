package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicLong;

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
 * <p>Copies run without locks. {@link #close} waits for copies in flight
 * before it gives the range back, since once unmapped the host may reuse the
 * range for JVM memory that a late copy would then write.
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
    /** Copies in flight, plus CLOSED once closing has begun. */
    private final AtomicLong inFlight = new AtomicLong();
    private static final long CLOSED = 1L << 62;

    private Reservation(long base, long size) {
        this.base = base;
        this.size = size;
    }

    /** Reserves {@code size} bytes of guest address space (a multiple of the frame size). */
    public static Reservation reserve(long size) {
        if (size <= 0 || size % PAGE != 0) {
            throw new IllegalArgumentException("reservation size " + size + " is not a positive multiple of " + PAGE);
        }
        long base = Posix.mmap(0, size + GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        return new Reservation(base, size);
    }

    public long size() {
        return size;
    }

    private void checkRange(long guest, long length) {
        if ((inFlight.get() & CLOSED) != 0) {
            throw new IllegalStateException("reservation is closed");
        }
        if (guest < 0 || length < 0 || guest > size - length || guest % PAGE != 0 || length % PAGE != 0) {
            throw new IndexOutOfBoundsException("guest range [0x" + Long.toHexString(guest) + ", +" + length
                    + ") not page-aligned inside a reservation of " + size);
        }
    }

    /** Maps {@code count} frames of {@code memory} at guest address {@code guest}; see {@link PhysicalMemory#mapInto}. */
    public void map(long guest, PhysicalMemory memory, long frame, long count, int prot, boolean populate) {
        if (count < 0 || count > size / PAGE) { // before the product, which could wrap
            throw new IndexOutOfBoundsException(count + " frames at guest 0x" + Long.toHexString(guest) + " in a reservation of " + size);
        }
        checkRange(guest, count * PAGE);
        memory.mapInto(base + guest, frame, count, prot, populate);
    }

    /** Returns a guest range to the reserved, inaccessible state. */
    public void unmap(long guest, long length) {
        checkRange(guest, length);
        Posix.mmap(base + guest, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    }

    /** mprotect of a guest range that is mapped. */
    public void protect(long guest, long length, int prot) {
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

    private boolean enter() {
        if ((inFlight.incrementAndGet() & CLOSED) != 0) {
            inFlight.decrementAndGet();
            return false;
        }
        return true;
    }

    private void leave() {
        inFlight.decrementAndGet();
    }

    /** {@link UserCopy#rawCopyFromUser} at a guest address: bytes not copied (left as they were); past the end counts as not copied. */
    public long rawCopyFromUser(MemorySegment to, long from) {
        long n = to.byteSize();
        long in = inside(from, n);
        if (in == 0 || !enter()) {
            return n;
        }
        try {
            return n - in + UserCopy.rawCopyFromUser(to.asSlice(0, in), base + from);
        } finally {
            leave();
        }
    }

    /** {@link UserCopy#copyToUser} at a guest address: bytes not copied; past the end counts as not copied. */
    public long copyToUser(long to, MemorySegment from) {
        long n = from.byteSize();
        long in = inside(to, n);
        if (in == 0 || !enter()) {
            return n;
        }
        try {
            return n - in + UserCopy.copyToUser(base + to, from.asSlice(0, in));
        } finally {
            leave();
        }
    }

    /** {@link UserCopy#clearUser} at a guest address. */
    public long clearUser(long to, long length) {
        long in = inside(to, length);
        if (in == 0 || !enter()) {
            return length;
        }
        try {
            return length - in + UserCopy.clearUser(base + to, in);
        } finally {
            leave();
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
        if (!enter()) {
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
            leave();
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
        if (in == 0 || !enter()) {
            return -Errno.EFAULT.number();
        }
        try {
            long got = UserCopy.strncpyFromUser(to, toOffset, base + from, (int) in);
            return got == in && in < count ? -Errno.EFAULT.number() : got;
        } finally {
            leave();
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
     * <p>The call counts as a copy in flight, so {@link #close} waits for it
     * (a blocking read delays it) and never gives the range back to the host
     * while the kernel may still write through it.
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
        if (!enter()) {
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
            leave();
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

    /** Waits for copies in flight, then unmaps the range. Later copies copy nothing. */
    @Override
    public void close() {
        // Set CLOSED once (a second close must not add it again: the count would wrap negative).
        long seen;
        do {
            seen = inFlight.get();
            if ((seen & CLOSED) != 0) {
                return;
            }
        } while (!inFlight.compareAndSet(seen, seen | CLOSED));
        while (inFlight.get() != CLOSED) {
            Thread.onSpinWait();
        }
        Posix.munmap(base, size + GUARD);
    }
}
