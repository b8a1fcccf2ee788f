package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Field;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Once a reservation is closed, nothing reaches its old range again, however often close is called. */
class ReservationCloseTest {

    @Test
    void repeatedClosesNeverLetACopyIntoTheGivenBackRange() throws Exception {
        Reservation r = Reservation.reserve(4096);
        Field f = Reservation.class.getDeclaredField("base");
        f.setAccessible(true);
        long base = (long) f.get(r);
        r.close();
        // The host hands the range out again (as it may to the JVM): a writable page at the old base.
        long got = Posix.mmap(base, 4096, Posix.PROT_READ | Posix.PROT_WRITE,
                Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS | Posix.MAP_FIXED_NOREPLACE, -1, 0);
        try {
            MemorySegment reused = Posix.segment(got, 4096);
            MemorySegment one = Arena.ofAuto().allocate(1).fill((byte) 0x55);
            Thread closer = new Thread(() -> {
                for (int i = 0; i < 2_000_000; i++) {
                    r.close();
                }
            });
            closer.start();
            long through = 0;
            while (closer.isAlive()) {
                if (r.copyToUser(0, one) == 0) {
                    through++;
                }
            }
            closer.join();
            assertEquals(0, through, "copies that went through a closed reservation");
            assertEquals(0, reused.get(ValueLayout.JAVA_BYTE, 0), "the reused page was written");
            assertThrows(IllegalStateException.class, () -> r.unmap(0, 4096), "a closed reservation maps nothing");
        } finally {
            Posix.munmap(got, 4096);
        }
    }
}
