package dev.usercopy.bench;

import dev.usercopy.platform.UserCopy;
import dev.usercopy.platform.libc_h;

import java.lang.foreign.Arena;
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
 * Copy throughput from guest ("user") memory into a native kernel buffer.
 *
 * <p>Only the from-user direction is measured: {@code copy_from_user} and
 * {@code copy_to_user} (and their {@code _flat} twins) are the same
 * instructions under two labels in native/usercopy.S, so to-user throughput
 * is from-user throughput with source and destination swapped.
 *
 * <p>The source is an anonymous mapping, every page written beforehand,
 * at {@code base + srcMisalign} (the base is page aligned). The destination
 * is an {@link Arena} buffer aligned to 64 bytes, at {@code + dstMisalign}.
 *
 * <p>The primary score is copies per second. Each benchmark also counts the
 * bytes it copied into the {@link Bytes} auxiliary counter, which JMH reports
 * as the secondary result {@code :bytes} in ops/s, that is bytes per second:
 * divide by 1e9 for GB/s. (Equivalently: GB/s = score * size / 1e9.)
 *
 * <p>Up to 256 KiB ({@link UserCopy#CRITICAL_CHUNK}) the usercopy calls are
 * critical downcalls (no thread-state transition); above it they are plain
 * downcalls. {@code memcpy} is a plain downcall at every size and
 * {@code memcpyCritical} a critical one, so the pair shows what the
 * transition costs; {@code segmentCopy} never leaves Java (HotSpot's
 * {@code Unsafe.copyMemory} stub).
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

    @Param({"8", "64", "512", "4096", "65536", "1048576", "16777216"})
    public int size;

    /** Offset of the source from a page boundary, 0..63. */
    @Param({"0", "1"})
    public int srcMisalign;

    /** Offset of the destination from a 64-byte boundary, 0..63. */
    @Param({"0", "1"})
    public int dstMisalign;

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
    /** Guest address of the first source byte. */
    private long src;
    /** The same source bytes as a segment, for the copies that take one. */
    private MemorySegment srcSegment;
    /** The kernel buffer the bytes land in. */
    private MemorySegment dst;

    @Setup(Level.Trial)
    public void setUp() {
        GuestMemory.checkMisalign("srcMisalign", srcMisalign);
        GuestMemory.checkMisalign("dstMisalign", dstMisalign);
        guest = GuestMemory.map((long) size + GuestMemory.MAX_MISALIGN + 1);
        src = guest.address(srcMisalign);
        srcSegment = guest.segment(srcMisalign, size);
        arena = Arena.ofShared();
        MemorySegment buffer = arena.allocate((long) size + GuestMemory.MAX_MISALIGN + 1, 64);
        buffer.fill((byte) 1);
        dst = buffer.asSlice(dstMisalign, size);

        // Every form must copy exactly these bytes before its speed means anything.
        dst.fill((byte) 0);
        GuestMemory.check("flat", UserCopy.copyFromUser(UserCopy.Form.FLAT, dst, src), srcSegment, dst);
        dst.fill((byte) 0);
        GuestMemory.check("aligned", UserCopy.copyFromUser(UserCopy.Form.ALIGNED, dst, src), srcSegment, dst);
        dst.fill((byte) 0);
        MemorySegment.copy(srcSegment, 0, dst, 0, size);
        GuestMemory.check("MemorySegment.copy", 0, srcSegment, dst);
        dst.fill((byte) 0);
        libc_h.memcpy(dst, srcSegment, size);
        GuestMemory.check("memcpy", 0, srcSegment, dst);
        dst.fill((byte) 0);
        libc_h.memcpy$critical(dst, srcSegment, size);
        GuestMemory.check("memcpy (critical)", 0, srcSegment, dst);
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
        return UserCopy.copyFromUser(UserCopy.Form.FLAT, dst, src);
    }

    /** The aligned form: {@code rep movsb} to an 8-aligned destination, {@code rep movsq}, {@code rep movsb} tail. */
    @Benchmark
    public long aligned(Bytes counter) {
        counter.bytes += size;
        return UserCopy.copyFromUser(UserCopy.Form.ALIGNED, dst, src);
    }

    /** Native to native {@link MemorySegment#copy}: no downcall, no fault fixup. */
    @Benchmark
    public MemorySegment segmentCopy(Bytes counter) {
        counter.bytes += size;
        MemorySegment.copy(srcSegment, 0, dst, 0, size);
        return dst;
    }

    /**
     * glibc {@code memcpy} through a plain downcall. Returns the address
     * rather than the segment {@code memcpy} returns, so that segment need not
     * be allocated (the usercopy methods return a plain long too).
     */
    @Benchmark
    public long memcpy(Bytes counter) {
        counter.bytes += size;
        return libc_h.memcpy(dst, srcSegment, size).address();
    }

    /** glibc {@code memcpy} through a critical downcall, as usercopy makes up to 256 KiB. */
    @Benchmark
    public long memcpyCritical(Bytes counter) {
        counter.bytes += size;
        return libc_h.memcpy$critical(dst, srcSegment, size).address();
    }
}
