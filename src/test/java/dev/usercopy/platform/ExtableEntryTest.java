package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;

import dev.usercopy.platform.GuardedRegion.Guard;
import dev.usercopy.platform.UserCopy.Form;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
            expect("flat", 90, () -> UserCopy.copyFromUser(Form.FLAT, buf.asSlice(0, 100), b - 10), ExtableEntry.USERCOPY0);
            // Destination 1 past an 8-boundary: 7 leading bytes, the fault comes at the 4th.
            expect("leading bytes", 97, () -> UserCopy.copyFromUser(Form.ALIGNED, buf.asSlice(1, 100), b - 3), ExtableEntry.USERCOPY1);
            // Aligned destination and source: the qword at the boundary faults, the byte retry faults at once.
            expect("bulk, aligned", 84, () -> UserCopy.copyFromUser(Form.ALIGNED, buf.asSlice(0, 100), b - 16),
                    ExtableEntry.USERCOPY1B, ExtableEntry.USERCOPY1D);
            // Misaligned source: the faulting qword straddles; the retry copies its first 3 bytes.
            expect("bulk, straddling", 81, () -> UserCopy.copyFromUser(Form.ALIGNED, buf.asSlice(0, 100), b - 19),
                    ExtableEntry.USERCOPY1B, ExtableEntry.USERCOPY1D);
            // 20 bytes: two qwords then 4 tail bytes, of which 1 is readable.
            expect("tail", 3, () -> UserCopy.copyFromUser(Form.ALIGNED, buf.asSlice(0, 20), b - 17), ExtableEntry.USERCOPY1C);
            expect("short copy", 4, () -> UserCopy.copyFromUser(Form.ALIGNED, buf.asSlice(0, 6), b - 2), ExtableEntry.USERCOPY1C);
            expect("strncpy", -Errno.EFAULT.number(), () -> {
                r.accessible().asSlice(r.accessible().byteSize() - 5).fill((byte) 'z');
                return UserCopy.strncpyFromUser(new byte[64], 0, b - 5, 64);
            }, ExtableEntry.USERCOPY2);
            expect("clear", 50, () -> UserCopy.clearUser(b - 50, 100), ExtableEntry.USERCOPY3);
        }
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
