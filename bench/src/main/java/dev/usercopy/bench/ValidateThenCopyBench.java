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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.mm.Profile;
import dev.usercopy.mm.Prot;

/**
 * The seeds' central claim: copying with fault fixup beats validating first.
 * {@code faultFixup} copies {@code size} bytes of present guest memory into
 * a {@code byte[]} and lets a fault, if any, be fixed up. The baseline,
 * {@code validateThenCopy}, first walks the range under the machine's lock
 * as Redox did before usercopy and axptr's {@code check_region} does (the
 * grants for permission, then every page's entry, populating it), then
 * copies. {@code *2} runs the same with two threads on one machine, each
 * on its own address space, so the lock is shared. ns per copy.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class ValidateThenCopyBench {
    static final long PAGE = AddressSpace.PAGE;

    /** One machine for all threads: its lock is what validation contends on. */
    @State(Scope.Benchmark)
    public static class Machine {
        MemoryManager mm;

        @Setup
        public void setup() {
            mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(16384).withAddressSpaceSize(1L << 30)
                    .withProfile(Profile.PERFORMANCE));
        }

        @TearDown
        public void tearDown() {
            mm.close();
        }
    }

    /** Each thread's own address space with 1 MiB + a page written. */
    @State(Scope.Thread)
    public static class Space {
        @Param({"64", "4096", "65536", "1048576"})
        public int size;

        AddressSpace as;
        long buf;
        byte[] kernel;

        @Setup
        public void setup(Machine m) {
            as = m.mm.newAddressSpace();
            buf = as.mmap(0, (1 << 20) + PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.POPULATE);
            kernel = new byte[size];
        }
    }

    private static byte[] faultFixup(Space s) {
        if (s.as.copyFromUser(s.kernel, 0, s.buf + 8, s.size) != 0) {
            throw new IllegalStateException("short copy");
        }
        return s.kernel;
    }

    private static byte[] validateThenCopy(Space s) {
        if (!s.as.checkAccess(s.buf + 8, s.size, false)) {
            throw new IllegalStateException("not readable");
        }
        s.as.populate(s.buf + 8, s.size, false);
        return faultFixup(s);
    }

    @Benchmark
    @Threads(1)
    public byte[] faultFixup1(Space s) {
        return faultFixup(s);
    }

    @Benchmark
    @Threads(1)
    public byte[] validateThenCopy1(Space s) {
        return validateThenCopy(s);
    }

    @Benchmark
    @Threads(2)
    public byte[] faultFixup2(Space s) {
        return faultFixup(s);
    }

    @Benchmark
    @Threads(2)
    public byte[] validateThenCopy2(Space s) {
        return validateThenCopy(s);
    }
}
