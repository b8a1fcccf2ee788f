package dev.usercopy.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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

import dev.usercopy.cli.bench.CowBreakWorkload;
import dev.usercopy.mm.MemoryManager;

/**
 * The copy-on-write break ({@link CowBreakWorkload}): a child forked before
 * each invocation writes one byte in each of 1024 pages it shares with its
 * parent. {@code firstTouch} is the baseline in the same run: the same
 * writes into fresh lazy pages, fault-around 1 on both sides. Nanoseconds
 * per page. {@code ./usercopy bench --quick} times the same workload calls.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class CowBreakBench {
    @Param({"SHARED_TABLES", "COPY_PAGES"})
    public MemoryManager.ForkMode mode;

    CowBreakWorkload workload;

    @Setup
    public void setup() {
        workload = new CowBreakWorkload(new CowBreakWorkload.Params(mode));
    }

    @Setup(Level.Invocation)
    public void forkChild() {
        workload.forkChild();
    }

    @TearDown(Level.Invocation)
    public void closeChild() {
        workload.closeChild();
    }

    @TearDown
    public void tearDown() {
        workload.close();
    }

    @Benchmark
    @OperationsPerInvocation(CowBreakWorkload.PAGES)
    public long cowBreak() {
        return workload.cowBreak();
    }

    @Benchmark
    @OperationsPerInvocation(CowBreakWorkload.PAGES)
    public long firstTouch() {
        return workload.firstTouch();
    }
}
