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

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.mm.Prot;

/**
 * The copy-on-write break: a forked child writes one byte in each of 1024
 * pages it shares with its parent, so each write faults, copies the frame and
 * maps the copy. {@code firstTouch} is the baseline in the same run: the same
 * writes into fresh lazy pages (allocate, no copy). Nanoseconds per page.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class CowBreakBench {
    static final int PAGES = 1024;
    static final long PAGE = AddressSpace.PAGE;

    @Param({"SHARED_TABLES", "COPY_PAGES"})
    public MemoryManager.ForkMode mode;

    private MemoryManager mm;
    private AddressSpace parent;
    private AddressSpace child;
    private AddressSpace scratch;
    private long base;
    private final byte[] one = {1};

    @Setup
    public void setup() {
        mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(4 * PAGES + 4096).withFaultAround(1)
                .withAddressSpaceSize(1L << 30).withForkMode(mode));
        parent = mm.newAddressSpace();
        base = parent.mmap(0, PAGES * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        parent.clearUser(base, PAGES * PAGE);
        scratch = mm.newAddressSpace();
    }

    @Setup(Level.Invocation)
    public void forkChild() {
        child = parent.fork();
    }

    @TearDown(Level.Invocation)
    public void closeChild() {
        child.close();
    }

    @TearDown
    public void tearDown() {
        mm.close();
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public void cowBreak() {
        for (int i = 0; i < PAGES; i++) {
            child.copyToUser(base + i * PAGE, one, 0, 1);
        }
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public void firstTouch() {
        long a = scratch.mmap(0, PAGES * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        for (int i = 0; i < PAGES; i++) {
            scratch.copyToUser(a + i * PAGE, one, 0, 1);
        }
        scratch.munmap(a, PAGES * PAGE);
    }
}
