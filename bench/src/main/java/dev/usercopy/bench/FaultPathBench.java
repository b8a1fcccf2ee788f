package dev.usercopy.bench;

import dev.usercopy.platform.HostMapping;
import dev.usercopy.platform.UserCopy;
import dev.usercopy.platform.Posix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 * One EFAULT round trip: a copy from guest memory that runs into a
 * {@code PROT_NONE} page after {@code before} bytes (so at byte 0 or at byte
 * n of the copy), against the same copy of the {@code before} readable bytes
 * without a fault, in the same run. The difference is what a fault costs:
 * the CPU's trap, the host kernel's signal delivery, usercopy's handler, the
 * fixup and {@code rt_sigreturn}.
 *
 * <p>Scores are nanoseconds per copy; every faulting copy is checked to
 * return exactly {@code 64} bytes not copied.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class FaultPathBench {
    /** Bytes the faulting copy asks for past the readable ones. */
    static final int PAST = 64;

    /** Readable bytes before the PROT_NONE page: the fault comes at byte 0, or after this many. */
    @Param({"0", "64", "4096"})
    public int before;

    @Param({"FLAT", "ADAPTIVE"})
    public UserCopy.Form form;

    private HostMapping mapping;
    private Arena arena;
    private MemorySegment all;
    private MemorySegment readable;
    private long start;

    @Setup(Level.Trial)
    public void setUp() {
        long page = dev.usercopy.platform.Posix.PAGE_SIZE;
        mapping = HostMapping.anonymous(3 * page);
        mapping.segment().fill((byte) 7);
        mapping.protect(2 * page, page, Posix.PROT_NONE);
        start = mapping.address() + 2 * page - before;
        // Confined: a shared arena makes every downcall that takes one of its segments acquire and
        // release the arena with atomic operations, tens of ns that would swamp a small copy.
        arena = Arena.ofConfined();
        all = arena.allocate(before + PAST, 64);
        readable = all.asSlice(0, before);
        if (faulting() != PAST) {
            throw new IllegalStateException("a copy " + before + " bytes before the boundary did not stop there");
        }
        if (readable() != 0) {
            throw new IllegalStateException("the readable bytes did not copy");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        mapping.close();
    }

    /** Copies {@code before + 64} bytes; the first {@code before} arrive, the rest fault. */
    @Benchmark
    public long faulting() {
        return UserCopy.copyFromUser(form, all, start);
    }

    /** The baseline: the {@code before} readable bytes, no fault. */
    @Benchmark
    public long readable() {
        return UserCopy.copyFromUser(form, readable, start);
    }
}
