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

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.HostMapping;
import dev.usercopy.platform.Posix;

/**
 * fork with {@code touchedMiB} of private memory written, then the child's
 * end. {@code guest}: a guest address space's fork and the child's close, in
 * each {@link MemoryManager.ForkMode}. {@code host}: this JVM's own fork(2)
 * whose child exits at once, reaped by the parent, with {@code touchedMiB} of
 * anonymous host memory written; the difference between its 1024 and 0 rows
 * is what the host kernel's fork pays for 1 GiB.
 *
 * <p>Steady state: after the first fork the parent's pages stay
 * write-protected until written, on the host as in the guest.
 * Milliseconds per fork.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx1g"})
public class ForkBench {
    static final long MIB = 1 << 20;

    @Param({"0", "1024"})
    public int touchedMiB;

    @Param({"SHARED_TABLES", "COPY_PAGES"})
    public MemoryManager.ForkMode mode;

    private MemoryManager mm;
    private AddressSpace space;
    private HostMapping hostMemory;

    @Setup
    public void setup() {
        long bytes = touchedMiB * MIB;
        mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(bytes / AddressSpace.PAGE + 4096)
                .withAddressSpaceSize(Math.max(bytes, MIB) + (1L << 30)).withForkMode(mode));
        space = mm.newAddressSpace();
        if (bytes > 0) {
            long a = space.mmap(0, bytes, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
            byte[] chunk = new byte[(int) MIB];
            java.util.Arrays.fill(chunk, (byte) 7);
            for (long off = 0; off < bytes; off += MIB) {
                space.copyToUser(a + off, chunk, 0, chunk.length);
            }
            hostMemory = HostMapping.anonymous(bytes);
            hostMemory.segment().fill((byte) 7);
        }
    }

    @TearDown
    public void tearDown() {
        mm.close();
        if (hostMemory != null) {
            hostMemory.close();
        }
    }

    @Benchmark
    public void guest() {
        space.fork().close();
    }

    @Benchmark
    public void host() {
        Posix.forkAndReap();
    }
}
