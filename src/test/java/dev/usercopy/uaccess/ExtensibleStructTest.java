package dev.usercopy.uaccess;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MmScenario;
import dev.usercopy.mm.Profile;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.Errno;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The extensible-struct ABI ({@code copy_struct_from_user},
 * {@code check_zeroed_user}) on {@link UserSlice} and {@link UserConstPtr},
 * in every profile, held against Linux's rules (include/linux/uaccess.h,
 * lib/usercopy.c) byte by byte at a page boundary. {@link
 * ExtensibleStructOracleTest} holds the same against the host kernel's
 * openat2.
 */
class ExtensibleStructTest extends MmScenario {
    /** What follows the page the struct starts on. */
    enum Next { UNMAPPED, PROT_NONE, LAZY_ZEROS, NON_ZERO }

    private AddressSpace as;
    private long page;

    private void start(Profile profile) {
        machine(small().withProfile(profile));
        as = space();
        page = as.mmap(BASE, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
    }

    private void next(Next kind) {
        long next = page + PAGE;
        switch (kind) {
            case UNMAPPED -> { }
            case PROT_NONE -> as.mmap(next, PAGE, Prot.NONE, MapFlags.PRIVATE | MapFlags.FIXED);
            case LAZY_ZEROS -> as.mmap(next, PAGE, Prot.READ, MapFlags.PRIVATE | MapFlags.FIXED);
            case NON_ZERO -> {
                as.mmap(next, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
                write(as, next, filled((int) PAGE, 0x11));
            }
        }
    }

    /** Linux's outcome for a guest struct {@code k} bytes before the next page with byte {@code p} (or none) non-zero there. */
    record Case(Next kind, int k, int ksize, int usize, int p) {
        boolean readable(int i) {
            return i < k || kind == Next.LAZY_ZEROS || kind == Next.NON_ZERO;
        }

        /** On the first page: data in the common bytes, zero after them, 0x5a at p; then the next page's bytes. */
        int byteAt(int i) {
            if (i >= k) {
                return kind == Next.NON_ZERO ? 0x11 : 0;
            }
            return i == p ? 0x5a : i < ksize ? i + 1 : 0;
        }

        /** OK, E2BIG or EFAULT, in the order of copy_struct_from_user: the extra bytes, then the common ones. */
        String outcome() {
            for (int i = ksize; i < usize; i++) {
                if (!readable(i)) {
                    return "EFAULT";
                }
                if (byteAt(i) != 0) {
                    return "E2BIG";
                }
            }
            for (int i = 0; i < Math.min(ksize, usize); i++) {
                if (!readable(i)) {
                    return "EFAULT";
                }
            }
            return "OK";
        }

        /** check_zeroed_user over the whole guest struct: 1, 0 or EFAULT. */
        String zeroed() {
            for (int i = 0; i < usize; i++) {
                if (!readable(i)) {
                    return "EFAULT";
                }
                if (byteAt(i) != 0) {
                    return "0";
                }
            }
            return "1";
        }

        @Override
        public String toString() {
            return kind + ": guest struct of " + usize + " bytes " + k + " before the next page, kernel's " + ksize
                    + (p < 0 ? "" : ", byte " + p + " non-zero");
        }
    }

    /** Bytes before the next page, and guest sizes: either side of each word and of the kernel sizes. */
    private static final int[] STARTS = {0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 40};
    private static final int[] SIZES = {0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 40, 48};

    /**
     * Starts 0..40 bytes before the next page, kernel sizes 0, 8, 24,
     * guest sizes 0..48, a non-zero byte at each interesting place or none,
     * each kind of next page: outcome, kernel buffer, done and the
     * check_zeroed answer are Linux's.
     */
    @ParameterizedTest
    @EnumSource(Profile.class)
    void everyStartSizeAndNonZeroByteNearAPageBoundaryGivesLinuxsOutcome(Profile profile) {
        start(profile);
        long boundary = page + PAGE;
        int cases = 0;
        for (Next kind : Next.values()) {
            next(kind);
            for (int k : STARTS) {
                long src = boundary - k;
                for (int ksize : new int[] {0, 8, 24}) {
                    for (int usize : SIZES) {
                        Set<Integer> ps = new LinkedHashSet<>(Arrays.asList(-1, 0, ksize - 1, ksize, ksize + 1, usize - 1, k - 1));
                        for (int p : ps) {
                            if (p < -1 || (p >= 0 && (p >= usize || p >= k))) {
                                continue;
                            }
                            Case c = new Case(kind, k, ksize, usize, p);
                            byte[] onPage = new byte[k];
                            for (int i = 0; i < k; i++) {
                                onPage[i] = (byte) c.byteAt(i);
                            }
                            write(as, src, onPage);
                            checkSlice(c, src);
                            if (ksize > 0) {
                                checkPointer(c, src);
                            }
                            cases++;
                        }
                    }
                }
            }
            if (kind != Next.UNMAPPED) {
                as.munmap(boundary, PAGE);
            }
        }
        assertTrue(cases > 3_000, cases + " cases");
        check();
    }

    private void checkSlice(Case c, long src) {
        byte[] dst = filled(c.ksize(), 0x55);
        String got;
        ErrnoException error = null;
        try {
            UserSlice.ro(as, src, c.usize()).copyStructToSlice(dst);
            got = "OK";
        } catch (ErrnoException e) {
            got = e.errno().name();
            error = e;
        }
        assertEquals(c.outcome(), got, c.toString());
        int size = Math.min(c.ksize(), c.usize());
        byte[] want = filled(c.ksize(), 0x55);
        switch (got) {
            case "OK" -> {
                Arrays.fill(want, (byte) 0);
                for (int i = 0; i < size; i++) {
                    want[i] = (byte) c.byteAt(i);
                }
            }
            case "EFAULT" -> {
                assertEquals(src, error.address(), c.toString());
                assertEquals(c.usize(), error.length(), c.toString());
                if (c.usize() <= c.ksize()) { // the common bytes faulted: copied up to the fault, zeros after
                    Arrays.fill(want, (byte) 0);
                    for (int i = 0; i < size && c.readable(i); i++) {
                        want[i] = (byte) c.byteAt(i);
                    }
                    assertEquals(Math.min(size, c.k()), error.done(), c.toString());
                }
            }
            default -> { } // E2BIG: untouched
        }
        assertArrayEquals(want, dst, c + ": the kernel's struct after " + got);
        String zeroed;
        try {
            zeroed = UserSlice.ro(as, src, c.usize()).checkZeroed() ? "1" : "0";
        } catch (ErrnoException e) {
            zeroed = e.errno().name();
        }
        assertEquals(c.zeroed(), zeroed, "check_zeroed_user: " + c);
    }

    private void checkPointer(Case c, long src) {
        UserConstPtr ptr = UserConstPtr.of(as, src, MemoryLayout.sequenceLayout(c.ksize(), ValueLayout.JAVA_BYTE));
        String got;
        MemorySegment out = null;
        try {
            out = ptr.getStruct(c.usize());
            got = "OK";
        } catch (ErrnoException e) {
            got = e.errno().name();
        }
        assertEquals(c.outcome(), got, "UserConstPtr: " + c);
        if (out != null) {
            for (int i = 0; i < c.ksize(); i++) {
                assertEquals(i < c.usize() ? c.byteAt(i) : 0, out.get(ValueLayout.JAVA_BYTE, i), "UserConstPtr: " + c + ", byte " + i);
            }
        }
        String zeroed;
        try {
            zeroed = ptr.checkZeroed(c.usize()) ? "1" : "0";
        } catch (ErrnoException e) {
            zeroed = e.errno().name();
        }
        assertEquals(c.zeroed(), zeroed, "UserConstPtr check_zeroed_user: " + c);
    }

    /** Linux checks the extra bytes first and stops at the first non-zero one: a page it cannot read after that byte does not turn E2BIG into EFAULT. */
    @ParameterizedTest
    @EnumSource(Profile.class)
    void aNonZeroExtraByteBeforeAnUnreadablePageIsE2bigAndOneAfterItIsEfault(Profile profile) {
        start(profile);
        long src = page + PAGE - 40; // the guest's struct: 40 bytes here, 60 on the unmapped page
        writeByte(as, src + 39, 1);
        ErrnoException e = assertErrno(Errno.E2BIG, () -> UserSlice.ro(as, src, 100).copyStructToSlice(new byte[24]));
        assertTrue(e.getMessage().contains("0x" + Long.toHexString(src + 39)), e.getMessage());
        assertErrno(Errno.E2BIG, () -> UserConstPtr.of(as, src, OPEN_HOW).getStruct(100));
        assertFalse(UserSlice.ro(as, src, 100).checkZeroed());
        writeByte(as, src + 39, 0);
        e = assertErrno(Errno.EFAULT, () -> UserSlice.ro(as, src, 100).copyStructToSlice(new byte[24]));
        assertEquals(src, e.address());
        assertEquals(100, e.length());
        assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, src, OPEN_HOW).getStruct(100));
        e = assertErrno(Errno.EFAULT, () -> UserSlice.ro(as, src, 100).checkZeroed());
        assertEquals(40, e.done(), "the zero bytes before the fault");
        // A non-zero byte in the common part is data, not an error.
        writeByte(as, src + 3, 9);
        byte[] dst = new byte[24];
        UserSlice.ro(as, src, 40).copyStructToSlice(dst);
        assertEquals(9, dst[3]);
        check();
    }

    /** open_how of openat2: three u64, and a layout that takes any address (Linux copies the struct byte by byte). */
    static final StructLayout OPEN_HOW = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG_UNALIGNED.withName("flags"), ValueLayout.JAVA_LONG_UNALIGNED.withName("mode"),
            ValueLayout.JAVA_LONG_UNALIGNED.withName("resolve"));

    @ParameterizedTest
    @EnumSource(Profile.class)
    void theVersionsOfAStructGoBothWays(Profile profile) {
        start(profile);
        long lazy = as.mmap(0, 4 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        UserPtr how = UserPtr.of(as, lazy + PAGE - 8, OPEN_HOW);
        how.field("flags").setLong(0x80000); // straddles two lazy pages, faulted in by the writes
        how.field("mode").setLong(0644);
        how.field("resolve").setLong(0x08);
        // The same size: verbatim.
        MemorySegment k = how.asConst().getStruct(24);
        assertEquals(0x80000, k.get(JAVA_LONG, 0));
        assertEquals(0x08, k.get(JAVA_LONG, 16));
        // An older guest (16 bytes): resolve is zero, whatever is after it in guest memory.
        k = how.asConst().getStruct(16);
        assertEquals(0644, k.get(JAVA_LONG, 8));
        assertEquals(0, k.get(JAVA_LONG, 16));
        // A newer guest (40 bytes) whose new fields are zero (lazy pages read as zeros): accepted.
        k = how.asConst().getStruct(40);
        assertEquals(0x08, k.get(JAVA_LONG, 16));
        assertTrue(UserSlice.ro(as, how.address() + 24, 16).checkZeroed());
        // ... and one that sets a new field: E2BIG, the kernel does not know it.
        UserSlice.wo(as, how.address() + 32, 8).writeU64(1);
        assertErrno(Errno.E2BIG, () -> how.asConst().getStruct(40));
        assertErrno(Errno.E2BIG, () -> UserSlice.ro(as, how.address(), 40).copyStructToSegment(MemorySegment.ofArray(new long[3])));
        assertEquals(0x80000, how.asConst().getStruct(32).get(JAVA_LONG, 0), "the field set is past 32");
        check();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void thePointersChecksComeFirstAndSizeZeroTouchesNothing(Profile profile) {
        start(profile);
        MemorySegment zero = UserConstPtr.of(as, 0, OPEN_HOW).getStruct(0);
        assertArrayEquals(new byte[24], zero.toArray(ValueLayout.JAVA_BYTE), "usize 0: all zeros, no access, as Linux");
        assertTrue(UserConstPtr.of(as, 0, OPEN_HOW).checkZeroed(0));
        ErrnoException e = assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, 0, OPEN_HOW).getStruct(24));
        assertTrue(e.getMessage().contains("null pointer"), e.getMessage());
        assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, 0, OPEN_HOW).checkZeroed(8));
        StructLayout aligned = MemoryLayout.structLayout(JAVA_LONG.withName("a"));
        e = assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, page + 4, aligned).getStruct(8));
        assertTrue(e.getMessage().contains("aligned"), e.getMessage());
        assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, page, OPEN_HOW).getStruct(-1));
        assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, page, OPEN_HOW).checkZeroed(Long.MIN_VALUE));
        if (profile.checksAccess()) {
            e = assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, page, OPEN_HOW).getStruct(Long.MAX_VALUE));
            assertTrue(e.getMessage().contains("outside user space"), e.getMessage());
        } else {
            // No access_ok: the zero check runs until the first page it cannot read.
            e = assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, page, OPEN_HOW).getStruct(Long.MAX_VALUE));
        }
        // A huge guest size that is zero up to an unmapped page: EFAULT there, after reading one page.
        e = assertErrno(Errno.EFAULT, () -> UserSlice.ro(as, page, 1L << 20).checkZeroed());
        assertEquals(PAGE, e.done());
        check();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void structsSpanningManyPagesAreCheckedPageByPage(Profile profile) {
        start(profile);
        long big = as.mmap(0, 6 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        assertTrue(UserSlice.ro(as, big + 5, 5 * PAGE).checkZeroed());
        writeByte(as, big + 4 * PAGE + 17, 3);
        assertFalse(UserSlice.ro(as, big + 5, 5 * PAGE).checkZeroed());
        assertTrue(UserSlice.ro(as, big + 4 * PAGE + 18, PAGE).checkZeroed());
        assertFalse(UserConstPtr.of(as, big + 5, ValueLayout.JAVA_BYTE).checkZeroed(5 * PAGE));
        byte[] dst = new byte[(int) (4 * PAGE)];
        ErrnoException e = assertErrno(Errno.E2BIG, () -> UserSlice.ro(as, big, 5 * PAGE).copyStructToSlice(dst));
        assertTrue(e.getMessage().contains("0x" + Long.toHexString(big + 4 * PAGE + 17)), e.getMessage());
        byte[] bigger = new byte[(int) (8 * PAGE)];
        Arrays.fill(bigger, (byte) 1);
        UserSlice.ro(as, big, 5 * PAGE).copyStructToSlice(bigger);
        assertEquals(3, bigger[(int) (4 * PAGE + 17)]);
        assertArrayEquals(new byte[(int) (3 * PAGE)], Arrays.copyOfRange(bigger, (int) (5 * PAGE), (int) (8 * PAGE)), "zero-extended");
        check();
    }
}
