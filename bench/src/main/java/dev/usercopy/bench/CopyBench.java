package dev.usercopy.bench;

import dev.usercopy.cli.bench.CopyWorkload;
import dev.usercopy.platform.UserCopy;
import dev.usercopy.platform.Posix;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Copy throughput between guest ("user") memory and a kernel buffer, in both
 * directions, with the kernel buffer native or a {@code byte[]}
 * ({@link CopyWorkload}, which {@code ./usercopy bench --quick} times too).
 *
 * <p>Guest memory is an anonymous mapping, every page written beforehand;
 * the kernel buffer is page aligned too (native: an arena segment;
 * heap: a {@code byte[]} whose data is 16 bytes into its object, so the
 * offsets below count from there). {@code srcMisalign} and
 * {@code dstMisalign} are the offsets of the copy's source and destination
 * from those bases: guest and kernel for {@code FROM_USER}, kernel and guest
 * for {@code TO_USER}. With both bases page aligned, the destination is
 * {@code dstMisalign - srcMisalign} bytes ahead of the source modulo 4 KiB,
 * which is what decides {@code rep movsb}'s speed on Zen 4 (1..63 bytes
 * ahead is its slow case).
 *
 * <p>The primary score is copies per second. Each benchmark also counts the
 * bytes it copied into the {@link Bytes} auxiliary counter, which JMH reports
 * as the secondary result {@code :bytes} in ops/s, that is bytes per second:
 * divide by 1e9 for GB/s. (Equivalently: GB/s = score * size / 1e9.)
 *
 * <p>Up to 256 KiB ({@link UserCopy#CRITICAL_CHUNK}) the usercopy calls are
 * critical downcalls (no thread-state transition); above it they are plain
 * downcalls from a native buffer and 256 KiB critical pieces from the heap.
 * {@code memcpy} is a plain downcall at every size (a critical one on a heap
 * buffer, the only kind that takes one) and {@code memcpyCritical} a critical
 * one, so the pair shows what the transition costs; {@code segmentCopy} never
 * leaves Java (HotSpot's {@code Unsafe.copyMemory} stub).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// Forks need native access for the downcalls, and JMH itself calls sun.misc.Unsafe
// (objectFieldOffset), which JDK 25 warns about unless allowed.
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class CopyBench {

    @Param({"8", "64", "512", "4096", "16384", "65536", "1048576", "16777216"})
    public int size;

    /** Offset of the copy's source from its page-aligned base, 0..63. */
    @Param({"0", "1"})
    public int srcMisalign;

    /** Offset of the copy's destination from its page-aligned base, 0..63. */
    @Param({"0", "1"})
    public int dstMisalign;

    @Param({"FROM_USER", "TO_USER"})
    public CopyWorkload.Direction direction;

    @Param({"NATIVE", "HEAP"})
    public CopyWorkload.Kernel kernel;

    /** Bytes copied; JMH divides by the measured time, giving bytes per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        public long bytes;

        @Setup(Level.Iteration)
        public void reset() {
            bytes = 0;
        }
    }

    CopyWorkload workload;
    private MemorySegment src;
    private MemorySegment dst;

    @Setup(Level.Trial)
    public void setUp() {
        // The workload checks every form and MemorySegment.copy; memcpy is checked here.
        workload = new CopyWorkload(new CopyWorkload.Params(size, srcMisalign, dstMisalign, direction, kernel));
        src = workload.src();
        dst = workload.dst();
        workload.clearDestination();
        memcpy(new Bytes());
        workload.check("memcpy", 0);
        workload.clearDestination();
        memcpyCritical(new Bytes());
        workload.check("memcpy (critical)", 0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        workload.close();
    }

    /** The flat form: one {@code rep movsb}. */
    @Benchmark
    public long flat(Bytes counter) {
        counter.bytes += size;
        return workload.flat();
    }

    /** The aligned form: {@code rep movsb} to an 8-aligned destination, {@code rep movsq}, {@code rep movsb} tail. */
    @Benchmark
    public long aligned(Bytes counter) {
        counter.bytes += size;
        return workload.aligned();
    }

    /** The adaptive form: movs, an AVX2 loop or {@code rep movsb} by size and CPU. */
    @Benchmark
    public long adaptive(Bytes counter) {
        counter.bytes += size;
        return workload.adaptive();
    }

    /** {@link MemorySegment#copy}: no downcall, no fault fixup. */
    @Benchmark
    public long segmentCopy(Bytes counter) {
        counter.bytes += size;
        return workload.segmentCopy();
    }

    /**
     * glibc {@code memcpy} through a plain downcall (a critical one on a heap
     * buffer). Returns the address rather than the segment {@code memcpy}
     * returns, so that segment need not be allocated.
     */
    @Benchmark
    public long memcpy(Bytes counter) {
        counter.bytes += size;
        return kernel == CopyWorkload.Kernel.HEAP
                ? Posix.memcpyCritical(dst, src, size)
                : Posix.memcpy(dst, src, size);
    }

    /** glibc {@code memcpy} through a critical downcall, as usercopy makes up to 256 KiB. */
    @Benchmark
    public long memcpyCritical(Bytes counter) {
        counter.bytes += size;
        return Posix.memcpyCritical(dst, src, size);
    }
}
