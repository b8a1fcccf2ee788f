package dev.usercopy.mm;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Linux's {@code strnlen_user} (lib/strnlen_user.c) on a guest, in every
 * profile: the length with the NUL, 0 on a fault, on {@code count <= 0} and
 * for a string that runs to the end of user space, {@code count + 1} when
 * no NUL lies within {@code count}.
 */
class StrnlenUserTest extends MmScenario {
    /** What the next page after the string's page is. */
    enum Next { UNMAPPED, PROT_NONE, LAZY_ZEROS, WRITTEN }

    /**
     * Every string length 0..12 ending {@code k} bytes before a page
     * boundary (k 0..16), every count -1..20, each kind of next page: the
     * result is what Linux's rule gives for the bytes the guest could read.
     */
    @ParameterizedTest
    @EnumSource(Profile.class)
    void everyLengthCountAndDistanceFromTheNextPageGivesLinuxsAnswer(Profile profile) {
        machine(small().withProfile(profile));
        AddressSpace as = space();
        long page = as.mmap(BASE, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        long next = page + PAGE;
        for (Next kind : Next.values()) {
            switch (kind) {
                case UNMAPPED -> { }
                case PROT_NONE -> as.mmap(next, PAGE, Prot.NONE, MapFlags.PRIVATE | MapFlags.FIXED);
                case LAZY_ZEROS -> as.mmap(next, PAGE, Prot.READ, MapFlags.PRIVATE | MapFlags.FIXED);
                case WRITTEN -> {
                    as.mmap(next, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
                    write(as, next, filled((int) PAGE, 'y'));
                }
            }
            for (int k = 0; k <= 16; k++) {
                long start = next - k;
                for (int len = 0; len <= 12; len++) {
                    // len non-NUL bytes then a NUL, as far as they fit in the first page.
                    byte[] onPage = filled(k, 'x');
                    if (len < k) {
                        onPage[len] = 0;
                    }
                    write(as, start, onPage);
                    for (long count = -1; count <= 20; count++) {
                        long want = linux(kind, k, len, count);
                        assertEquals(want, as.strnlenUser(start, count),
                                kind + ": string of " + len + " bytes, " + k + " bytes before the next page, count " + count);
                    }
                }
            }
            if (kind != Next.UNMAPPED) {
                as.munmap(next, PAGE);
            }
        }
        check();
    }

    /** The rule, byte by byte: what the guest can read at each offset decides. */
    private static long linux(Next kind, int k, int len, long count) {
        if (count <= 0) {
            return 0;
        }
        for (int i = 0; i < count; i++) {
            if (i >= k) { // on the next page
                return switch (kind) {
                    case UNMAPPED, PROT_NONE -> 0;
                    case LAZY_ZEROS -> i + 1;
                    case WRITTEN -> count + 1; // all 'y'
                };
            }
            if (i == len) {
                return i + 1;
            }
        }
        return count + 1;
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aStringRunningToTheEndOfUserSpaceIsZeroButOneEndingThereIsNot(Profile profile) {
        machine(small().withProfile(profile));
        AddressSpace as = space();
        long top = as.mmap(as.size() - PAGE, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        write(as, top, filled((int) PAGE, 'z'));
        long start = as.size() - 10;
        assertEquals(0, as.strnlenUser(start, 100), "no NUL before the end of user space");
        assertEquals(0, as.strnlenUser(start, 11), "one byte past the end is needed");
        assertEquals(11, as.strnlenUser(start, 10), "the count ends exactly at the end: too long, not a fault");
        assertEquals(6, as.strnlenUser(start, 5));
        assertEquals(0, as.strnlenUser(start, Long.MAX_VALUE));
        writeByte(as, as.size() - 1, 0);
        assertEquals(10, as.strnlenUser(start, 100), "the NUL is the last byte of user space");
        assertEquals(10, as.strnlenUser(start, Long.MAX_VALUE));
        assertEquals(1, as.strnlenUser(as.size() - 1, 1));
        check();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void addressesOutsideUserSpaceAndCountsBelowOneAreZero(Profile profile) {
        machine(small().withProfile(profile));
        AddressSpace as = space();
        long at = as.mmap(BASE, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        write(as, at, "hello\0".getBytes(StandardCharsets.US_ASCII));
        assertEquals(6, as.strnlenUser(at, 4096));
        assertEquals(0, as.strnlenUser(at, 0));
        assertEquals(0, as.strnlenUser(at, -5));
        assertEquals(0, as.strnlenUser(at, Long.MIN_VALUE));
        assertEquals(0, as.strnlenUser(-1, 10));
        assertEquals(0, as.strnlenUser(-1, 1L << 20));
        assertEquals(0, as.strnlenUser(-PAGE - 1, Long.MAX_VALUE));
        assertEquals(0, as.strnlenUser(Long.MIN_VALUE, 10));
        assertEquals(0, as.strnlenUser(as.size(), 10));
        assertEquals(0, as.strnlenUser(at + as.size(), 10), "Ludicrous too: strnlen takes strncpy's checked path");
        assertEquals(0, as.strnlenUser(Long.MAX_VALUE, Long.MAX_VALUE));
        assertEquals(0, as.strnlenUser(0, 10), "null");
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void lazyPagesAreFaultedInAndLongStringsCrossManyPages(Profile profile) {
        machine(small().withProfile(profile).withFaultAround(1));
        AddressSpace as = space();
        long at = as.mmap(0, 8 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        assertEquals(1, as.strnlenUser(at + 3 * PAGE + 5, 10), "a lazy page reads as zeros");
        assertEquals(AddressSpace.PageState.ZEROED, as.pageState(at + 3 * PAGE));
        write(as, at + 100, filled((int) (5 * PAGE), 'a'));
        assertEquals(5 * PAGE + 1, as.strnlenUser(at + 100, 1L << 40));
        assertEquals(5 * PAGE + 1, as.strnlenUser(at + 100, 5 * PAGE + 1));
        assertEquals(5 * PAGE + 1, as.strnlenUser(at + 100, 5 * PAGE), "count + 1: too long");
        as.mprotect(at + 4 * PAGE, PAGE, Prot.NONE);
        assertEquals(0, as.strnlenUser(at + 100, 1L << 40), "runs into a PROT_NONE page");
        assertEquals(4 * PAGE - 100 + 1, as.strnlenUser(at + 100, 4 * PAGE - 100), "stops just before it");
        check();
    }
}
