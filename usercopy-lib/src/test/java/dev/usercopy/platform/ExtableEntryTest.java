package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;

import dev.usercopy.platform.GuardedRegion.Guard;
import dev.usercopy.platform.UserCopy.Form;
import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every labelled instruction of the exception table is reached on purpose,
 * and exactly that entry's fixup is taken, with the exact result.
 */
class ExtableEntryTest {

    private static Map<String, Long> hits() {
        Map<String, Long> m = new HashMap<>();
        for (ExtableEntry e : ExtableEntry.all()) {
            m.put(e.label(), e.hits());
        }
        return m;
    }

    /** Runs one faulting call and checks which entries, named by label, fired and what it returned. */
    private static void expect(String what, long expected, Supplier<Long> call, String... fired) {
        for (String label : fired) {
            ExtableEntry.named(label); // a typo is a failure, not a label that never fires
        }
        Map<String, Long> before = hits();
        long got = call.get();
        Map<String, Long> after = hits();
        assertEquals(expected, got, what);
        for (ExtableEntry e : ExtableEntry.all()) {
            long want = Arrays.asList(fired).contains(e.label()) ? 1 : 0;
            assertEquals(want, after.get(e.label()) - before.get(e.label()), what + ": hits of " + e.label());
        }
    }

    @Test
    void eachLabelFaultsAndTakesItsOwnFixup() {
        try (GuardedRegion r = GuardedRegion.create(1, Guard.SEGV); Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256, 64);
            long b = r.boundary();
            expect("flat", 90, () -> UserCopy.rawCopyFromUser(Form.FLAT, buf.asSlice(0, 100), b - 10), "usercopy0");
            // Destination 1 past an 8-boundary: 7 leading bytes, the fault comes at the 4th.
            expect("leading bytes", 97, () -> UserCopy.rawCopyFromUser(Form.ALIGNED, buf.asSlice(1, 100), b - 3), "usercopy1");
            // Aligned destination and source: the qword at the boundary faults, the byte retry faults at once.
            expect("bulk, aligned", 84, () -> UserCopy.rawCopyFromUser(Form.ALIGNED, buf.asSlice(0, 100), b - 16),
                    "usercopy1b", "usercopy1d");
            // Misaligned source: the faulting qword straddles; the retry copies its first 3 bytes.
            expect("bulk, straddling", 81, () -> UserCopy.rawCopyFromUser(Form.ALIGNED, buf.asSlice(0, 100), b - 19),
                    "usercopy1b", "usercopy1d");
            // 20 bytes: two qwords then 4 tail bytes, of which 1 is readable.
            expect("tail", 3, () -> UserCopy.rawCopyFromUser(Form.ALIGNED, buf.asSlice(0, 20), b - 17), "usercopy1c");
            expect("short copy", 4, () -> UserCopy.rawCopyFromUser(Form.ALIGNED, buf.asSlice(0, 6), b - 2), "usercopy1c");
            expect("strncpy", -Errno.EFAULT.number(), () -> {
                r.accessible().asSlice(r.accessible().byteSize() - 5).fill((byte) 'z');
                return UserCopy.strncpyFromUser(new byte[64], 0, b - 5, 64);
            }, "usercopy2");
            expect("clear", 50, () -> UserCopy.clearUser(b - 50, 100), "usercopy3");
        }
    }

    /**
     * Each instruction of the adaptive form faults on purpose: loads when
     * copying from user memory, stores when copying to it. {@code k} is the
     * number of guest bytes before the boundary, so every call returns
     * {@code n - k}. After a fault in a mov or AVX2 chunk the fixup copies
     * byte by byte only up to the faulting page, so it does not fault again.
     * The kernel buffer is page-aligned (so 64-aligned), so the AVX2 head copies 32 bytes when
     * copying from user.
     */
    @Test
    void eachAdaptiveLabelFaultsAndTakesItsOwnFixup() {
        Set<CpuFeature> cpu = UserCopy.cpuFeatures();
        assumeTrue(cpu.containsAll(EnumSet.of(CpuFeature.ERMS, CpuFeature.AVX2)), "needs ERMS and AVX2, has " + cpu);
        Set<String> reached = new HashSet<>();
        try (GuardedRegion r = GuardedRegion.create(5, Guard.SEGV); Arena arena = Arena.ofConfined()) {
            // Page-aligned, so the rep movsb cases' distance (dst - src) mod 4096 is 100 or 3996: never the 1..63 for
            // which the adaptive form takes its AVX2 loop from 4 KiB up (64-aligned, it was 36 for one placement in 64).
            MemorySegment buf = arena.allocate(32768, 4096);
            long b = r.boundary();
            record Case(String what, boolean toUser, int n, int k, String... fired) {}
            List<Case> cases = List.of(
                    new Case("bytes: load", false, 5, 2, "usercopy4a"),
                    new Case("bytes: store", true, 5, 2, "usercopy4b"),
                    new Case("qwords: first load", false, 10, 5, "usercopy5a"),
                    new Case("qwords: last load", false, 12, 9, "usercopy5b"),
                    new Case("qwords: first store", true, 10, 5, "usercopy5c"),
                    new Case("qwords: last store", true, 12, 9, "usercopy5d"),
                    new Case("2 xmm: first load", false, 20, 10, "usercopy6a"),
                    new Case("2 xmm: last load", false, 30, 20, "usercopy6b"),
                    new Case("2 xmm: first store", true, 20, 10, "usercopy6c"),
                    new Case("2 xmm: last store", true, 30, 20, "usercopy6d"),
                    // 4 xmm of 60 bytes: [0,16) [16,32) [28,44) [44,60).
                    new Case("4 xmm: load at 0", false, 60, 10, "usercopy7a"),
                    new Case("4 xmm: load at 16", false, 60, 20, "usercopy7b"),
                    new Case("4 xmm: load at n-32", false, 60, 40, "usercopy7c"),
                    new Case("4 xmm: load at n-16", false, 60, 50, "usercopy7d"),
                    new Case("4 xmm: store at 0", true, 60, 10, "usercopy7e"),
                    new Case("4 xmm: store at 16", true, 60, 20, "usercopy7f"),
                    new Case("4 xmm: store at n-32", true, 60, 40, "usercopy7g"),
                    new Case("4 xmm: store at n-16", true, 60, 50, "usercopy7h"),
                    // From user, 200 bytes, aligned kernel side: head [0,32), loop [32,64) [64,96) [96,128) [128,160),
                    // tail [136,168) [168,200).
                    new Case("AVX2 head load", false, 200, 10, "usercopy8a"),
                    new Case("AVX2 loop load at 0", false, 200, 40, "usercopy8c"),
                    new Case("AVX2 loop load at 32", false, 200, 70, "usercopy8d"),
                    new Case("AVX2 tail load at n-64", false, 200, 162, "usercopy8g"),
                    new Case("AVX2 tail load at n-32", false, 200, 180, "usercopy8h"),
                    // To user at b-k: the head advances to a 32-aligned guest address, that is to offset k mod 32
                    // (or 32); k=40: loop [8,40) [40,72); k=70: [6,38) [38,70) [70,102); k=196: tail [136,168) [168,200).
                    new Case("AVX2 head store", true, 200, 10, "usercopy8b"),
                    new Case("AVX2 loop store at 0", true, 200, 70, "usercopy8e"),
                    new Case("AVX2 loop store at 32", true, 200, 40, "usercopy8f"),
                    new Case("AVX2 tail store at n-64", true, 200, 160, "usercopy8i"),
                    new Case("AVX2 tail store at n-32", true, 200, 196, "usercopy8j"),
                    new Case("rep movsb from user", false, 20000, 100, "usercopy9"),
                    new Case("rep movsb to user", true, 20000, 100, "usercopy9"));
            for (Case c : cases) {
                MemorySegment kernel = buf.asSlice(0, c.n());
                expect("adaptive " + c.what(), c.n() - c.k(), () -> c.toUser()
                        ? UserCopy.copyToUser(Form.ADAPTIVE, b - c.k(), kernel)
                        : UserCopy.rawCopyFromUser(Form.ADAPTIVE, kernel, b - c.k()), c.fired());
                reached.addAll(List.of(c.fired()));
            }
        }
        // The byte retry faults only if a byte before the faulting page is inaccessible too: here the
        // kernel buffer, whose page ends 30 bytes in, while the last source load faults at byte 50.
        try (GuardedRegion user = GuardedRegion.create(1, Guard.SEGV); GuardedRegion kernel = GuardedRegion.create(1, Guard.SEGV)) {
            MemorySegment dst = kernel.withGuard().asSlice(kernel.accessible().byteSize() - 30, 60);
            expect("adaptive byte retry", 30, () -> UserCopy.rawCopyFromUser(Form.ADAPTIVE, dst, user.boundary() - 50),
                    "usercopy7d", "usercopy9r");
            reached.add("usercopy9r");
        }
        for (ExtableEntry e : ExtableEntry.all()) {
            if (e.label().compareTo("usercopy4") >= 0) {
                assertTrue(reached.contains(e.label()), e.label() + " is never reached on purpose");
            }
        }
    }

    /** Without AVX2, 65 bytes up go to rep movsb; without ERMS as well, to the aligned form's rep movsq. */
    @Test
    void theAdaptiveFallbacksFaultInTheirOwnInstructions() {
        Set<CpuFeature> before = UserCopy.cpuFeatures();
        try (GuardedRegion r = GuardedRegion.create(1, Guard.SEGV); Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256, 64);
            long b = r.boundary();
            UserCopy.restrictCpuFeatures(EnumSet.of(CpuFeature.ERMS));
            assumeTrue(UserCopy.cpuFeatures().contains(CpuFeature.ERMS), "needs ERMS");
            expect("no AVX2: rep movsb", 100, () -> UserCopy.rawCopyFromUser(Form.ADAPTIVE, buf.asSlice(0, 200), b - 100),
                    "usercopy9");
            UserCopy.restrictCpuFeatures(EnumSet.noneOf(CpuFeature.class));
            assertEquals(Set.of(), UserCopy.cpuFeatures());
            expect("no AVX2, no ERMS: rep movsq", 100, () -> UserCopy.rawCopyFromUser(Form.ADAPTIVE, buf.asSlice(0, 200), b - 100),
                    "usercopy1b", "usercopy1d");
            expect("no AVX2, no ERMS: small copies keep their movs", 3, () -> UserCopy.rawCopyFromUser(Form.ADAPTIVE, buf.asSlice(0, 12), b - 9),
                    "usercopy5b");
        } finally {
            UserCopy.restrictCpuFeatures(before);
        }
        assertEquals(before, UserCopy.cpuFeatures());
    }

    @Test
    void aSigbusFixupIsCountedAsSigbus() {
        try (GuardedRegion r = GuardedRegion.create(1, Guard.BUS)) {
            FaultHandler.Stats before = FaultHandler.stats();
            assertEquals(10, UserCopy.clearUser(r.boundary() - 5, 15));
            FaultHandler.Stats after = FaultHandler.stats();
            assertEquals(1, after.busFixups() - before.busFixups());
            assertEquals(0, after.segvFixups() - before.segvFixups());
        }
    }
}
