package dev.usercopy.mm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A machine allowed 40 host mappings: what would pass the budget is ENOMEM
 * (as Linux gives at vm.max_map_count), and the address space stays usable.
 */
class VmaBudgetTest extends MmScenario {
    private static final long BUDGET = 40;
    private static final int RW = Prot.READ | Prot.WRITE;

    private void startMachine() {
        machine(small().withVmaBudget(BUDGET));
        assertEquals(BUDGET, mm.stats().vmaBudget());
    }

    private void assertWithinBudget(AddressSpace as) {
        checkMeasured(as);
        assertTrue(as.vmas() <= BUDGET + 2, "host mappings " + as.vmas() + " past the budget of " + BUDGET);
        assertTrue(mm.stats().vmas() <= BUDGET + 2, "the machine counts " + mm.stats().vmas() + " host mappings, past the budget of " + BUDGET);
    }

    /** Runs {@code op}, which may fail with ENOMEM only; returns whether it did. */
    private static boolean enomemOrDone(Runnable op) {
        try {
            op.run();
            return false;
        } catch (ErrnoException e) {
            assertEquals(Errno.ENOMEM, e.errno(), e.getMessage());
            return true;
        }
    }

    private static void assertBudgetMessage(ErrnoException e) {
        assertTrue(e.getMessage().contains("budget"), e.getMessage());
    }

    /** Pages at every other page from BASE: each its own grant and, once touched, its own host mapping. */
    private static long island(int i) {
        return BASE + 2L * i * PAGE;
    }

    @Test
    void faultsThatWouldPassTheBudgetAreEnomemAndTheSpaceStaysUsable() {
        startMachine();
        AddressSpace as = space();
        for (int i = 0; i < 40; i++) {
            as.mmap(island(i), PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
        }
        assertWithinBudget(as);
        int touched = 0;
        ErrnoException failure = null;
        for (int i = 0; i < 40 && failure == null; i++) {
            try {
                writeByte(as, island(i) + 1, i + 1);
                touched++;
            } catch (ErrnoException e) {
                failure = e;
            }
            assertWithinBudget(as);
        }
        assertTrue(failure != null, "40 separate host mappings fit a budget of " + BUDGET);
        assertEquals(Errno.ENOMEM, failure.errno());
        assertBudgetMessage(failure);
        assertTrue(touched >= 15, "only " + touched + " islands before the budget ran out");

        for (int i = 0; i < touched; i++) {
            writeByte(as, island(i), 0x40 + i);
            assertEquals(0x40 + i, readByte(as, island(i)), "island " + i);
            assertEquals(i + 1, readByte(as, island(i) + 1));
        }
        int next = touched;
        assertBudgetMessage(assertErrno(Errno.ENOMEM, () -> as.copyFromUser(new byte[1], 0, island(next), 1)));
        assertWithinBudget(as);

        as.munmap(island(0), 4 * PAGE);
        assertWithinBudget(as);
        writeByte(as, island(next), 1);
        assertWithinBudget(as);
        assertEquals(1, readByte(as, island(next)));
    }

    @Test
    void aForkThatWouldPassTheBudgetIsEnomemAndCreatesNoChild() {
        startMachine();
        AddressSpace as = space();
        for (int i = 0; i < 12; i++) {
            as.mmap(island(i), PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
            writeByte(as, island(i), i);
        }
        assertWithinBudget(as);
        assertBudgetMessage(assertErrno(Errno.ENOMEM, as::fork));
        assertWithinBudget(as);
        assertEquals(1, mm.stats().addressSpaces());
        writeByte(as, island(3), 33);
        assertEquals(33, readByte(as, island(3)));
    }

    @Test
    void mprotectThatWouldSplitPastTheBudgetIsEnomem() {
        startMachine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 64 * PAGE, RW, MapFlags.PRIVATE);
        write(as, a, pattern(64 * (int) PAGE, 1));
        assertWithinBudget(as);
        int failures = 0;
        for (int i = 1; i < 64; i += 2) {
            try {
                as.mprotect(a + i * PAGE, PAGE, Prot.READ);
            } catch (ErrnoException e) {
                assertEquals(Errno.ENOMEM, e.errno(), e.getMessage());
                failures++;
            }
            assertWithinBudget(as);
        }
        assertTrue(failures > 0, "32 read-only islands in one mapping fit a budget of " + BUDGET);
        assertBytes(pattern(64 * (int) PAGE, 1), as, a);
    }

    @Test
    void munmapThatWouldSplitPastTheBudgetIsEnomem() {
        startMachine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 64 * PAGE, RW, MapFlags.PRIVATE);
        write(as, a, pattern(64 * (int) PAGE, 2));
        assertWithinBudget(as);
        int failures = 0;
        for (int i = 1; i < 64; i += 2) {
            try {
                as.munmap(a + i * PAGE, PAGE);
            } catch (ErrnoException e) {
                assertEquals(Errno.ENOMEM, e.errno(), e.getMessage());
                failures++;
            }
            assertWithinBudget(as);
        }
        assertTrue(failures > 0, "32 holes in one mapping fit a budget of " + BUDGET);
    }

    @Test
    void madviseOfEveryOtherPageStaysWithinTheBudget() {
        startMachine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 64 * PAGE, RW, MapFlags.PRIVATE);
        write(as, a, pattern(64 * (int) PAGE, 3));
        assertWithinBudget(as);
        for (int i = 1; i < 64; i += 2) {
            long at = a + i * PAGE;
            enomemOrDone(() -> as.madviseDontNeed(at, PAGE));
            assertWithinBudget(as);
        }
    }

    @Test
    void msyncOfEveryOtherPageStaysWithinTheBudget(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("budget.bin");
        Files.write(file, new byte[64 * (int) PAGE]);
        startMachine();
        AddressSpace as = space();
        long a = as.mmapFile(BASE, 64 * PAGE, RW, MapFlags.SHARED, file, 0);
        write(as, a, pattern(64 * (int) PAGE, 4));
        assertWithinBudget(as);
        for (int i = 1; i < 64; i += 2) {
            long at = a + i * PAGE;
            enomemOrDone(() -> as.msync(at, PAGE));
            assertWithinBudget(as);
        }
    }

    @Test
    void mprotectThatAddsWriteAccessStaysWithinTheBudgetWhenPagesDifferInWritability(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("budget.bin");
        Files.write(file, new byte[64 * (int) PAGE]);
        startMachine();
        AddressSpace as = space();
        long a = as.mmapFile(BASE, 64 * PAGE, RW, MapFlags.SHARED, file, 0);
        write(as, a, pattern(64 * (int) PAGE, 5));
        as.mprotect(a, 64 * PAGE, Prot.READ);
        assertWithinBudget(as);
        for (int i = 1; i < 64; i += 2) {
            as.msync(a + i * PAGE, PAGE); // clean every other page; the mapping is read-only, so no split yet
        }
        assertWithinBudget(as);
        enomemOrDone(() -> as.mprotect(a, 64 * PAGE, RW));
        assertWithinBudget(as);
    }
}
