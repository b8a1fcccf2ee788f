package dev.usercopy.bench;

import dev.usercopy.platform.UserCopy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
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
 * The cost of a small (8..64 byte) copy between a {@code byte[]} and guest
 * memory: the per-call overhead a syscall argument or a small struct pays.
 *
 * <ul>
 * <li>{@code fromUser<Form>}, {@code toUser<Form>} for the flat, aligned and
 *     adaptive forms: {@link UserCopy} with a {@code byte[]}, one critical
 *     downcall that reads or writes the array in place.</li>
 * <li>{@code segmentToHeap}, {@code segmentFromHeap}: {@link MemorySegment#copy}
 *     between the guest bytes and the array; no downcall and no fault
 *     protection: the floor a fallible copy is held against.</li>
 * <li>{@code bounceFromUser}, {@code bounceToUser}: what a copy costs without
 *     critical calls: a plain downcall of the adaptive routine into (or out
 *     of) a native bounce buffer, plus a {@link MemorySegment#copy} between
 *     that buffer and the array.</li>
 * <li>{@code criticalNative}, {@code plainNative}: the adaptive routine from
 *     guest memory into a native buffer through the bindings directly, as a
 *     critical and as a plain downcall: the call overhead alone, without
 *     {@link UserCopy}'s checks.</li>
 * </ul>
 *
 * <p>Guest bytes start on a page boundary; the array copies start at index 0.
 * Scores are nanoseconds per copy.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// Forks need native access for the downcalls, and JMH itself calls sun.misc.Unsafe
// (objectFieldOffset), which JDK 25 warns about unless allowed.
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class SmallHeapCopyBench {

    @Param({"8", "16", "32", "64"})
    public int size;

    private GuestMemory guest;
    private Arena arena;
    /** Guest address of the bytes. */
    private long user;
    /** The same guest bytes as a segment. */
    private MemorySegment userSegment;
    private MemorySegment bounce;
    private byte[] heap;

    @Setup(Level.Trial)
    public void setUp() {
        guest = GuestMemory.map(size);
        user = guest.address(0);
        userSegment = guest.segment(0, size);
        // Confined: a shared arena makes every downcall that takes one of its segments acquire and
        // release the arena with atomic operations, tens of ns that would swamp a small copy.
        arena = Arena.ofConfined();
        bounce = arena.allocate(size, 64);
        heap = new byte[size];

        MemorySegment heapSegment = MemorySegment.ofArray(heap);
        MemorySegment expected = MemorySegment.ofArray(userSegment.toArray(ValueLayout.JAVA_BYTE));
        for (UserCopy.Form form : UserCopy.Form.values()) {
            Arrays.fill(heap, (byte) 0);
            GuestMemory.check("from user " + form, UserCopy.copyFromUser(form, heap, 0, user, size), expected, heapSegment);
            userSegment.fill((byte) 0);
            GuestMemory.check("to user " + form, UserCopy.copyToUser(form, user, heap, 0, size), expected, userSegment);
        }
        Arrays.fill(heap, (byte) 0);
        segmentToHeap();
        GuestMemory.check("segment to heap", 0, expected, heapSegment);
        userSegment.fill((byte) 0);
        segmentFromHeap();
        GuestMemory.check("segment from heap", 0, expected, userSegment);
        Arrays.fill(heap, (byte) 0);
        GuestMemory.check("bounce from user", bounceFromUser(), expected, heapSegment);
        bounce.fill((byte) 0);
        GuestMemory.check("critical native", criticalNative(), expected, bounce);
        bounce.fill((byte) 0);
        GuestMemory.check("plain native", plainNative(), expected, bounce);
        userSegment.fill((byte) 0);
        GuestMemory.check("bounce to user", bounceToUser(), expected, userSegment);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        guest.close();
    }

    @Benchmark
    public long fromUserFlat() {
        return UserCopy.copyFromUser(UserCopy.Form.FLAT, heap, 0, user, size);
    }

    @Benchmark
    public long fromUserAligned() {
        return UserCopy.copyFromUser(UserCopy.Form.ALIGNED, heap, 0, user, size);
    }

    @Benchmark
    public long fromUserAdaptive() {
        return UserCopy.copyFromUser(UserCopy.Form.ADAPTIVE, heap, 0, user, size);
    }

    @Benchmark
    public long toUserFlat() {
        return UserCopy.copyToUser(UserCopy.Form.FLAT, user, heap, 0, size);
    }

    @Benchmark
    public long toUserAligned() {
        return UserCopy.copyToUser(UserCopy.Form.ALIGNED, user, heap, 0, size);
    }

    @Benchmark
    public long toUserAdaptive() {
        return UserCopy.copyToUser(UserCopy.Form.ADAPTIVE, user, heap, 0, size);
    }

    /** Guest bytes into the array with {@link MemorySegment#copy}: no downcall, no fault protection. */
    @Benchmark
    public byte[] segmentToHeap() {
        MemorySegment.copy(userSegment, ValueLayout.JAVA_BYTE, 0, heap, 0, size);
        return heap;
    }

    /** The array into guest memory with {@link MemorySegment#copy}. */
    @Benchmark
    public MemorySegment segmentFromHeap() {
        MemorySegment.copy(heap, 0, userSegment, ValueLayout.JAVA_BYTE, 0, size);
        return userSegment;
    }

    /** A plain (non-critical) downcall into a native bounce buffer, then into the array. */
    @Benchmark
    public long bounceFromUser() {
        long left = UserCopy.Form.ADAPTIVE.downcallFromUser(false, bounce, user);
        MemorySegment.copy(bounce, ValueLayout.JAVA_BYTE, 0, heap, 0, size);
        return left;
    }

    /** The array into a native bounce buffer, then a plain downcall out to guest memory. */
    @Benchmark
    public long bounceToUser() {
        MemorySegment.copy(heap, 0, bounce, ValueLayout.JAVA_BYTE, 0, size);
        return UserCopy.Form.ADAPTIVE.downcallToUser(false, user, bounce);
    }

    /** The adaptive routine into a native buffer as a critical downcall, no UserCopy in between. */
    @Benchmark
    public long criticalNative() {
        return UserCopy.Form.ADAPTIVE.downcallFromUser(true, bounce, user);
    }

    /** The same as a plain downcall: the difference is the thread-state transition. */
    @Benchmark
    public long plainNative() {
        return UserCopy.Form.ADAPTIVE.downcallFromUser(false, bounce, user);
    }
}
