package dev.usercopy.bench;

import java.lang.foreign.MemorySegment;
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
import dev.usercopy.platform.PhysicalMemory;
import dev.usercopy.platform.Posix;
import dev.usercopy.platform.Reservation;
import dev.usercopy.platform.UserCopy;
import dev.usercopy.uaccess.UserSlice;

/**
 * What each layer above the raw copy costs, the four side by side in one run:
 * a copy of {@code size} bytes between a {@code byte[]} and present guest
 * memory, in {@code direction}.
 *
 * <ul>
 * <li>{@code raw}: {@link UserCopy} at a host address (an anonymous mapping,
 *     written beforehand): the routine and its critical downcall, nothing else.
 * <li>{@code reservation}: {@link Reservation}'s copy at a guest address
 *     (a memfd frame mapped into it): the range check and what keeps
 *     {@code close()} safe against copies in flight.
 * <li>{@code addressSpace}: {@link AddressSpace#copyFromUser} /
 *     {@link AddressSpace#copyToUser}: {@code access_ok} and the resumable
 *     loop that resolves faults (none here: the pages are populated).
 * <li>{@code userSlice}: {@code UserSlice.ro(..).copyToSlice} /
 *     {@code UserSlice.wo(..).copyFromSlice}, a slice made per copy as a
 *     syscall does. With {@code -prof gc}, {@code gc.alloc.rate.norm} says
 *     whether anything escapes (the target is 0 bytes per copy).
 * </ul>
 *
 * Every guest side starts 8 bytes into a page, so the copies never cross
 * into an unmapped page and every one is the same distance from its buffer.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Thread)
public class GuestCopyBench {
    static final long PAGE = AddressSpace.PAGE;
    static final long OFFSET = 8;

    public enum Direction { FROM_USER, TO_USER }

    @Param({"64", "512", "4096"})
    public int size;

    @Param({"FROM_USER", "TO_USER"})
    public Direction direction;

    GuestMemory host;
    long hostAddress;
    PhysicalMemory frames;
    Reservation reservation;
    MemoryManager mm;
    AddressSpace as;
    long guest;
    byte[] kernel;

    @Setup
    public void setup() {
        kernel = new byte[size];
        for (int i = 0; i < size; i++) {
            kernel[i] = (byte) (i * 7 + 1);
        }
        host = GuestMemory.map(2 * PAGE);
        hostAddress = host.address(OFFSET);
        frames = PhysicalMemory.create(16);
        reservation = Reservation.reserve(16 * PAGE);
        reservation.map(0, frames, 0, 2, Posix.PROT_READ | Posix.PROT_WRITE, true);
        mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(4096).withAddressSpaceSize(1L << 30));
        as = mm.newAddressSpace();
        guest = as.mmap(0, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.POPULATE) + OFFSET;
        // Each path moves the bytes it says it moves.
        byte[] back = new byte[size];
        check("raw", UserCopy.copyToUser(hostAddress, kernel, 0, size), UserCopy.copyFromUser(back, 0, hostAddress, size), back);
        check("reservation", reservation.copyToUser(OFFSET, MemorySegment.ofArray(kernel)),
                reservation.rawCopyFromUser(MemorySegment.ofArray(back = new byte[size]), OFFSET), back);
        check("address space", as.copyToUser(guest, kernel, 0, size), as.copyFromUser(back = new byte[size], 0, guest, size), back);
        UserSlice.wo(as, guest, size).copyFromSlice(kernel);
        UserSlice.ro(as, guest, size).copyToSlice(back = new byte[size]);
        check("slice", 0, 0, back);
    }

    private void check(String what, long leftTo, long leftFrom, byte[] back) {
        if (leftTo != 0 || leftFrom != 0 || !java.util.Arrays.equals(kernel, back)) {
            throw new IllegalStateException(what + ": the round trip lost bytes (" + leftTo + ", " + leftFrom + " not copied)");
        }
    }

    @TearDown
    public void tearDown() {
        mm.close();
        reservation.close();
        frames.close();
        host.close();
    }

    @Benchmark
    public long raw() {
        return direction == Direction.FROM_USER
                ? UserCopy.copyFromUser(kernel, 0, hostAddress, size)
                : UserCopy.copyToUser(hostAddress, kernel, 0, size);
    }

    @Benchmark
    public long reservation() {
        return direction == Direction.FROM_USER
                ? reservation.rawCopyFromUser(MemorySegment.ofArray(kernel), OFFSET)
                : reservation.copyToUser(OFFSET, MemorySegment.ofArray(kernel));
    }

    @Benchmark
    public long addressSpace() {
        return direction == Direction.FROM_USER
                ? as.copyFromUser(kernel, 0, guest, size)
                : as.copyToUser(guest, kernel, 0, size);
    }

    @Benchmark
    public byte[] userSlice() {
        if (direction == Direction.FROM_USER) {
            UserSlice.ro(as, guest, size).copyToSlice(kernel);
        } else {
            UserSlice.wo(as, guest, size).copyFromSlice(kernel);
        }
        return kernel;
    }
}
