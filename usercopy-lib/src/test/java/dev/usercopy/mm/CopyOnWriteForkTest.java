package dev.usercopy.mm;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.usercopy.mm.AddressSpace.PageState;
import dev.usercopy.mm.MemoryManager.ForkMode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Copy-on-write after fork, step by step, in both fork modes: who sees
 * which bytes, which frames are shared, when a write copies and when the
 * last owner keeps its frame.
 */
class CopyOnWriteForkTest extends MmScenario {
    private static final int PAGES = 8;
    private static final int LEN = PAGES * (int) PAGE;

    private AddressSpace parent;
    private long a;
    private long[] frames;

    /** A parent whose private grant of 8 pages holds pattern 1 in frames of its own. */
    private void setUp(ForkMode mode) {
        machine(small().withForkMode(mode));
        parent = space();
        a = parent.mmap(BASE, LEN, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        write(parent, a, pattern(LEN, 1));
        check();
        assertEquals(PAGES, used());
        frames = new long[PAGES];
        for (int p = 0; p < PAGES; p++) {
            frames[p] = frame(parent, a + p * PAGE);
            assertEquals(1, refcount(parent, a + p * PAGE));
        }
    }

    private long at(int page) {
        return a + page * PAGE;
    }

    /** Right after fork: as many references as page-table leaves hold the frame. */
    private static long refsRightAfterFork(ForkMode mode, int spaces) {
        return mode == ForkMode.SHARED_TABLES ? 1 : spaces;
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void forkSharesEveryFrameAndAWriteCopiesOnlyTheWrittenPage(ForkMode mode) {
        setUp(mode);
        byte[] original = pattern(LEN, 1);
        AddressSpace child = fork(parent);
        check();
        assertEquals(PAGES, used(), "fork copies no page");
        for (int p = 0; p < PAGES; p++) {
            assertEquals(frames[p], frame(child, at(p)), "child page " + p + " maps the parent's frame");
            assertEquals(refsRightAfterFork(mode, 2), refcount(child, at(p)));
            assertEquals(PageState.COW_SHARED, child.pageState(at(p)));
            assertEquals(PageState.COW_SHARED, parent.pageState(at(p)));
        }
        assertBytes(original, child, a);

        writeByte(child, at(0) + 10, 0xc0);
        check();
        assertEquals(PAGES + 1, used(), "one page copied");
        assertNotEquals(frames[0], frame(child, at(0)), "the writer gets a copy");
        assertEquals(frames[0], frame(parent, at(0)), "the other side keeps the original");
        assertEquals(1, refcount(child, at(0)));
        assertEquals(1, refcount(parent, at(0)));
        assertEquals(PageState.PRIVATE, child.pageState(at(0)));
        assertEquals(PageState.PRIVATE, parent.pageState(at(0)), "its only other user has copied it");
        for (int p = 1; p < PAGES; p++) {
            assertEquals(frames[p], frame(child, at(p)));
            assertEquals(2, refcount(parent, at(p)), "page " + p + " still shared by two page tables");
            assertEquals(PageState.COW_SHARED, child.pageState(at(p)));
            assertEquals(PageState.COW_SHARED, parent.pageState(at(p)));
        }
        assertEquals(original[10], (byte) readByte(parent, at(0) + 10), "the parent does not see the child's write");
        assertEquals((byte) 0xc0, (byte) readByte(child, at(0) + 10));
        assertBytes(slice(original, 11, LEN - 11), child, at(0) + 11);

        writeByte(parent, at(1) + 20, 0xa1);
        check();
        assertEquals(PAGES + 2, used());
        assertNotEquals(frames[1], frame(parent, at(1)));
        assertEquals(frames[1], frame(child, at(1)));
        assertEquals(original[(int) PAGE + 20], (byte) readByte(child, at(1) + 20), "the child does not see the parent's write");
        assertEquals(PageState.PRIVATE, child.pageState(at(1)), "the child is the frame's last owner");

        writeByte(child, at(1) + 30, 0xc1);
        check();
        assertEquals(frames[1], frame(child, at(1)), "the last owner writes in place, no copy");
        assertEquals(PAGES + 2, used());
        assertEquals(original[(int) PAGE + 30], (byte) readByte(parent, at(1) + 30));

        assertEquals(0, child.clearUser(at(2), PAGE), "clearUser breaks copy-on-write like any write");
        check();
        assertEquals(PAGES + 3, used());
        assertBytes(slice(original, 2 * (int) PAGE, (int) PAGE), parent, at(2));
        assertBytes(new byte[(int) PAGE], child, at(2));
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void whenTheChildClosesTheParentKeepsItsFramesAndWritesInPlace(ForkMode mode) {
        setUp(mode);
        AddressSpace child = fork(parent);
        check();
        writeByte(child, at(3), 33);
        check();
        assertEquals(PAGES + 1, used());

        child.close();
        check();
        assertEquals(PAGES, used(), "the child's copy is freed, the shared frames stay");
        for (int p = 0; p < PAGES; p++) {
            assertEquals(PageState.PRIVATE, parent.pageState(at(p)), "page " + p);
            assertEquals(1, refcount(parent, at(p)));
        }
        write(parent, a, pattern(LEN, 2));
        check();
        for (int p = 0; p < PAGES; p++) {
            assertEquals(frames[p], frame(parent, at(p)), "page " + p + " written in place");
        }
        assertEquals(PAGES, used());
        assertBytes(pattern(LEN, 2), parent, a);
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void whenTheParentClosesTheChildKeepsTheFramesAndWritesInPlace(ForkMode mode) {
        setUp(mode);
        AddressSpace child = fork(parent);
        check();
        parent.close();
        check();
        assertEquals(PAGES, used());
        assertBytes(pattern(LEN, 1), child, a);
        write(child, a, pattern(LEN, 3));
        check();
        for (int p = 0; p < PAGES; p++) {
            assertEquals(frames[p], frame(child, at(p)), "page " + p + " written in place");
            assertEquals(PageState.PRIVATE, child.pageState(at(p)));
        }
        assertEquals(PAGES, used());
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void closingTheChildFreesTheFramesItCopied(ForkMode mode) {
        setUp(mode);
        AddressSpace child = fork(parent);
        check();
        write(child, at(1), filled(3 * (int) PAGE, 0x77));
        check();
        assertEquals(PAGES + 3, used());
        child.close();
        check();
        assertEquals(PAGES, used());
        assertBytes(pattern(LEN, 1), parent, a);
        for (int p = 0; p < PAGES; p++) {
            assertEquals(frames[p], frame(parent, at(p)));
        }
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void unmappingInOneSideLeavesTheOtherIntact(ForkMode mode) {
        setUp(mode);
        AddressSpace child = fork(parent);
        check();
        parent.munmap(at(2), 4 * PAGE);
        check();
        assertEquals(PAGES, used(), "the child still holds the unmapped pages");
        assertBytes(pattern(LEN, 1), child, a);
        assertEquals(PageState.UNMAPPED, parent.pageState(at(3)));
        writeByte(child, at(3), 1);
        check();
        assertEquals(frames[3], frame(child, at(3)), "the child became the last owner");
        assertEquals(PAGES, used());
        child.munmap(a, LEN);
        check();
        assertEquals(4, used(), "pages 0, 1, 6 and 7 are the parent's alone now");
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void lazyAndZeroedPagesAreFilledSeparatelyOnEachSide(ForkMode mode) {
        machine(small().withForkMode(mode).withFaultAround(16));
        parent = space();
        a = parent.mmap(BASE, 32 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        read(parent, a, 1);
        assertEquals(PageState.ZEROED, parent.pageState(at(15)));
        assertEquals(PageState.LAZY, parent.pageState(at(16)));
        AddressSpace child = fork(parent);
        check();
        assertEquals(0, used());
        assertEquals(PageState.ZEROED, child.pageState(at(15)));
        assertEquals(PageState.LAZY, child.pageState(at(16)));

        writeByte(child, at(20), 20);
        check();
        assertEquals(16, used(), "the child's write fills its window, in the child only");
        assertEquals(PageState.LAZY, parent.pageState(at(20)));
        assertEquals(0, readByte(parent, at(20)));
        writeByte(child, at(3), 3);
        check();
        assertEquals(17, used());
        assertEquals(PageState.ZEROED, parent.pageState(at(3)));
        assertEquals(0, readByte(parent, at(3)));
        writeByte(parent, at(3), 4);
        check();
        assertEquals(18, used());
        assertEquals(3, readByte(child, at(3)));
        assertEquals(4, readByte(parent, at(3)));
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void withThreeSharersTwoWritersCopyAndTheThirdKeepsTheFrame(ForkMode mode) {
        setUp(mode);
        AddressSpace child = fork(parent);
        check();
        AddressSpace sibling = fork(parent);
        check();
        AddressSpace grandchild = fork(child);
        check();
        assertEquals(refsRightAfterFork(mode, 4), refcount(grandchild, at(0)));
        assertEquals(PAGES, used());

        writeByte(child, at(0), 1);
        check();
        writeByte(parent, at(0), 2);
        check();
        writeByte(grandchild, at(0), 3);
        check();
        assertEquals(PAGES + 3, used());
        assertEquals(frames[0], frame(sibling, at(0)), "the sibling never wrote and kept the original");
        assertEquals(1, refcount(sibling, at(0)));
        assertEquals(PageState.PRIVATE, sibling.pageState(at(0)));
        writeByte(sibling, at(0), 4);
        check();
        assertEquals(frames[0], frame(sibling, at(0)), "the last owner writes in place");
        assertEquals(PAGES + 3, used());
        assertEquals(2, readByte(parent, at(0)));
        assertEquals(1, readByte(child, at(0)));
        assertEquals(4, readByte(sibling, at(0)));
        assertEquals(3, readByte(grandchild, at(0)));
        assertBytes(slice(pattern(LEN, 1), 1, LEN - 1), grandchild, at(0) + 1);

        child.close();
        check();
        assertEquals(PAGES + 2, used(), "the child's copy of page 0 went with it");
        assertEquals(1, child.copyFromUser(new byte[1], 0, at(0), 1), "a closed address space copies nothing");
        assertEquals(3, readByte(grandchild, at(0)), "the grandchild outlives its parent");
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void makingAPageWritableAgainAfterForkStillCopiesOnWrite(ForkMode mode) {
        setUp(mode);
        parent.mprotect(a, LEN, Prot.READ);
        check();
        AddressSpace child = fork(parent);
        check();
        child.mprotect(a, LEN, Prot.READ | Prot.WRITE);
        check();
        writeByte(child, at(5), 0x55);
        check();
        assertEquals(PAGES + 1, used());
        assertNotEquals(frames[5], frame(child, at(5)));
        assertEquals(pattern(LEN, 1)[5 * (int) PAGE], (byte) readByte(parent, at(5)), "the parent's read-only page is unchanged");
        assertEquals(1, parent.copyToUser(at(5), new byte[1], 0, 1), "the parent's grant is still read-only");
    }
}
