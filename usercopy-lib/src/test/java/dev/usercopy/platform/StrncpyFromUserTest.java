package dev.usercopy.platform;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.usercopy.platform.GuardedRegion.Guard;
import dev.usercopy.uapi.Errno;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** strncpy_from_user with Linux's semantics, right up against an inaccessible page. */
class StrncpyFromUserTest {
    private static final long EFAULT = -Errno.EFAULT.number();
    private static final byte CANARY = (byte) 0xA5;

    /** Writes {@code k} non-NUL bytes ending at the boundary and returns their address. */
    private static long nonNulTail(GuardedRegion r, int k) {
        MemorySegment g = r.accessible();
        for (int i = 0; i < k; i++) {
            g.set(JAVA_BYTE, g.byteSize() - k + i, (byte) ('a' + i % 26));
        }
        return r.boundary() - k;
    }

    @ParameterizedTest
    @EnumSource(Guard.class)
    void aNulBeforeTheFaultEndsTheStringAndIsCopied(Guard guard) {
        try (GuardedRegion r = GuardedRegion.create(1, guard)) {
            for (int k = 1; k <= 64; k++) {
                for (int nulAt = 0; nulAt < k; nulAt++) {
                    long src = nonNulTail(r, k);
                    r.accessible().set(JAVA_BYTE, r.accessible().byteSize() - k + nulAt, (byte) 0);
                    byte[] dst = new byte[200];
                    Arrays.fill(dst, CANARY);
                    String where = guard + " k=" + k + " nulAt=" + nulAt;
                    assertEquals(nulAt, UserCopy.strncpyFromUser(dst, 0, src, 100), where);
                    assertEquals(0, dst[nulAt], where + ": the NUL is copied");
                    for (int i = 0; i < nulAt; i++) {
                        assertEquals((byte) ('a' + i % 26), dst[i], where);
                    }
                    assertEquals(CANARY, dst[nulAt + 1], where + ": nothing after the NUL is written");
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Guard.class)
    void aNulAsTheLastByteOfThePageIsFound(Guard guard) {
        try (GuardedRegion r = GuardedRegion.create(1, guard)) {
            for (int len = 0; len < 64; len++) {
                long src = nonNulTail(r, len + 1);
                r.accessible().set(JAVA_BYTE, r.accessible().byteSize() - 1, (byte) 0);
                byte[] dst = new byte[128];
                assertEquals(len, UserCopy.strncpyFromUser(dst, 0, src, 128), guard + " len=" + len);
                assertEquals(0, dst[len]);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Guard.class)
    void noNulBeforeTheFaultIsEfault(Guard guard) {
        try (GuardedRegion r = GuardedRegion.create(1, guard)) {
            for (int k = 0; k <= 64; k++) {
                long src = nonNulTail(r, k);
                byte[] dst = new byte[128];
                assertEquals(EFAULT, UserCopy.strncpyFromUser(dst, 0, src, k + 1), guard + " k=" + k);
                assertEquals(EFAULT, UserCopy.strncpyFromUser(dst, 0, src, 128), guard + " k=" + k);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Guard.class)
    void reachingCountReturnsCountWithoutReadingFurther(Guard guard) {
        try (GuardedRegion r = GuardedRegion.create(1, guard)) {
            for (int k = 0; k <= 64; k++) {
                long src = nonNulTail(r, k);
                for (int count = 0; count <= k; count++) {
                    byte[] dst = new byte[k + 8];
                    Arrays.fill(dst, CANARY);
                    assertEquals(count, UserCopy.strncpyFromUser(dst, 0, src, count), guard + " k=" + k + " count=" + count);
                    if (count < dst.length) {
                        assertEquals(CANARY, dst[count], "no NUL is added when count is reached");
                    }
                }
            }
        }
    }

    @Test
    void countPastTheCriticalChunkStillFindsTheNul() {
        int pages = (UserCopy.CRITICAL_CHUNK / (int) GuardedRegion.PAGE) + 2;
        try (GuardedRegion r = GuardedRegion.create(pages, Guard.SEGV)) {
            MemorySegment g = r.accessible();
            g.fill((byte) 'x');
            int nulAt = UserCopy.CRITICAL_CHUNK + 5;
            g.set(JAVA_BYTE, nulAt, (byte) 0);
            byte[] dst = new byte[(int) g.byteSize() + 100];
            assertEquals(nulAt, UserCopy.strncpyFromUser(dst, 0, r.base(), dst.length));
            byte[] want = new byte[nulAt];
            Arrays.fill(want, (byte) 'x');
            assertArrayEquals(want, Arrays.copyOf(dst, nulAt));
            g.set(JAVA_BYTE, nulAt, (byte) 'x');
            assertEquals(EFAULT, UserCopy.strncpyFromUser(dst, 0, r.base(), dst.length), "no NUL before the guard");
        }
    }
}
