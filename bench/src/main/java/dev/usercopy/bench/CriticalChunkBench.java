package dev.usercopy.bench;

import dev.usercopy.platform.UserCopy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

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
 * How long one critical downcall of {@link UserCopy#CRITICAL_CHUNK} bytes
 * (256 KiB) runs, copying between a {@code byte[]} and guest memory. A
 * critical call keeps its thread in Java state, so this is how long it can
 * hold off a safepoint (and so a GC pause) for every other thread.
 *
 * <p>{@code fromUser} copies guest {@code base + srcMisalign} into
 * {@code array[dstMisalign..]}; {@code toUser} copies
 * {@code array[srcMisalign..]} to guest {@code base + dstMisalign}. The guest
 * base is page aligned; array data starts 8-byte aligned (objects are 8-byte
 * aligned and a {@code byte[]}'s data sits 16 bytes in), so the array's
 * misalignment counts from an 8-byte boundary. Scores are microseconds per
 * call.
 *
 * <p>{@code chunks} is how many distinct 256 KiB pieces of guest memory and
 * of the array the calls cycle through. With 1 both sides of every copy stay
 * in the L2 cache: the best case. With 256 (64 MiB each side, more than any
 * L3 here) each copy reads and writes memory it has not touched for a while:
 * closer to the worst case a safepoint waits for.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// Forks need native access for the downcalls, and JMH itself calls sun.misc.Unsafe
// (objectFieldOffset), which JDK 25 warns about unless allowed.
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class CriticalChunkBench {

    private static final int CHUNK = UserCopy.CRITICAL_CHUNK;

    @Param({"FLAT", "ALIGNED", "ADAPTIVE"})
    public UserCopy.Form form;

    /** Offset of the source: from the page boundary (fromUser) or from the chunk's array index (toUser). */
    @Param({"0", "1", "8"})
    public int srcMisalign;

    /** Offset of the destination: from the chunk's array index (fromUser) or from the page boundary (toUser). */
    @Param({"0", "1"})
    public int dstMisalign;

    /** Distinct 256 KiB chunks cycled through: 1 is cache-hot, 256 (64 MiB) misses the caches. */
    @Param({"1", "256"})
    public int chunks;

    private GuestMemory guest;
    private byte[] array;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        GuestMemory.checkMisalign("srcMisalign", srcMisalign);
        GuestMemory.checkMisalign("dstMisalign", dstMisalign);
        if (chunks < 1 || chunks > 4096) {
            throw new IllegalArgumentException("chunks must be in 1..4096, not " + chunks);
        }
        long span = (long) chunks * CHUNK + GuestMemory.MAX_MISALIGN + 1;
        guest = GuestMemory.map(span);
        array = new byte[Math.toIntExact(span)];

        // Check every chunk position once, both directions.
        MemorySegment arraySegment = MemorySegment.ofArray(array);
        for (int k = 0; k < chunks; k++) {
            long at = (long) k * CHUNK;
            MemorySegment expected = MemorySegment.ofArray(
                    guest.segment(at + srcMisalign, CHUNK).toArray(ValueLayout.JAVA_BYTE));
            next = k;
            GuestMemory.check("from user, chunk " + k, fromUser(), expected,
                    arraySegment.asSlice(at + dstMisalign, CHUNK));
            // toUser reads array[at + srcMisalign..]: put the expected bytes there, clear the guest side.
            MemorySegment.copy(expected, 0, arraySegment, at + srcMisalign, CHUNK);
            MemorySegment to = guest.segment(at + dstMisalign, CHUNK);
            to.fill((byte) 0);
            next = k;
            GuestMemory.check("to user, chunk " + k, toUser(), expected, to);
        }
        next = 0;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        guest.close();
    }

    /** Byte offset of the chunk this call uses; cycles through all of them. */
    private long nextChunk() {
        int i = next;
        next = i + 1 == chunks ? 0 : i + 1;
        return (long) i * CHUNK;
    }

    @Benchmark
    public long fromUser() {
        long at = nextChunk();
        return UserCopy.copyFromUser(form, array, (int) at + dstMisalign, guest.address(at + srcMisalign), CHUNK);
    }

    @Benchmark
    public long toUser() {
        long at = nextChunk();
        return UserCopy.copyToUser(form, guest.address(at + dstMisalign), array, (int) at + srcMisalign, CHUNK);
    }
}
