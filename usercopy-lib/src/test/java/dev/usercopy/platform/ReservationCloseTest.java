package dev.usercopy.platform;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Once a reservation is closed, no copy reaches its frames again, however
 * often close is called; its range stays reserved while anything can still
 * copy through it, and goes back to the host once nothing can.
 */
class ReservationCloseTest {

    private static long base(Reservation r) throws ReflectiveOperationException {
        Field f = Reservation.class.getDeclaredField("base");
        f.setAccessible(true);
        return (long) f.get(r);
    }

    @Test
    void repeatedClosesNeverLetACopyReachTheFramesAndKeepTheRangeFromTheHost() throws Exception {
        try (PhysicalMemory memory = PhysicalMemory.create(1)) {
            Reservation r = Reservation.reserve(4096);
            r.map(0, memory, 0, 1, Posix.PROT_READ | Posix.PROT_WRITE, true);
            long base = base(r);
            MemorySegment one = Arena.ofAuto().allocate(1).fill((byte) 0x55);
            Thread closer = new Thread(() -> {
                for (int i = 0; i < 2_000_000; i++) {
                    r.close();
                }
            });
            closer.start();
            while (closer.isAlive()) {
                r.copyToUser(0, one); // before the first close returns, some go through
            }
            closer.join();
            byte[] frame = new byte[4096];
            memory.frame(0).read(0, frame, 0, 4096);
            frame[0] = 0;
            assertArrayEquals(new byte[4096], frame, "only guest byte 0 was ever written");
            memory.frame(0).write(0, new byte[1], 0, 1);
            assertEquals(1, r.copyToUser(0, one), "a copy through a closed reservation copies nothing");
            memory.frame(0).read(0, frame, 0, 1);
            assertEquals(0, frame[0], "the frame was written after close");
            // The range is still reserved: the host cannot hand it out while the reservation is reachable.
            NativeCallException e = assertThrows(NativeCallException.class, () -> Posix.mmap(base, 4096,
                    Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS | Posix.MAP_FIXED_NOREPLACE, -1, 0));
            assertEquals(Errno.EEXIST.number(), e.errno());
            assertThrows(IllegalStateException.class, () -> r.unmap(0, 4096), "a closed reservation maps nothing");
        }
    }

    @Test
    void aClosedRangeGoesBackToTheHostOnceTheReservationIsUnreachable() throws Exception {
        long size = 1L << 30;
        long base = closedAndDropped(size);
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (reserved(base, size + Reservation.GUARD)) {
            assertTrue(System.nanoTime() < deadline, "the closed range at 0x" + Long.toHexString(base) + " was never given back");
            System.gc();
            Thread.sleep(10);
            Reservation.reserve(4096).close(); // reserve gives back what became unreachable
        }
    }

    private static long closedAndDropped(long size) throws ReflectiveOperationException {
        Reservation r = Reservation.reserve(size);
        long base = base(r);
        r.close();
        return base;
    }

    /** Whether one host mapping still spans all of [base, base + length). */
    private static boolean reserved(long base, long length) throws IOException {
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.anyMatch(line -> {
                int dash = line.indexOf('-');
                long lo = Long.parseUnsignedLong(line.substring(0, dash), 16);
                long hi = Long.parseUnsignedLong(line.substring(dash + 1, line.indexOf(' ')), 16);
                return lo <= base && hi >= base + length;
            });
        }
    }
}
