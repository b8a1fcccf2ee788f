package dev.usercopy.mm;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.usercopy.platform.Errno;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Linux's {@code copy_from_user_nofault}, {@code copy_to_user_nofault} and
 * {@code strncpy_from_user_nofault} (mm/maccess.c) on a guest, in every
 * profile: they copy what the host maps now, resolve no fault, take no lock,
 * and return 0 or -EFAULT (the string copy: its length with the NUL).
 */
class NofaultCopyTest extends MmScenario {
    private static final long EFAULT = -Errno.EFAULT.number();

    private AddressSpace start(Profile profile) {
        machine(small().withProfile(profile).withFaultAround(1));
        return space();
    }

    /**
     * A present page followed by a lazy one: a copy of every length 0..40
     * from {@code k} bytes before the boundary succeeds exactly when it stays
     * on the present page; a failed read leaves the bytes before the boundary
     * copied and the rest of the kernel buffer as it was; the lazy page stays
     * lazy.
     */
    @ParameterizedTest
    @EnumSource(Profile.class)
    void aCopyReachingAPageThatIsNotPresentFailsAndLeavesItSo(Profile profile) {
        AddressSpace as = start(profile);
        long at = as.mmap(BASE, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        long boundary = at + PAGE;
        write(as, at, pattern((int) PAGE, 4));
        for (int k = 0; k <= 24; k++) {
            for (int n = 0; n <= 40; n++) {
                String what = n + " bytes from " + k + " before the lazy page";
                byte[] got = filled(n, 0x77);
                long r = as.copyFromUserNofault(got, 0, boundary - k, n);
                assertEquals(n <= k ? 0 : EFAULT, r, what);
                int copied = Math.min(n, k);
                assertArrayEquals(slice(pattern((int) PAGE, 4), (int) PAGE - k, copied), slice(got, 0, copied), what);
                assertArrayEquals(filled(n - copied, 0x77), slice(got, copied, n - copied), what + ": nothing past the boundary");
                assertEquals(n <= k ? 0 : EFAULT, as.copyToUserNofault(boundary - k, filled(n, 0x33), 0, n), what);
                assertEquals(AddressSpace.PageState.LAZY, as.pageState(boundary), what);
                write(as, at, pattern((int) PAGE, 4));
            }
        }
        // Made present by an ordinary copy, it is there for the nofault ones.
        read(as, boundary, 1);
        assertEquals(0, as.copyFromUserNofault(new byte[64], 0, boundary - 32, 64));
        check();
    }

    /** A write needs the page writable now: a zeroed frame, a copy-on-write page and a read-only grant all refuse it, unchanged. */
    @ParameterizedTest
    @EnumSource(Profile.class)
    void aWriteNeedsThePageWritableNowAndBreaksNoCopyOnWrite(Profile profile) {
        AddressSpace as = start(profile);
        long at = as.mmap(BASE, 3 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        read(as, at, 1); // a zeroed frame, mapped read-only
        assertEquals(AddressSpace.PageState.ZEROED, as.pageState(at));
        assertEquals(0, as.copyFromUserNofault(new byte[16], 0, at, 16));
        assertEquals(EFAULT, as.copyToUserNofault(at, filled(16, 1), 0, 16));
        assertEquals(AddressSpace.PageState.ZEROED, as.pageState(at));

        write(as, at + PAGE, filled(16, 5));
        AddressSpace child = fork(as);
        assertEquals(AddressSpace.PageState.COW_SHARED, as.pageState(at + PAGE));
        assertEquals(EFAULT, as.copyToUserNofault(at + PAGE, filled(16, 9), 0, 16));
        assertEquals(EFAULT, child.copyToUserNofault(at + PAGE, filled(16, 9), 0, 16));
        assertEquals(AddressSpace.PageState.COW_SHARED, as.pageState(at + PAGE));
        byte[] got = new byte[16];
        assertEquals(0, child.copyFromUserNofault(got, 0, at + PAGE, 16));
        assertArrayEquals(filled(16, 5), got);

        write(as, at + 2 * PAGE, filled(8, 6));
        as.mprotect(at + 2 * PAGE, PAGE, Prot.READ);
        assertEquals(EFAULT, as.copyToUserNofault(at + 2 * PAGE, filled(8, 9), 0, 8));
        assertBytes(filled(8, 6), as, at + 2 * PAGE);
        // Writable and present: written.
        write(as, at + PAGE, filled(1, 7)); // breaks the CoW in the parent
        assertEquals(0, as.copyToUserNofault(at + PAGE + 8, filled(8, 8), 0, 8));
        assertBytes(filled(8, 8), as, at + PAGE + 8);
        check();
    }

    /** The tracing paths run where the machine's lock may be held: with another thread holding it, every nofault copy still returns. */
    @ParameterizedTest
    @EnumSource(Profile.class)
    void noNofaultCopyWaitsForTheMachinesLock(Profile profile) throws InterruptedException {
        AddressSpace as = start(profile);
        long at = as.mmap(BASE, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        write(as, at, "present\0".getBytes(StandardCharsets.US_ASCII));
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().start(() -> {
            mm.lock.lock();
            try {
                held.countDown();
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                mm.lock.unlock();
            }
        });
        held.await();
        try {
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                byte[] b = new byte[8];
                assertEquals(0, as.copyFromUserNofault(b, 0, at, 8));
                assertEquals(EFAULT, as.copyFromUserNofault(b, 0, at + PAGE, 8), "lazy: a fault the copy may not resolve");
                assertEquals(0, as.copyToUserNofault(at + 8, b, 0, 8));
                assertEquals(EFAULT, as.copyToUserNofault(at + PAGE, b, 0, 8));
                assertEquals(8, as.strncpyFromUserNofault(new byte[16], 0, at, 16));
                assertEquals(EFAULT, as.strncpyFromUserNofault(new byte[16], 0, at + PAGE, 16));
            });
        } finally {
            release.countDown();
            holder.join();
        }
        assertNull(as.frameOf(at + PAGE), "still not present");
        check();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void strncpyNofaultCountsTheNulAndTerminatesWhatDoesNotFit(Profile profile) {
        AddressSpace as = start(profile);
        long at = as.mmap(BASE, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        write(as, at, "abcdef\0".getBytes(StandardCharsets.US_ASCII));
        byte[] b = filled(16, 0x55);
        assertEquals(7, as.strncpyFromUserNofault(b, 0, at, 16), "the length with the NUL");
        assertArrayEquals("abcdef\0".getBytes(StandardCharsets.US_ASCII), slice(b, 0, 7));
        assertEquals(7, as.strncpyFromUserNofault(b, 0, at, 7), "the NUL is the last byte that fits");
        b = filled(16, 0x55);
        assertEquals(4, as.strncpyFromUserNofault(b, 2, at, 4), "too long: count, the last byte made a NUL");
        assertArrayEquals(new byte[] {0x55, 0x55, 'a', 'b', 'c', 0, 0x55}, slice(b, 0, 7));
        assertEquals(1, as.strncpyFromUserNofault(b, 0, at + 6, 4), "the empty string is 1: its NUL counts (older kernels said 0)");
        assertEquals(0, as.strncpyFromUserNofault(b, 0, at, 0));
        // At the boundary with a page that is not present.
        long boundary = at + PAGE;
        for (int k = 0; k <= 12; k++) {
            write(as, boundary - k, filled(k, 'q'));
            for (int count = 1; count <= 16; count++) {
                long want = count <= k ? count : EFAULT;
                assertEquals(want, as.strncpyFromUserNofault(new byte[count], 0, boundary - k, count), k + " bytes before, count " + count);
            }
            if (k > 0) {
                writeByte(as, boundary - 1, 0);
                assertEquals(k, as.strncpyFromUserNofault(new byte[16], 0, boundary - k, 16), "NUL just before the boundary");
            }
        }
        assertEquals(AddressSpace.PageState.LAZY, as.pageState(boundary));
        // Running off the end of user space.
        long top = as.mmap(as.size() - PAGE, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        write(as, top, filled((int) PAGE, 'e'));
        assertEquals(EFAULT, as.strncpyFromUserNofault(new byte[32], 0, as.size() - 8, 32));
        assertEquals(8, as.strncpyFromUserNofault(new byte[8], 0, as.size() - 8, 8));
        check();
    }

    /** Linux refuses a range outside user space before copying; Ludicrous, which checks no range, copies modulo the size and faults in the guard. */
    @ParameterizedTest
    @EnumSource(Profile.class)
    void rangesOutsideUserSpace(Profile profile) {
        AddressSpace as = start(profile);
        long top = as.mmap(as.size() - PAGE, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        write(as, top, filled((int) PAGE, 1));
        assertEquals(EFAULT, as.copyToUserNofault(as.size() - 8, filled(16, 2), 0, 16));
        assertEquals(EFAULT, as.copyFromUserNofault(new byte[16], 0, as.size() - 8, 16));
        if (profile.checksAccess()) {
            assertBytes(filled(8, 1), as, as.size() - 8);
            assertEquals(EFAULT, as.copyFromUserNofault(new byte[8], 0, top + as.size(), 8));
            assertEquals(EFAULT, as.copyFromUserNofault(new byte[8], 0, -8, 8));
        } else {
            assertBytes(filled(8, 2), as, as.size() - 8); // the bytes before the guard region
            assertEquals(0, as.copyFromUserNofault(new byte[8], 0, top + as.size(), 8), "address modulo the size");
        }
        assertEquals(0, as.copyFromUserNofault(new byte[0], 0, as.size() + 5, 0), "nothing to copy");
        check();
    }
}
