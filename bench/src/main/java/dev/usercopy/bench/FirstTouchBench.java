package dev.usercopy.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import dev.usercopy.cli.bench.FirstTouchWorkload;

/**
 * First-touch demand paging against the host's first touch
 * ({@link FirstTouchWorkload}: map 16 MiB, write a byte in every page,
 * unmap). Scores are nanoseconds per page; pages per second is 1e9 over it.
 * {@code ./usercopy bench --quick} times the same workload calls.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class FirstTouchBench {
    @Param({"1", "16"})
    public int faultAround;

    FirstTouchWorkload workload;

    @Setup
    public void setup() {
        workload = new FirstTouchWorkload(new FirstTouchWorkload.Params(faultAround));
    }

    @TearDown
    public void tearDown() {
        workload.close();
    }

    @Benchmark
    @OperationsPerInvocation(FirstTouchWorkload.PAGES)
    public long guest() {
        return workload.guest();
    }

    @Benchmark
    @OperationsPerInvocation(FirstTouchWorkload.PAGES)
    public long host() {
        return workload.host();
    }
}
