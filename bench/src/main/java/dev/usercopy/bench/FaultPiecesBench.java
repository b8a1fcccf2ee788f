package dev.usercopy.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.HostMapping;
import dev.usercopy.platform.PhysicalMemory;
import dev.usercopy.platform.Reservation;

import static dev.usercopy.platform.Posix.PROT_NONE;
import static dev.usercopy.platform.Posix.PROT_READ;
import static dev.usercopy.platform.Posix.PROT_WRITE;

/**
 * Where a demand fault's time goes, with fault-around 1: each piece timed on
 * its own over {@value #PAGES} pages, one page at a time, with what it needs
 * set up outside the timing (per invocation), so the pieces add up to
 * {@link #whole}. Nanoseconds per page.
 *
 * <ul>
 * <li>{@link #whole}: a one-byte {@code copyToUser} into each lazy page of a
 *     guest mapping: trap, resolve, resume. {@link #host} is the host
 *     kernel's first touch of anonymous memory, the baseline.
 * <li>{@link #trap}: the same copy into a page of the reservation that maps
 *     nothing ({@code PROT_NONE}): the CPU's trap, the signal, usercopy's
 *     handler, the fixup and {@code rt_sigreturn}; nothing resolved.
 * <li>{@link #resolve}: {@link AddressSpace#resolve} of a write to each lazy
 *     page, called directly: the lock, the grant and page-table work, the
 *     frame (allocated and zeroed) and the host call, with no trap.
 * <li>{@link #mapPopulated}, {@link #mapLazy}, {@link #protect}: the host
 *     call alone, one page at a time, as the fault path makes it (frames
 *     continuing their neighbour's, so the host merges the mappings): an
 *     {@code mmap} with and without {@code MAP_POPULATE}, and the
 *     {@code mprotect} that makes a parked page (mapped {@code PROT_NONE}
 *     since an unmap, its frame and page-table entry kept) writable again.
 *     {@link #resolve} less {@link #mapPopulated} is the Java bookkeeping.
 * <li>{@link #secondTrap}: the one-byte copy into a freshly mapped memfd page
 *     that was not populated: the host's own fault, which a mapping without
 *     {@code MAP_POPULATE} leaves to the first access. {@link #resumed} is the
 *     same copy into a populated page: what the copy costs once resolved.
 * <li>{@link #zero}: zeroing a used frame (part of {@link #resolve}).
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class FaultPiecesBench {
    /** Pages an invocation touches: 16 MiB, as {@code FirstTouchBench}. */
    static final int PAGES = 4096;
    static final long PAGE = PhysicalMemory.FRAME_SIZE;
    static final byte[] ONE = {1};

    /** A guest address space with fault-around 1, a fresh lazy 16 MiB mapping each invocation. */
    @State(Scope.Thread)
    public static class Guest {
        MemoryManager mm;
        AddressSpace space;
        long base;

        @Setup
        public void open() {
            mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(4 * PAGES).withFaultAround(1).withAddressSpaceSize(1L << 30));
            space = mm.newAddressSpace();
        }

        @Setup(Level.Invocation)
        public void map() {
            base = space.mmap(0, PAGES * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        }

        @TearDown(Level.Invocation)
        public void unmap() {
            space.munmap(base, PAGES * PAGE);
        }

        @TearDown
        public void close() {
            mm.close();
        }
    }

    /** A reservation and resident frames for the host calls on their own; empty ({@code PROT_NONE}) at each invocation's start. */
    @State(Scope.Thread)
    public static class Host {
        PhysicalMemory memory;
        Reservation reservation;

        @Setup
        public void open() {
            memory = PhysicalMemory.create(PAGES);
            for (long f = 0; f < PAGES; f++) {
                memory.frame(f).zero(); // resident, as the fault path's recycled frames are
            }
            reservation = Reservation.reserve(PAGES * PAGE);
        }

        @TearDown(Level.Invocation)
        public void empty() {
            reservation.unmap(0, PAGES * PAGE);
        }

        @TearDown
        public void close() {
            reservation.close();
            memory.close();
        }
    }

    /**
     * {@link Host} with every page parked before each invocation, as an unmap
     * leaves it: mapped and populated, then made {@code PROT_NONE}.
     */
    @State(Scope.Thread)
    public static class Parked extends Host {
        @Setup(Level.Invocation)
        public void park() {
            reservation.map(0, memory, 0, PAGES, PROT_READ | PROT_WRITE, true);
            reservation.protect(0, PAGES * PAGE, PROT_NONE);
        }
    }

    /** {@link Host} with every page mapped writable, without populating, before each invocation. */
    @State(Scope.Thread)
    public static class Unpopulated extends Host {
        @Setup(Level.Invocation)
        public void mapLazily() {
            reservation.map(0, memory, 0, PAGES, PROT_READ | PROT_WRITE, false);
        }
    }

    /** {@link Host} with every page mapped writable and populated before each invocation. */
    @State(Scope.Thread)
    public static class Populated extends Host {
        @Setup(Level.Invocation)
        public void mapPopulated() {
            reservation.map(0, memory, 0, PAGES, PROT_READ | PROT_WRITE, true);
        }
    }

    /** Fresh anonymous host memory before each invocation. */
    @State(Scope.Thread)
    public static class Anonymous {
        HostMapping mapping;

        @Setup(Level.Invocation)
        public void map() {
            mapping = HostMapping.anonymous(PAGES * PAGE);
        }

        @TearDown(Level.Invocation)
        public void unmap() {
            mapping.close();
        }
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long whole(Guest g) {
        long left = 0;
        for (int i = 0; i < PAGES; i++) {
            left += g.space.copyToUser(g.base + i * PAGE, ONE, 0, 1);
        }
        return check(left, 0);
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long host(Anonymous a) {
        MemorySegment s = a.mapping.segment();
        for (int i = 0; i < PAGES; i++) {
            s.set(ValueLayout.JAVA_BYTE, i * PAGE, (byte) 1);
        }
        return a.mapping.address();
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long trap(Host h) {
        long left = 0;
        for (int i = 0; i < PAGES; i++) {
            left += h.reservation.copyToUser(i * PAGE, ONE, 0, 1);
        }
        return check(left, PAGES);
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long resolve(Guest g) {
        long resolved = 0;
        for (int i = 0; i < PAGES; i++) {
            resolved += g.space.resolve(g.base + i * PAGE, true) ? 1 : 0;
        }
        return check(resolved, PAGES);
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public void mapPopulated(Host h) {
        for (int i = 0; i < PAGES; i++) {
            h.reservation.map(i * PAGE, h.memory, i, 1, PROT_READ | PROT_WRITE, true);
        }
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public void mapLazy(Host h) {
        for (int i = 0; i < PAGES; i++) {
            h.reservation.map(i * PAGE, h.memory, i, 1, PROT_READ | PROT_WRITE, false);
        }
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public void protect(Parked h) {
        for (int i = 0; i < PAGES; i++) {
            h.reservation.protect(i * PAGE, PAGE, PROT_READ | PROT_WRITE);
        }
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long secondTrap(Unpopulated h) {
        long left = 0;
        for (int i = 0; i < PAGES; i++) {
            left += h.reservation.copyToUser(i * PAGE, ONE, 0, 1);
        }
        return check(left, 0);
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long resumed(Populated h) {
        long left = 0;
        for (int i = 0; i < PAGES; i++) {
            left += h.reservation.copyToUser(i * PAGE, ONE, 0, 1);
        }
        return check(left, 0);
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public void zero(Host h) {
        for (int i = 0; i < PAGES; i++) {
            h.memory.frame(i).zero();
        }
    }

    /** A piece that did not do what it times would time something else: stop the run. */
    private static long check(long got, long expected) {
        if (got != expected) {
            throw new IllegalStateException("expected " + expected + ", got " + got);
        }
        return got;
    }
}
