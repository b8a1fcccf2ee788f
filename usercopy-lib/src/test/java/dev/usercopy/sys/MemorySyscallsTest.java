package dev.usercopy.sys;

import org.junit.jupiter.api.Test;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the memory syscalls do that the host oracle cannot show on its own
 * layout: where the first mappings go in a fresh address space, that a
 * moved mapping keeps its bytes and its protection, and brk's limits.
 */
class MemorySyscallsTest {
    private static final long PAGE = AddressSpace.PAGE;
    private static final int MMAP = 9;
    private static final int MUNMAP = 11;
    private static final int MPROTECT = 10;
    private static final int MREMAP = 25;
    private static final int BRK = 12;
    private static final int RW = 3;
    private static final int PRIVATE_ANON = 0x22;

    @Test
    void mmapBaseLeavesTheStackItsRlimitAndAtLeast128MiB() {
        long top = 1L << 40;
        assertEquals(top - (128L << 20), Placement.mmapBase(top, 8L << 20), "8 MiB of stack: the 128 MiB minimum gap");
        assertEquals(top - (1L << 30) - (1L << 20), Placement.mmapBase(top, 1L << 30), "1 GiB of stack plus the 1 MiB guard gap");
        assertEquals((top - top / 6 * 5) & -PAGE, Placement.mmapBase(top, 1L << 62), "at most 5/6 of user space");
        assertEquals(64L << 20, Placement.mmapBase(64L << 20, 8L << 20), "a space smaller than the gap: mmap_base is its top");
    }

    @Test
    void theFirstMappingsGoTopDownFromMmapBase() {
        try (SysFixture f = new SysFixture()) {
            long top = Math.min(f.space.size(), GuestMemory.TASK_SIZE);
            long base = Placement.mmapBase(top, f.task.limits().stackAtStart());
            long a = f.call(MMAP, 0, 3 * PAGE, RW, PRIVATE_ANON, -1, 0);
            assertEquals(base - 3 * PAGE, a, "just below mmap_base");
            long b = f.call(MMAP, 0, 5 * PAGE, RW, PRIVATE_ANON, -1, 0);
            assertEquals(a - 5 * PAGE, b, "the next one just below the first");
            assertEquals(0, f.call(MUNMAP, a, 3 * PAGE));
            assertEquals(base - PAGE, f.call(MMAP, 0, PAGE, RW, PRIVATE_ANON, -1, 0), "a freed range at the top is used again from its top");
            long huge = f.call(MMAP, 0, 4L << 20, RW, PRIVATE_ANON, -1, 0);
            assertEquals(0, huge % (2L << 20), "a 4 MiB anonymous mapping is 2 MiB-aligned: 0x" + Long.toHexString(huge));
            assertTrue(huge + (4L << 20) <= b, "and below the others");
        }
    }

    @Test
    void aFullTopHalfFallsBackToBottomUpFromAThird() {
        try (SysFixture f = new SysFixture()) {
            long top = Math.min(f.space.size(), GuestMemory.TASK_SIZE);
            long base = Placement.mmapBase(top, f.task.limits().stackAtStart());
            // Fill [MIN_ADDRESS, base) so nothing fits below mmap_base.
            assertEquals(AddressSpace.MIN_ADDRESS, f.call(MMAP, AddressSpace.MIN_ADDRESS, base - AddressSpace.MIN_ADDRESS, 0, PRIVATE_ANON | 0x10, -1, 0));
            long r = f.call(MMAP, 0, PAGE, RW, PRIVATE_ANON, -1, 0);
            assertEquals(base, r, "the lowest free page from a third of user space up is mmap_base itself");
        }
    }

    @Test
    void aMovedMappingKeepsItsBytesAndItsProtection() {
        try (SysFixture f = new SysFixture()) {
            long a = f.call(MMAP, 0, 2 * PAGE, RW, PRIVATE_ANON, -1, 0);
            byte[] data = "moved by mremap".getBytes();
            assertEquals(0, f.space.copyToUser(a + PAGE + 7, data, 0, data.length));
            assertEquals(0, f.call(MPROTECT, a, 2 * PAGE, 1));
            // Block growth in place, so MAYMOVE moves it.
            assertEquals(a + 2 * PAGE, f.call(MMAP, a + 2 * PAGE, PAGE, RW, PRIVATE_ANON | 0x100000, -1, 0));
            long to = f.call(MREMAP, a, 2 * PAGE, 8 * PAGE, 1, 0);
            assertNotEquals(a, to);
            assertTrue(to > 0, "moved: " + to);
            byte[] back = new byte[data.length];
            assertEquals(0, f.space.copyFromUser(back, 0, to + PAGE + 7, back.length));
            assertArrayEquals(data, back);
            assertEquals(data.length, f.space.copyToUser(to + PAGE + 7, data, 0, data.length), "still read-only after the move");
            assertEquals(1, f.space.copyFromUser(new byte[1], 0, a, 1), "the old range is gone");
            assertEquals(0, f.space.copyFromUser(new byte[1], 0, to + 7 * PAGE, 1), "the grown part is there");
        }
    }

    @Test
    void aSharedMappingIsNotMovedByCopy() {
        try (SysFixture f = new SysFixture()) {
            long a = f.call(MMAP, 0, 2 * PAGE, RW, 0x21, -1, 0);
            assertEquals(a + 2 * PAGE, f.call(MMAP, a + 2 * PAGE, PAGE, RW, PRIVATE_ANON | 0x100000, -1, 0));
            assertEquals(-Errno.ENOMEM.number(), f.call(MREMAP, a, 2 * PAGE, 4 * PAGE, 1, 0), "a copy would break the sharing");
            assertEquals(a, f.call(MREMAP, a, 2 * PAGE, PAGE, 0, 0), "a shrink is fine");
        }
    }

    @Test
    void brkStopsAtRlimitData() {
        try (SysFixture f = new SysFixture()) {
            long start = f.call(BRK, 0);
            byte[] limit = java.nio.ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(64 * PAGE).putLong(-1).array();
            long buf = f.call(MMAP, 0, PAGE, RW, PRIVATE_ANON, -1, 0);
            assertEquals(0, f.space.copyToUser(buf, limit, 0, 16));
            assertEquals(0, f.call(160, ResourceLimits.RLIMIT_DATA, buf), "setrlimit(RLIMIT_DATA, 64 pages)");
            assertEquals(start + 64 * PAGE, f.call(BRK, start + 64 * PAGE));
            assertEquals(start + 64 * PAGE, f.call(BRK, start + 64 * PAGE + 1), "one byte more is refused: the old break");
        }
    }

    @Test
    void brkNeverAnswersAnErrno() {
        long seed = new java.util.SplittableRandom().nextLong();
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        try (SysFixture f = new SysFixture()) {
            long start = f.call(BRK, 0);
            long current = start;
            for (int i = 0; i < 2000; i++) {
                long request = switch (random.nextInt(4)) {
                    case 0 -> random.nextLong();
                    case 1 -> start + random.nextLong(1 << 24);
                    case 2 -> start - random.nextLong(1 << 24);
                    default -> current + random.nextLong(-PAGE * 4, PAGE * 4);
                };
                long r = f.call(BRK, request);
                assertTrue(r >= start, "seed " + seed + ": brk(0x" + Long.toHexString(request) + ") = " + r);
                assertTrue(r == current || r == request, "seed " + seed + ": brk answers the old or the new break");
                current = r;
                assertEquals(current, f.task.brk().current(), "seed " + seed);
            }
            // The heap is mapped exactly up to the break's page end.
            long end = (current + PAGE - 1) & -PAGE;
            if (end > start) {
                assertEquals(0, f.space.copyFromUser(new byte[1], 0, end - 1, 1), "seed " + seed);
            }
            assertEquals(1, f.space.copyFromUser(new byte[1], 0, end, 1), "seed " + seed + ": nothing past the heap");
        }
    }
}
