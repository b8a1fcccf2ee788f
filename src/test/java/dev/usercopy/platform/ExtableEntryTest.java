package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;

import dev.usercopy.platform.GuardedRegion.Guard;
import dev.usercopy.platform.UserCopy.Form;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every labelled instruction of the exception table is reached on purpose,
 * and exactly that entry's fixup is taken, with the exact result.
 */
class ExtableEntryTest {

    private static Map<ExtableEntry, Long> hits() {
        Map<ExtableEntry, Long> m = new EnumMap<>(ExtableEntry.class);
        for (ExtableEntry e : ExtableEntry.values()) {
            m.put(e, e.hits());
        }
        return m;
    }

    /** Runs one faulting call and checks which entries fired and what it returned. */
    private static void expect(String what, long expected, Supplier<Long> call, ExtableEntry... fired) {
        Map<ExtableEntry, Long> before = hits();
        long got = call.get();
        Map<ExtableEntry, Long> after = hits();
        assertEquals(expected, got, what);
        for (ExtableEntry e : ExtableEntry.values()) {
            long want = java.util.Arrays.asList(fired).contains(e) ? 1 : 0;
            assertEquals(want, after.get(e) - before.get(e), what + ": hits of " + e.label());
        }
    }

    @Test
    void eachLabelFaultsAndTakesItsOwnFixup() {
        try (GuardedRegion r = GuardedRegion.create(1, Guard.SEGV); Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256, 64);
            long b = r.boundary();
            expect("flat", 90, () -> UserCopy.rawCopyFromUser(Form.FLAT, buf.asSlice(0, 100), b - 10), ExtableEntry.USERCOPY0);
            // Destination 1 past an 8-boundary: 7 leading bytes, the fault comes at the 4th.
            expect("leading bytes", 97, () -> UserCopy.rawCopyFromUser(Form.ALIGNED, buf.asSlice(1, 100), b - 3), ExtableEntry.USERCOPY1);
            // Aligned destination and source: the qword at the boundary faults, the byte retry faults at once.
            expect("bulk, aligned", 84, () -> UserCopy.rawCopyFromUser(Form.ALIGNED, buf.asSlice(0, 100), b - 16),
                    ExtableEntry.USERCOPY1B, ExtableEntry.USERCOPY1D);
            // Misaligned source: the faulting qword straddles; the retry copies its first 3 bytes.
            expect("bulk, straddling", 81, () -> UserCopy.rawCopyFromUser(Form.ALIGNED, buf.asSlice(0, 100), b - 19),
                    ExtableEntry.USERCOPY1B, ExtableEntry.USERCOPY1D);
            // 20 bytes: two qwords then 4 tail bytes, of which 1 is readable.
            expect("tail", 3, () -> UserCopy.rawCopyFromUser(Form.ALIGNED, buf.asSlice(0, 20), b - 17), ExtableEntry.USERCOPY1C);
            expect("short copy", 4, () -> UserCopy.rawCopyFromUser(Form.ALIGNED, buf.asSlice(0, 6), b - 2), ExtableEntry.USERCOPY1C);
            expect("strncpy", -Errno.EFAULT.number(), () -> {
                r.accessible().asSlice(r.accessible().byteSize() - 5).fill((byte) 'z');
                return UserCopy.strncpyFromUser(new byte[64], 0, b - 5, 64);
            }, ExtableEntry.USERCOPY2);
            expect("clear", 50, () -> UserCopy.clearUser(b - 50, 100), ExtableEntry.USERCOPY3);
        }
    }

    /**
     * Each instruction of the adaptive form faults on purpose: loads when
     * copying from user memory, stores when copying to it. {@code k} is the
     * number of guest bytes before the boundary, so every call returns
     * {@code n - k}. After a fault in a mov or AVX2 chunk the fixup copies
     * byte by byte only up to the faulting page, so it does not fault again.
     * The kernel buffer is 64-aligned, so the AVX2 head copies 32 bytes when
     * copying from user.
     */
    @Test
    void eachAdaptiveLabelFaultsAndTakesItsOwnFixup() {
        Set<CpuFeature> cpu = UserCopy.cpuFeatures();
        assumeTrue(cpu.containsAll(EnumSet.of(CpuFeature.ERMS, CpuFeature.AVX2)), "needs ERMS and AVX2, has " + cpu);
        Set<ExtableEntry> reached = EnumSet.noneOf(ExtableEntry.class);
        try (GuardedRegion r = GuardedRegion.create(5, Guard.SEGV); Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(32768, 64);
            long b = r.boundary();
            record Case(String what, boolean toUser, int n, int k, ExtableEntry... fired) {}
            List<Case> cases = List.of(
                    new Case("bytes: load", false, 5, 2, ExtableEntry.USERCOPY4A),
                    new Case("bytes: store", true, 5, 2, ExtableEntry.USERCOPY4B),
                    new Case("qwords: first load", false, 10, 5, ExtableEntry.USERCOPY5A),
                    new Case("qwords: last load", false, 12, 9, ExtableEntry.USERCOPY5B),
                    new Case("qwords: first store", true, 10, 5, ExtableEntry.USERCOPY5C),
                    new Case("qwords: last store", true, 12, 9, ExtableEntry.USERCOPY5D),
                    new Case("2 xmm: first load", false, 20, 10, ExtableEntry.USERCOPY6A),
                    new Case("2 xmm: last load", false, 30, 20, ExtableEntry.USERCOPY6B),
                    new Case("2 xmm: first store", true, 20, 10, ExtableEntry.USERCOPY6C),
                    new Case("2 xmm: last store", true, 30, 20, ExtableEntry.USERCOPY6D),
                    // 4 xmm of 60 bytes: [0,16) [16,32) [28,44) [44,60).
                    new Case("4 xmm: load at 0", false, 60, 10, ExtableEntry.USERCOPY7A),
                    new Case("4 xmm: load at 16", false, 60, 20, ExtableEntry.USERCOPY7B),
                    new Case("4 xmm: load at n-32", false, 60, 40, ExtableEntry.USERCOPY7C),
                    new Case("4 xmm: load at n-16", false, 60, 50, ExtableEntry.USERCOPY7D),
                    new Case("4 xmm: store at 0", true, 60, 10, ExtableEntry.USERCOPY7E),
                    new Case("4 xmm: store at 16", true, 60, 20, ExtableEntry.USERCOPY7F),
                    new Case("4 xmm: store at n-32", true, 60, 40, ExtableEntry.USERCOPY7G),
                    new Case("4 xmm: store at n-16", true, 60, 50, ExtableEntry.USERCOPY7H),
                    // From user, 200 bytes, aligned kernel side: head [0,32), loop [32,64) [64,96) [96,128) [128,160),
                    // tail [136,168) [168,200).
                    new Case("AVX2 head load", false, 200, 10, ExtableEntry.USERCOPY8A),
                    new Case("AVX2 loop load at 0", false, 200, 40, ExtableEntry.USERCOPY8C),
                    new Case("AVX2 loop load at 32", false, 200, 70, ExtableEntry.USERCOPY8D),
                    new Case("AVX2 tail load at n-64", false, 200, 162, ExtableEntry.USERCOPY8G),
                    new Case("AVX2 tail load at n-32", false, 200, 180, ExtableEntry.USERCOPY8H),
                    // To user at b-k: the head advances to a 32-aligned guest address, that is to offset k mod 32
                    // (or 32); k=40: loop [8,40) [40,72); k=70: [6,38) [38,70) [70,102); k=196: tail [136,168) [168,200).
                    new Case("AVX2 head store", true, 200, 10, ExtableEntry.USERCOPY8B),
                    new Case("AVX2 loop store at 0", true, 200, 70, ExtableEntry.USERCOPY8E),
                    new Case("AVX2 loop store at 32", true, 200, 40, ExtableEntry.USERCOPY8F),
                    new Case("AVX2 tail store at n-64", true, 200, 160, ExtableEntry.USERCOPY8I),
                    new Case("AVX2 tail store at n-32", true, 200, 196, ExtableEntry.USERCOPY8J),
                    new Case("rep movsb from user", false, 20000, 100, ExtableEntry.USERCOPY9),
                    new Case("rep movsb to user", true, 20000, 100, ExtableEntry.USERCOPY9));
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
                    ExtableEntry.USERCOPY7D, ExtableEntry.USERCOPY9R);
            reached.add(ExtableEntry.USERCOPY9R);
        }
        for (ExtableEntry e : ExtableEntry.values()) {
            if (e.label().compareTo("usercopy4") >= 0) {
                assertTrue(reached.contains(e), e.label() + " (" + e.what() + ") is never reached on purpose");
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
                    ExtableEntry.USERCOPY9);
            UserCopy.restrictCpuFeatures(EnumSet.noneOf(CpuFeature.class));
            assertEquals(Set.of(), UserCopy.cpuFeatures());
            expect("no AVX2, no ERMS: rep movsq", 100, () -> UserCopy.rawCopyFromUser(Form.ADAPTIVE, buf.asSlice(0, 200), b - 100),
                    ExtableEntry.USERCOPY1B, ExtableEntry.USERCOPY1D);
            expect("no AVX2, no ERMS: small copies keep their movs", 3, () -> UserCopy.rawCopyFromUser(Form.ADAPTIVE, buf.asSlice(0, 12), b - 9),
                    ExtableEntry.USERCOPY5B);
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
