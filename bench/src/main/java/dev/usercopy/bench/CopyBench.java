package dev.usercopy.bench;

import dev.usercopy.platform.Posix;
import dev.usercopy.platform.UserCopy;
import dev.usercopy.platform.Posix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * directions, with the kernel buffer native or a {@code byte[]}.
 *
 * <p>Guest memory is an anonymous mapping, every page written beforehand;
 * the kernel buffer is page aligned too (native: an {@link Arena} segment;
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
    public Direction direction;

    @Param({"NATIVE", "HEAP"})
    public Kernel kernel;

    public enum Direction { FROM_USER, TO_USER }

    public enum Kernel { NATIVE, HEAP }

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

    private GuestMemory guest;
    private Arena arena;
    /** Guest address of the copy's guest end. */
    private long user;
    /** The kernel end of the copy. */
    private MemorySegment kernelSide;
    private MemorySegment src;
    private MemorySegment dst;

    @Setup(Level.Trial)
    public void setUp() {
        GuestMemory.checkMisalign("srcMisalign", srcMisalign);
        GuestMemory.checkMisalign("dstMisalign", dstMisalign);
        long span = (long) size + GuestMemory.MAX_MISALIGN + 1;
        guest = GuestMemory.map(span);
        // Confined: a shared arena makes every downcall that takes one of its segments acquire and
        // release the arena with atomic operations, tens of ns that would swamp a small copy.
        arena = Arena.ofConfined();
        MemorySegment buffer = kernel == Kernel.NATIVE
                ? arena.allocate(span, Posix.PAGE_SIZE)
                : MemorySegment.ofArray(new byte[Math.toIntExact(span)]);
        buffer.fill((byte) 1);
        boolean fromUser = direction == Direction.FROM_USER;
        int guestOffset = fromUser ? srcMisalign : dstMisalign;
        int kernelOffset = fromUser ? dstMisalign : srcMisalign;
        user = guest.address(guestOffset);
        kernelSide = buffer.asSlice(kernelOffset, size);
        MemorySegment userSegment = guest.segment(guestOffset, size);
        src = fromUser ? userSegment : kernelSide;
        dst = fromUser ? kernelSide : userSegment;

        // Every form must copy exactly these bytes before its speed means anything.
        MemorySegment expected = MemorySegment.ofArray(src.toArray(ValueLayout.JAVA_BYTE));
        for (UserCopy.Form form : UserCopy.Form.values()) {
            dst.fill((byte) 0);
            GuestMemory.check(form.toString(), usercopy(form), expected, dst);
        }
        dst.fill((byte) 0);
        MemorySegment.copy(src, 0, dst, 0, size);
        GuestMemory.check("MemorySegment.copy", 0, expected, dst);
        dst.fill((byte) 0);
        memcpy(new Bytes());
        GuestMemory.check("memcpy", 0, expected, dst);
        dst.fill((byte) 0);
        memcpyCritical(new Bytes());
        GuestMemory.check("memcpy (critical)", 0, expected, dst);
    }

    private long usercopy(UserCopy.Form form) {
        return direction == Direction.FROM_USER
                ? UserCopy.copyFromUser(form, kernelSide, user)
                : UserCopy.copyToUser(form, user, kernelSide);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        guest.close();
    }

    /** The flat form: one {@code rep movsb}. */
    @Benchmark
    public long flat(Bytes counter) {
        counter.bytes += size;
        return usercopy(UserCopy.Form.FLAT);
    }

    /** The aligned form: {@code rep movsb} to an 8-aligned destination, {@code rep movsq}, {@code rep movsb} tail. */
    @Benchmark
    public long aligned(Bytes counter) {
        counter.bytes += size;
        return usercopy(UserCopy.Form.ALIGNED);
    }

    /** The adaptive form: movs, an AVX2 loop or {@code rep movsb} by size and CPU. */
    @Benchmark
    public long adaptive(Bytes counter) {
        counter.bytes += size;
        return usercopy(UserCopy.Form.ADAPTIVE);
    }

    /** {@link MemorySegment#copy}: no downcall, no fault fixup. */
    @Benchmark
    public MemorySegment segmentCopy(Bytes counter) {
        counter.bytes += size;
        MemorySegment.copy(src, 0, dst, 0, size);
        return dst;
    }

    /**
     * glibc {@code memcpy} through a plain downcall (a critical one on a heap
     * buffer). Returns the address rather than the segment {@code memcpy}
     * returns, so that segment need not be allocated.
     */
    @Benchmark
    public long memcpy(Bytes counter) {
        counter.bytes += size;
        return kernel == Kernel.HEAP
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
