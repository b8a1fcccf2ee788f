package dev.usercopy.bench;

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

import dev.usercopy.cli.bench.FaultPathWorkload;
import dev.usercopy.platform.UserCopy;

/**
 * One EFAULT round trip ({@link FaultPathWorkload}): a copy that runs into a
 * {@code PROT_NONE} page after {@code before} bytes, against the same copy of
 * the {@code before} readable bytes without a fault, in the same run. The
 * difference is what a fault costs: the CPU's trap, the host kernel's signal
 * delivery, usercopy's handler, the fixup and {@code rt_sigreturn}.
 * Nanoseconds per copy. {@code ./usercopy bench --quick} times the same
 * workload calls.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class FaultPathBench {
    /** Readable bytes before the PROT_NONE page: the fault comes at byte 0, or after this many. */
    @Param({"0", "64", "4096"})
    public int before;

    @Param({"FLAT", "ADAPTIVE"})
    public UserCopy.Form form;

    FaultPathWorkload workload;

    @Setup(Level.Trial)
    public void setUp() {
        workload = new FaultPathWorkload(new FaultPathWorkload.Params(before, form));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        workload.close();
    }

    /** Copies {@code before + 64} bytes; the first {@code before} arrive, the rest fault. */
    @Benchmark
    public long faulting() {
        return workload.faulting();
    }

    /** The baseline: the {@code before} readable bytes, no fault. */
    @Benchmark
    public long readable() {
        return workload.readable();
    }
}
