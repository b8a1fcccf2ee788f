package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.usercopy.platform.GuardedRegion.Guard;
import dev.usercopy.platform.UserCopy.Form;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A copy that runs into an inaccessible guest byte stops exactly there: it
 * returns the number of bytes not copied, every byte before the boundary
 * arrived, and nothing past the returned point was written.
 *
 * <p>Swept exhaustively: every count of bytes before the boundary 0..64 (and
 * a few deep into the pages, so the bulk loop faults), every host
 * misalignment 0..31 (the adaptive form aligns destinations to 32), lengths
 * up to five pages (past the adaptive form's 4 KiB switch to a
 * {@code rep movsb} chosen by distance); every form, both directions, SIGSEGV
 * and SIGBUS. The adaptive form runs three times: with every CPU feature it
 * found, without AVX2 (65 bytes up go to {@code rep movsb}), and without AVX2
 * and ERMS (65 bytes up go to the aligned form), so each of its paths meets
 * the boundary.
 */
class BoundaryCopyTest {
    private static final int PAGES = 5;
    private static final long PAGE = GuardedRegion.PAGE;
    private static final int MAX_LEN = (int) (PAGES * PAGE);
    private static final int SLACK = 64;
    private static final byte CANARY = (byte) 0xA5;

    private static Arena arena;
    private static MemorySegment kernel;   // 64-aligned, room for any misalignment + slack
    private static MemorySegment canaries;

    @BeforeAll
    static void allocate() {
        arena = Arena.ofShared();
        kernel = arena.allocate(MAX_LEN + 2L * SLACK, 64);
        canaries = arena.allocate(MAX_LEN + 2L * SLACK).fill(CANARY);
    }

    @AfterAll
    static void free() {
        arena.close();
    }

    enum Direction { FROM_USER, TO_USER }

    /** The CPU features a case lets the adaptive form use; the fixed forms ignore them. */
    enum Cpu {
        ALL(EnumSet.allOf(CpuFeature.class)),
        NO_AVX2(EnumSet.of(CpuFeature.ERMS, CpuFeature.FSRM)),
        NO_AVX2_NO_ERMS(EnumSet.of(CpuFeature.FSRM));

        final Set<CpuFeature> keep;

        Cpu(Set<CpuFeature> keep) {
            this.keep = keep;
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (Guard guard : Guard.values()) {
            for (Form form : Form.values()) {
                for (Cpu cpu : form == Form.ADAPTIVE ? Cpu.values() : new Cpu[] {Cpu.ALL}) {
                    for (Direction dir : Direction.values()) {
                        all.add(Arguments.of(guard, form, cpu, dir));
                    }
                }
            }
        }
        return all.stream();
    }

    /** Runs {@code body} with the adaptive form limited to {@code cpu}'s features, then restores them. */
    private static void withCpu(Cpu cpu, Runnable body) {
        Set<CpuFeature> before = UserCopy.cpuFeatures();
        UserCopy.restrictCpuFeatures(cpu.keep);
        try {
            body.run();
        } finally {
            UserCopy.restrictCpuFeatures(before);
        }
    }

    /** Bytes before the boundary: 0..64, then some that put the fault deep in the bulk loop. */
    private static int[] beforeBoundary() {
        int[] ks = new int[65 + 10];
        for (int k = 0; k <= 64; k++) {
            ks[k] = k;
        }
        int[] deep = {127, 1000, 4095, 4096, 4097, 8191, 16383, 16384, 16385, MAX_LEN - 1};
        System.arraycopy(deep, 0, ks, 65, deep.length);
        return ks;
    }

    /** Lengths that run past the boundary by a little, by a qword's worth, and by pages. */
    private static int[] lengthsPast(int k) {
        int[] over = {1, 2, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 4096};
        List<Integer> out = new ArrayList<>();
        for (int o : over) {
            if (k + o <= MAX_LEN) {
                out.add(k + o);
            }
        }
        out.add(MAX_LEN);
        return out.stream().distinct().mapToInt(Integer::intValue).toArray();
    }

    private static byte pattern(long i) {
        return (byte) (i * 31 + 7);
    }

    @ParameterizedTest(name = "{0} {1} cpu={2} {3}")
    @MethodSource("cases")
    void copyStopsExactlyAtTheFirstInaccessibleByte(Guard guard, Form form, Cpu cpu, Direction dir) {
        withCpu(cpu, () -> sweepBoundary(guard, form, cpu, dir));
    }

    private static void sweepBoundary(Guard guard, Form form, Cpu cpu, Direction dir) {
        try (GuardedRegion region = GuardedRegion.create(PAGES, guard)) {
            MemorySegment guest = region.accessible();
            long guestSize = guest.byteSize();
            int checked = 0;
            for (int k : beforeBoundary()) {
                for (int misalign = 0; misalign < 32; misalign++) {
                    for (int len : lengthsPast(k)) {
                        String where = guard + " " + form + " cpu=" + cpu + " " + dir + ": k=" + k + " misalign=" + misalign + " len=" + len;
                        long start = region.boundary() - k;
                        long guestOff = guestSize - k;
                        if (dir == Direction.FROM_USER) {
                            for (long i = guestOff; i < guestSize; i++) {
                                guest.set(JAVA_BYTE, i, pattern(i));
                            }
                            kernel.copyFrom(canaries);
                            MemorySegment dst = kernel.asSlice(SLACK + misalign, len);
                            // Odd misalignments take copy_from_user (zeroes what it did not copy), even ones the raw copy.
                            boolean zeroes = (misalign & 1) != 0;
                            long left = zeroes ? UserCopy.copyFromUser(form, dst, start) : UserCopy.rawCopyFromUser(form, dst, start);
                            assertEquals(len - k, left, where);
                            for (int i = 0; i < k; i++) {
                                if (dst.get(JAVA_BYTE, i) != pattern(guestOff + i)) {
                                    fail(where + ": byte " + i + " before the boundary did not arrive");
                                }
                            }
                            long untouchedFrom = SLACK + misalign + (zeroes ? len : k);
                            if (zeroes && dst.asSlice(k).mismatch(MemorySegment.ofArray(new byte[len - k])) >= 0) {
                                fail(where + ": copy_from_user left a byte it did not copy unzeroed");
                            }
                            long firstStray = MemorySegment.mismatch(kernel, untouchedFrom, kernel.byteSize(),
                                    canaries, untouchedFrom, kernel.byteSize());
                            assertEquals(-1, firstStray, where + ": kernel buffer written past the returned point");
                            assertEquals(-1, MemorySegment.mismatch(kernel, 0, SLACK + misalign, canaries, 0, SLACK + misalign),
                                    where + ": kernel buffer written before the destination");
                        } else {
                            long windowOff = Math.max(0, guestOff - SLACK);
                            guest.asSlice(windowOff, guestSize - windowOff).fill(CANARY);
                            MemorySegment src = kernel.asSlice(SLACK + misalign, len);
                            for (int i = 0; i < len; i++) {
                                src.set(JAVA_BYTE, i, pattern(i));
                            }
                            long left = UserCopy.copyToUser(form, start, src);
                            assertEquals(len - k, left, where);
                            for (int i = 0; i < k; i++) {
                                if (guest.get(JAVA_BYTE, guestOff + i) != pattern(i)) {
                                    fail(where + ": byte " + i + " before the boundary did not arrive");
                                }
                            }
                            for (long i = windowOff; i < guestOff; i++) {
                                if (guest.get(JAVA_BYTE, i) != CANARY) {
                                    fail(where + ": guest byte " + (i - guestOff) + " before the destination was written");
                                }
                            }
                        }
                        checked++;
                    }
                }
            }
            System.out.printf("%s %s cpu=%s %s: %d boundary cases%n", guard, form, cpu, dir, checked);
        }
    }

    @ParameterizedTest(name = "{0} {1} cpu={2} {3}")
    @MethodSource("cases")
    void heapArraysStopAtTheBoundaryToo(Guard guard, Form form, Cpu cpu, Direction dir) {
        withCpu(cpu, () -> sweepHeapBoundary(guard, form, cpu, dir));
    }

    private static void sweepHeapBoundary(Guard guard, Form form, Cpu cpu, Direction dir) {
        try (GuardedRegion region = GuardedRegion.create(1, guard)) {
            MemorySegment guest = region.accessible();
            long guestSize = guest.byteSize();
            for (int k = 0; k <= 64; k++) {
                for (int off = 0; off < 16; off++) {
                    for (int len = k + 1; len <= k + 17; len += 8) {
                        String where = guard + " " + form + " cpu=" + cpu + " " + dir + " byte[]: k=" + k + " off=" + off + " len=" + len;
                        byte[] buf = new byte[off + len + SLACK];
                        if (dir == Direction.FROM_USER) {
                            java.util.Arrays.fill(buf, CANARY);
                            for (long i = guestSize - k; i < guestSize; i++) {
                                guest.set(JAVA_BYTE, i, pattern(i));
                            }
                            // Odd offsets take copy_from_user, which zeroes the bytes it did not copy;
                            // even ones the raw copy, which leaves them alone.
                            boolean zeroes = (off & 1) != 0;
                            assertEquals(len - k, zeroes ? UserCopy.copyFromUser(form, buf, off, region.boundary() - k, len)
                                    : UserCopy.rawCopyFromUser(form, buf, off, region.boundary() - k, len), where);
                            for (int i = 0; i < buf.length; i++) {
                                byte want = i >= off && i < off + k ? pattern(guestSize - k + i - off)
                                        : zeroes && i >= off + k && i < off + len ? 0 : CANARY;
                                assertEquals(want, buf[i], where + (zeroes ? " (zeroing)" : " (raw)") + " at " + i);
                            }
                        } else {
                            for (int i = 0; i < buf.length; i++) {
                                buf[i] = pattern(i);
                            }
                            guest.fill(CANARY);
                            assertEquals(len - k, UserCopy.copyToUser(form, region.boundary() - k, buf, off, len), where);
                            for (long i = 0; i < guestSize; i++) {
                                byte want = i >= guestSize - k ? pattern(off + i - (guestSize - k)) : CANARY;
                                assertEquals(want, guest.get(JAVA_BYTE, i), where + " at guest " + i);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * From 4 KiB the adaptive form picks its loop by the distance
     * (dst - src) mod 4 KiB: the AVX2 loop at 1..31 and 33..63, {@code rep movsb}
     * elsewhere. Every distance on both sides of those edges, with a fault
     * 64 bytes before the end: each stops exactly at the boundary, and with
     * every CPU feature the fault is {@code rep movsb}'s (usercopy9) exactly
     * where the distance should pick it.
     */
    @ParameterizedTest(name = "{0} {1} cpu={2} {3}")
    @MethodSource("cases")
    void largeCopiesAtEveryDistanceStopAtTheBoundary(Guard guard, Form form, Cpu cpu, Direction dir) {
        withCpu(cpu, () -> {
            try (GuardedRegion region = GuardedRegion.create(PAGES, guard);
                    Arena confined = Arena.ofConfined()) {
                MemorySegment guest = region.accessible();
                MemorySegment buffer = confined.allocate(MAX_LEN + 2 * PAGE, PAGE);
                int k = 16384 + 100;
                int len = k + 64;
                long start = region.boundary() - k;
                for (int d = 0; d < 4096; d = d == 66 ? 4030 : d + 1) {
                    String where = guard + " " + form + " cpu=" + cpu + " " + dir + ": distance " + d;
                    // (dst - src) mod 4 KiB = d, with the guest side at -k mod 4 KiB.
                    long kernelOff = dir == Direction.FROM_USER ? Math.floorMod(d - k, 4096) : Math.floorMod(-k - d, 4096);
                    MemorySegment kernelSide = buffer.asSlice(kernelOff, len);
                    long repFaults = ExtableEntry.named("usercopy9").hits();
                    byte[] want = new byte[len];
                    for (int i = 0; i < len; i++) {
                        want[i] = pattern(i + d);
                    }
                    MemorySegment wanted = MemorySegment.ofArray(want);
                    if (dir == Direction.FROM_USER) {
                        MemorySegment.copy(wanted, 0, guest, guest.byteSize() - k, k);
                        buffer.fill(CANARY);
                        assertEquals(64, UserCopy.rawCopyFromUser(form, kernelSide, start), where);
                        assertEquals(-1, MemorySegment.mismatch(kernelSide, 0, k, wanted, 0, k), where + ": a byte before the boundary did not arrive");
                        assertEquals(-1, MemorySegment.mismatch(buffer, kernelOff + k, buffer.byteSize(), canaries, 0, buffer.byteSize() - kernelOff - k),
                                where + ": kernel buffer written past the boundary");
                    } else {
                        guest.fill(CANARY);
                        kernelSide.copyFrom(wanted);
                        assertEquals(64, UserCopy.copyToUser(form, start, kernelSide), where);
                        assertEquals(-1, MemorySegment.mismatch(guest, guest.byteSize() - k, guest.byteSize(), wanted, 0, k),
                                where + ": a byte before the boundary did not arrive");
                        assertEquals(-1, MemorySegment.mismatch(guest, 0, guest.byteSize() - k, canaries, 0, guest.byteSize() - k),
                                where + ": guest written before the destination");
                    }
                    if (form == Form.ADAPTIVE && cpu == Cpu.ALL && UserCopy.cpuFeatures().contains(CpuFeature.AVX2)) {
                        boolean slowCase = d >= 1 && d <= 63 && d != 32;
                        assertEquals(slowCase ? 0 : 1, ExtableEntry.named("usercopy9").hits() - repFaults,
                                where + ": faults in rep movsb (the AVX2 loop is for distances 1..31 and 33..63 only)");
                    }
                }
            }
        });
    }

    /**
     * Without a fault the copy is plain memcpy: every source offset x
     * destination offset x size on small buffers, then random larger ones.
     */
    @ParameterizedTest(name = "{0} {1} cpu={2} {3}")
    @MethodSource("cases")
    void copiesThatDoNotFaultCopyEverything(Guard guard, Form form, Cpu cpu, Direction dir) {
        withCpu(cpu, () -> sweepFullCopies(guard, form, dir));
    }

    private static void sweepFullCopies(Guard guard, Form form, Direction dir) {
        long seed = System.nanoTime();
        SplittableRandom rnd = new SplittableRandom(seed);
        try (GuardedRegion region = GuardedRegion.create(PAGES, guard)) {
            MemorySegment guest = region.accessible();
            for (long i = 0; i < guest.byteSize(); i++) {
                guest.set(JAVA_BYTE, i, pattern(i));
            }
            for (int so = 0; so < 16; so++) {
                for (int dO = 0; dO < 32; dO++) {
                    for (int size = 0; size <= 160; size++) {
                        checkFullCopy(region, form, dir, so, dO, size, "sweep");
                    }
                }
            }
            for (int n = 0; n < 2000; n++) {
                int size = rnd.nextInt(MAX_LEN - 64);
                int so = rnd.nextInt(MAX_LEN - size + 1);
                int dO = rnd.nextInt(64);
                checkFullCopy(region, form, dir, so, dO, size, "seed=" + seed);
            }
        }
    }

    private static void checkFullCopy(GuardedRegion region, Form form, Direction dir, int guestOff, int kernelOff, int size, String tag) {
        MemorySegment guest = region.accessible();
        String where = tag + " " + form + " " + dir + ": guestOff=" + guestOff + " kernelOff=" + kernelOff + " size=" + size;
        MemorySegment k = kernel.asSlice(kernelOff, size);
        if (dir == Direction.FROM_USER) {
            kernel.copyFrom(canaries);
            assertEquals(0, UserCopy.rawCopyFromUser(form, k, region.base() + guestOff), where);
            assertEquals(-1, MemorySegment.mismatch(k, 0, size, guest, guestOff, guestOff + size), where);
            assertEquals(-1, MemorySegment.mismatch(kernel, kernelOff + size, kernel.byteSize(), canaries, kernelOff + size, kernel.byteSize()), where + ": overrun");
        } else {
            for (int i = 0; i < size; i++) {
                k.set(JAVA_BYTE, i, (byte) ~pattern(guestOff + i));
            }
            byte after = guestOff + size < guest.byteSize() ? guest.get(JAVA_BYTE, guestOff + size) : 0;
            assertEquals(0, UserCopy.copyToUser(form, region.base() + guestOff, k), where);
            assertEquals(-1, MemorySegment.mismatch(k, 0, size, guest, guestOff, guestOff + size), where);
            if (guestOff + size < guest.byteSize()) {
                assertEquals(after, guest.get(JAVA_BYTE, guestOff + size), where + ": overrun");
            }
            for (int i = 0; i < size; i++) {
                guest.set(JAVA_BYTE, guestOff + i, pattern(guestOff + i));
            }
        }
    }
}
