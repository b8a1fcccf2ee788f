package dev.usercopy.mm;

import org.junit.jupiter.api.Test;

import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An unmapped page's host mapping is parked (kept, {@code PROT_NONE}) so
 * that the next fault there is an mprotect: nothing reaches a parked frame,
 * a page mapped again reads zeros, and parked mappings never cost an
 * operation its place in the VMA budget.
 */
class ParkedMappingTest extends MmScenario {
    private static final int RW = Prot.READ | Prot.WRITE;
    private static final int PAGES = 8;

    @Test
    void anUnmappedPageCopiesNothingAndMappedAgainReadsZerosFromTheFrameParkedThere() {
        machine(small().withFaultAround(1));
        AddressSpace as = space();
        long a = as.mmap(BASE, PAGES * PAGE, RW, MapFlags.PRIVATE);
        write(as, a, pattern(PAGES * (int) PAGE, 1));
        long first = frame(as, a);
        as.munmap(a, PAGES * PAGE);
        checkMeasured(as);

        for (int p = 0; p < PAGES; p++) {
            assertEquals(1, as.copyToUser(a + p * PAGE, new byte[] {9}, 0, 1), "a write to unmapped page " + p + " is EFAULT");
            assertEquals(1, as.copyFromUser(new byte[1], 0, a + p * PAGE, 1), "a read of unmapped page " + p + " is EFAULT");
            assertNull(as.jvmMapping(a / PAGE + p), "page " + p + " is reported unmapped");
        }

        assertEquals(a, as.mmap(a, PAGES * PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED));
        for (int p = 0; p < PAGES; p++) {
            writeByte(as, a + p * PAGE + 1, 0x5a); // one write fault a page: fault-around 1
            assertEquals(first + p, frame(as, a + p * PAGE), "page " + p + " takes the frame parked under it");
            checkMeasured(as);
        }
        byte[] expected = new byte[PAGES * (int) PAGE];
        for (int p = 0; p < PAGES; p++) {
            expected[p * (int) PAGE + 1] = 0x5a;
        }
        assertBytes(expected, as, a);
    }

    @Test
    void aParkedFrameTakenByAnotherSpaceStaysOutOfReach() {
        machine(small().withFrames(640).withFaultAround(1));
        AddressSpace as = space();
        long a = as.mmap(BASE, PAGE, RW, MapFlags.PRIVATE);
        writeByte(as, a, 1);
        long parked = frame(as, a);
        as.munmap(a, PAGE);

        // Another space writes page after page until the allocator hands it the parked frame.
        AddressSpace other = space();
        long o = other.mmap(0, 640 * PAGE, RW, MapFlags.PRIVATE);
        long at = -1;
        for (long p = 0; p < 640 && at < 0; p++) {
            writeByte(other, o + p * PAGE, 0x77);
            at = frame(other, o + p * PAGE) == parked ? o + p * PAGE : -1;
        }
        assertTrue(at >= 0, "the parked frame went back to the allocator");
        assertEquals(1, as.copyFromUser(new byte[1], 0, a, 1), "the space that parked it cannot read it");
        assertEquals(1, as.copyToUser(a, new byte[] {9}, 0, 1), "nor write it");
        assertEquals(0x77, readByte(other, at));
        checkMeasured(as, other);
    }

    @Test
    void parkedMappingsLeaveTheWholeVmaBudgetToLaterOperations() {
        long budget = 40;
        machine(small().withFaultAround(1).withVmaBudget(budget));
        AddressSpace as = space();
        int first = fillWithSeparatePages(as, 0);
        assertTrue(first > 4, "some single pages fit a budget of " + budget + ": " + first);
        for (int round = 1; round <= 4; round++) {
            // Every other round between the pages parked before, where they cannot be mapped again.
            assertEquals(first, fillWithSeparatePages(as, round % 2), "round " + round + ": as many pages fit as the first time");
            checkMeasured(as);
        }
    }

    /**
     * Maps and writes single pages, each between two unmapped ones (a host
     * mapping and a gap each), from page {@code offset} past {@link #BASE},
     * until the budget says ENOMEM; then unmaps them one by one. Returns how
     * many were written.
     */
    private int fillWithSeparatePages(AddressSpace as, int offset) {
        int n = 0;
        try {
            for (; n < 1000; n++) {
                long at = as.mmap(BASE + (2L * n + offset) * PAGE, PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
                writeByte(as, at, n);
            }
        } catch (ErrnoException e) {
            assertEquals(Errno.ENOMEM, e.errno(), e.getMessage());
        }
        check();
        for (int i = n; i >= 0; i--) { // one by one: the last ones, with the budget less than half used, are parked
            as.munmap(BASE + (2L * i + offset) * PAGE, PAGE);
        }
        check();
        return n;
    }

    @Test
    void aForkedChildInheritsNoParkedMapping() {
        machine(small().withFaultAround(1));
        AddressSpace parent = space();
        long a = parent.mmap(BASE, PAGES * PAGE, RW, MapFlags.PRIVATE);
        write(parent, a, pattern(PAGES * (int) PAGE, 3));
        parent.munmap(a + 2 * PAGE, 3 * PAGE);
        // Page 5 stays present without access: its host mapping, PROT_NONE too, continues the
        // parked ones' frames, so the host merges the two; only the parked part may go.
        parent.mprotect(a + 5 * PAGE, PAGE, Prot.NONE);
        AddressSpace child = fork(parent);
        checkMeasured(parent, child);
        assertEquals(1, child.copyFromUser(new byte[1], 0, a + 3 * PAGE, 1), "the unmapped page is EFAULT in the child");
        assertEquals(1, child.copyFromUser(new byte[1], 0, a + 5 * PAGE, 1), "the PROT_NONE page is EFAULT in the child");
        child.mprotect(a + 5 * PAGE, PAGE, RW);
        parent.mprotect(a + 5 * PAGE, PAGE, RW);
        checkMeasured(parent, child);
        byte[] all = pattern(PAGES * (int) PAGE, 3);
        for (AddressSpace s : new AddressSpace[] {parent, child}) {
            assertBytes(slice(all, 0, 2 * (int) PAGE), s, a);
            assertBytes(slice(all, 5 * (int) PAGE, 3 * (int) PAGE), s, a + 5 * PAGE);
        }
    }
}
