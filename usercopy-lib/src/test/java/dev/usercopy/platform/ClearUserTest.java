package dev.usercopy.platform;

import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.usercopy.platform.GuardedRegion.Guard;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** clear_user zeroes up to the first inaccessible byte and reports the rest. */
class ClearUserTest {
    private static final byte CANARY = (byte) 0xA5;

    @ParameterizedTest
    @EnumSource(Guard.class)
    void clearStopsExactlyAtTheFirstInaccessibleByte(Guard guard) {
        try (GuardedRegion r = GuardedRegion.create(3, guard)) {
            MemorySegment g = r.accessible();
            long size = g.byteSize();
            for (int k = 0; k <= 64; k++) {
                for (int len : new int[] {k + 1, k + 7, k + 8, k + 9, k + 64, (int) size}) {
                    if (len < k + 1) {
                        continue;
                    }
                    g.fill(CANARY);
                    String where = guard + " k=" + k + " len=" + len;
                    assertEquals(len - k, UserCopy.clearUser(r.boundary() - k, len), where);
                    for (long i = 0; i < size; i++) {
                        assertEquals(i >= size - k ? 0 : CANARY, g.get(JAVA_BYTE, i), where + " at " + i);
                    }
                }
            }
        }
    }

    @Test
    void clearWithoutAFaultZeroesExactlyTheRange() {
        try (GuardedRegion r = GuardedRegion.create(2, Guard.SEGV)) {
            MemorySegment g = r.accessible();
            for (int off = 0; off < 16; off++) {
                for (int len = 0; len <= 100; len++) {
                    g.fill(CANARY);
                    assertEquals(0, UserCopy.clearUser(r.base() + off, len));
                    for (int i = 0; i < off + len + 16; i++) {
                        assertEquals(i >= off && i < off + len ? 0 : CANARY, g.get(JAVA_BYTE, i), "off=" + off + " len=" + len + " at " + i);
                    }
                }
            }
        }
    }

    @Test
    void clearLongerThanTheCriticalChunkTakesThePlainCall() {
        int pages = UserCopy.CRITICAL_CHUNK / (int) GuardedRegion.PAGE + 3;
        try (GuardedRegion r = GuardedRegion.create(pages, Guard.BUS)) {
            MemorySegment g = r.accessible();
            g.fill(CANARY);
            long len = g.byteSize() + 1000;
            assertEquals(1000, UserCopy.clearUser(r.base(), len));
            assertEquals(-1, g.asByteBuffer().mismatch(MemorySegment.ofArray(new byte[(int) g.byteSize()]).asByteBuffer()));
        }
    }
}
