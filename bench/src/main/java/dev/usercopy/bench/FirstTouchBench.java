package dev.usercopy.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.HostMapping;

/**
 * First-touch demand paging: map 16 MiB, write one byte in every page, unmap.
 * {@code guest} does it in a guest address space through usercopy (each
 * write that meets a lazy page faults, is resolved and resumes; fault-around
 * maps {@code faultAround} pages at a time); {@code host} does the same to a
 * fresh anonymous host mapping, the host kernel's own first touch. Scores
 * are nanoseconds per page; pages per second is 1e9 over it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class FirstTouchBench {
    static final int PAGES = 4096;
    static final long PAGE = AddressSpace.PAGE;

    @Param({"1", "16"})
    public int faultAround;

    private MemoryManager mm;
    private AddressSpace space;
    private final byte[] one = {1};

    @Setup
    public void setup() {
        mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(4 * PAGES).withFaultAround(faultAround)
                .withAddressSpaceSize(1L << 30));
        space = mm.newAddressSpace();
    }

    @TearDown
    public void tearDown() {
        mm.close();
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public void guest() {
        long a = space.mmap(0, PAGES * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        for (int i = 0; i < PAGES; i++) {
            if (space.copyToUser(a + i * PAGE, one, 0, 1) != 0) {
                throw new AssertionError("first touch of page " + i + " failed");
            }
        }
        space.munmap(a, PAGES * PAGE);
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public void host() {
        try (HostMapping m = HostMapping.anonymous(PAGES * PAGE)) {
            MemorySegment s = m.segment();
            for (int i = 0; i < PAGES; i++) {
                s.set(ValueLayout.JAVA_BYTE, i * PAGE, (byte) 1);
            }
        }
    }
}
