package dev.usercopy.mm;

import java.util.Arrays;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class DemandPagingTest {
    private static final long PAGE = AddressSpace.PAGE;
    private MemoryManager mm;

    @BeforeEach
    void create() {
        mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(8192).withAddressSpaceSize(1L << 30));
    }

    @AfterEach
    void close() {
        mm.checkInvariants();
        mm.close();
    }

    @Test
    void aReadOfALazyPageMapsTheZeroedFrameAndAllocatesNothing() {
        try (AddressSpace as = mm.newAddressSpace()) {
            long a = as.mmap(0, 64 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
            long used = mm.stats().usedFrames();
            byte[] buf = new byte[100];
            Arrays.fill(buf, (byte) 1);
            assertEquals(0, as.copyFromUser(buf, 0, a + 5 * PAGE + 10, 100));
            assertArrayEquals(new byte[100], buf);
            assertEquals(used, mm.stats().usedFrames());
            assertEquals(AddressSpace.PageState.ZEROED, as.pageState(a + 5 * PAGE));
            assertEquals(AddressSpace.PageState.ZEROED, as.pageState(a + 15 * PAGE), "fault-around maps the aligned window");
            assertEquals(AddressSpace.PageState.LAZY, as.pageState(a + 16 * PAGE));
            mm.checkInvariants();
        }
    }

    @Test
    void aWriteAllocatesTheWindowAndCopiesResumeAcrossPages() {
        try (AddressSpace as = mm.newAddressSpace()) {
            long a = as.mmap(0, 64 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
            byte[] data = new byte[40 * (int) PAGE];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 7);
            }
            assertEquals(0, as.copyToUser(a + 3, data, 0, data.length));
            byte[] back = new byte[data.length];
            assertEquals(0, as.copyFromUser(back, 0, a + 3, back.length));
            assertArrayEquals(data, back);
            assertEquals(AddressSpace.PageState.PRIVATE, as.pageState(a));
            mm.checkInvariants();
            byte[] big = new byte[(int) PAGE];
            assertEquals(PAGE - 10, as.copyToUser(a + 64 * PAGE - 10, big, 0, big.length), "stops at the end of the grant");
        }
    }

    @Test
    void forkIsCopyOnWriteBothWays() {
        try (AddressSpace parent = mm.newAddressSpace()) {
            long a = parent.mmap(0, 32 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
            parent.copyToUser(a, new byte[] {1, 2, 3}, 0, 3);
            long frame = parent.frameOf(a)[0];
            try (AddressSpace child = parent.fork()) {
                mm.checkInvariants();
                assertEquals(AddressSpace.PageState.COW_SHARED, child.pageState(a));
                assertEquals(frame, child.frameOf(a)[0]);
                child.copyToUser(a, new byte[] {9}, 0, 1);
                mm.checkInvariants();
                byte[] p = new byte[3];
                byte[] c = new byte[3];
                parent.copyFromUser(p, 0, a, 3);
                child.copyFromUser(c, 0, a, 3);
                assertArrayEquals(new byte[] {1, 2, 3}, p);
                assertArrayEquals(new byte[] {9, 2, 3}, c);
                parent.copyToUser(a + 1, new byte[] {7}, 0, 1);
                assertEquals(frame, parent.frameOf(a)[0], "the last owner keeps its frame without a copy");
                parent.copyFromUser(p, 0, a, 3);
                child.copyFromUser(c, 0, a, 3);
                assertArrayEquals(new byte[] {1, 7, 3}, p);
                assertArrayEquals(new byte[] {9, 2, 3}, c);
                mm.checkInvariants();
            }
            mm.checkInvariants();
        }
    }

    @Test
    void noGrantIsEfaultWithTheExactCount() {
        try (AddressSpace as = mm.newAddressSpace()) {
            long a = as.mmap(0, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
            as.munmap(a + PAGE, PAGE);
            assertEquals(100, as.copyToUser(a + PAGE - 50, new byte[150], 0, 150));
            assertEquals(100, as.copyFromUser(new byte[150], 0, a + PAGE - 50, 150));
            assertNull(as.frameOf(a + PAGE));
        }
    }

    /** Fills 64 pages with 0xFF, unmaps them (their frames go back), and maps 64 fresh pages. */
    private static long recycle(AddressSpace as) {
        long a = as.mmap(0, 64 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        byte[] ff = new byte[(int) (64 * PAGE)];
        Arrays.fill(ff, (byte) 0xFF);
        assertEquals(0, as.copyToUser(a, ff, 0, ff.length));
        as.munmap(a, 64 * PAGE);
        return as.mmap(0, 64 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
    }

    private static void assertOnlyTheWrittenBytes(AddressSpace as, long a) {
        byte[] back = new byte[(int) (64 * PAGE)];
        assertEquals(0, as.copyFromUser(back, 0, a, back.length));
        for (int i = 0; i < back.length; i++) {
            assertEquals(i % PAGE == 0 ? 1 : 0, back[i], "byte " + i + " of a page whose frame was used before");
        }
    }

    /** A machine with exactly 64 frames to allocate, so the second 64 pages must reuse the first 64's frames. */
    private static MemoryManager sixtyFourFrames() {
        return new MemoryManager(MemoryManager.Config.defaults().withFrames(MemoryManager.ZERO_RUN + 16 + 64).withAddressSpaceSize(1L << 30));
    }

    @Test
    void aFrameUsedBeforeReadsAsZerosWhenAWriteAllocatesIt() {
        try (MemoryManager small = sixtyFourFrames(); AddressSpace as = small.newAddressSpace()) {
            long a = recycle(as);
            for (int p = 0; p < 64; p++) {
                assertEquals(0, as.copyToUser(a + p * PAGE, new byte[] {1}, 0, 1));
            }
            assertOnlyTheWrittenBytes(as, a);
        }
    }

    @Test
    void aFrameUsedBeforeReadsAsZerosWhenAWriteReplacesTheZeroedFrame() {
        try (MemoryManager small = sixtyFourFrames(); AddressSpace as = small.newAddressSpace()) {
            long a = recycle(as);
            assertEquals(0, as.copyFromUser(new byte[(int) (64 * PAGE)], 0, a, (int) (64 * PAGE))); // zeroed frames now
            for (int p = 0; p < 64; p++) {
                assertEquals(0, as.copyToUser(a + p * PAGE, new byte[] {1}, 0, 1));
            }
            assertOnlyTheWrittenBytes(as, a);
        }
    }
}
