package dev.usercopy.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import dev.usercopy.mm.Profile;
import dev.usercopy.mm.Prot;
import dev.usercopy.uaccess.UserConstPtr;
import dev.usercopy.uaccess.UserSlice;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * What each safety profile costs, the three side by side in one run.
 *
 * <p>{@code fileDemandPaging}: ns per page for the first read of each page
 * of a 4 MiB file mapped MAP_PRIVATE with fault-around 16 (the file lives
 * in the OS page cache, so this is our paging path, not the disk).
 * Fortress reads each page into a kernel buffer and copies it into the
 * frame; the others read straight into the frame.
 *
 * <p>{@code sliceRead} / {@code sliceWrite}: a syscall-sized
 * {@code UserSlice} copy of {@code size} bytes between a {@code byte[]} and
 * present guest memory. Fortress and Performance check {@code access_ok};
 * Ludicrous does not. {@code ptrGet}: a {@code UserConstPtr} read of one
 * long, which in the checked profiles also walks the grants and populates.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class ProfileBench {
    static final long PAGE = AddressSpace.PAGE;
    static final int FILE_PAGES = 1024;

    /** A machine of the profile with one address space. */
    @State(Scope.Thread)
    public static class Machine {
        @Param({"FORTRESS", "PERFORMANCE", "LUDICROUS"})
        public Profile profile;

        MemoryManager mm;
        AddressSpace as;

        @Setup
        public void setup() {
            mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(4 * FILE_PAGES + 4096).withAddressSpaceSize(1L << 30)
                    .withProfile(profile));
            as = mm.newAddressSpace();
        }

        @TearDown
        public void tearDown() {
            mm.close();
        }
    }

    /** A 4 MiB file, mapped afresh for every invocation. */
    @State(Scope.Thread)
    public static class MappedFile {
        Path file;
        long mapped;
        AddressSpace as;

        @Setup
        public void setup(Machine m) throws IOException {
            as = m.as;
            file = Files.createTempFile("usercopy-profile", ".bin");
            byte[] content = new byte[(int) (FILE_PAGES * PAGE)];
            for (int i = 0; i < content.length; i++) {
                content[i] = (byte) (i * 31 + 7);
            }
            Files.write(file, content);
        }

        @Setup(Level.Invocation)
        public void map() {
            mapped = as.mmapFile(0, FILE_PAGES * PAGE, Prot.READ, MapFlags.PRIVATE, file, 0);
        }

        @TearDown(Level.Invocation)
        public void unmap() {
            as.munmap(mapped, FILE_PAGES * PAGE);
        }

        @TearDown
        public void tearDown() throws IOException {
            Files.deleteIfExists(file);
        }
    }

    /** Present guest memory and a kernel buffer of {@code size} bytes. */
    @State(Scope.Thread)
    public static class Buffer {
        @Param({"64", "512", "4096"})
        public int size;

        AddressSpace as;
        long buf;
        byte[] kernel;

        @Setup
        public void setup(Machine m) {
            as = m.as;
            buf = as.mmap(0, 4 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.POPULATE);
            kernel = new byte[size];
        }
    }

    @Benchmark
    @OperationsPerInvocation(FILE_PAGES)
    public long fileDemandPaging(MappedFile f) {
        long sum = 0;
        for (int i = 0; i < FILE_PAGES; i++) {
            sum += UserSlice.ro(f.as, f.mapped + i * PAGE, 1).readU8();
        }
        return sum;
    }

    @Benchmark
    public byte[] sliceRead(Buffer b) {
        UserSlice.ro(b.as, b.buf + 8, b.size).copyToSlice(b.kernel);
        return b.kernel;
    }

    @Benchmark
    public void sliceWrite(Buffer b) {
        UserSlice.wo(b.as, b.buf + 8, b.size).copyFromSlice(b.kernel);
    }

    @Benchmark
    public long ptrGet(Buffer b) {
        return UserConstPtr.of(b.as, b.buf + 8, JAVA_LONG).getLong();
    }
}
