package dev.usercopy.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import dev.usercopy.cli.bench.ForkWorkload;
import dev.usercopy.mm.MemoryManager;

/**
 * fork with {@code touchedMiB} of private memory written, then the child's
 * end ({@link ForkWorkload}): {@code guest} in each
 * {@link MemoryManager.ForkMode}, {@code host} this JVM's own fork(2); the
 * difference between the host's 1024 and 0 rows is what the host kernel's
 * fork pays for 1 GiB. Milliseconds per fork. {@code ./usercopy bench
 * --quick} times the same workload calls.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx1g"})
public class ForkBench {
    @Param({"0", "1024"})
    public int touchedMiB;

    @Param({"SHARED_TABLES", "COPY_PAGES"})
    public MemoryManager.ForkMode mode;

    ForkWorkload workload;

    @Setup
    public void setup() {
        workload = new ForkWorkload(new ForkWorkload.Params(touchedMiB, mode));
    }

    @TearDown
    public void tearDown() {
        workload.close();
    }

    @Benchmark
    public long guest() {
        return workload.guest();
    }

    @Benchmark
    public long host() {
        return workload.host();
    }
}
