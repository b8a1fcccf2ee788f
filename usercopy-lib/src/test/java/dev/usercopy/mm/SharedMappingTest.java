package dev.usercopy.mm;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.usercopy.mm.AddressSpace.PageState;
import dev.usercopy.mm.MemoryManager.ForkMode;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** MAP_SHARED | MAP_ANONYMOUS: one set of frames for every address space forked from the mapper. */
class SharedMappingTest extends MmScenario {
    private static final int PAGES = 8;
    private static final int LEN = PAGES * (int) PAGE;

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void aSharedAnonymousMappingStaysSharedBothWaysIncludingPagesNeverTouchedBeforeFork(ForkMode mode) {
        machine(small().withForkMode(mode));
        AddressSpace parent = space();
        long s = parent.mmap(BASE, LEN, Prot.READ | Prot.WRITE, MapFlags.SHARED);
        long p = parent.mmap(BASE + 2 * LEN, LEN, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        writeByte(parent, s, 0x10);
        write(parent, p, filled(LEN, 0x20));
        check();
        assertEquals(PageState.SHARED, parent.pageState(s));

        AddressSpace child = fork(parent);
        check();
        for (int i = 0; i < PAGES; i++) {
            assertEquals(PageState.SHARED, child.pageState(s + i * PAGE), "page " + i);
            assertEquals(frame(parent, s + i * PAGE), frame(child, s + i * PAGE), "page " + i + " is one frame for both");
        }
        assertEquals(0x10, readByte(child, s));

        writeByte(child, s + 1, 0x11);
        check();
        assertEquals(0x11, readByte(parent, s + 1), "child to parent, on a page written before fork");
        writeByte(parent, s + 5 * PAGE, 0x15);
        check();
        assertEquals(0x15, readByte(child, s + 5 * PAGE), "parent to child, on a page never touched before fork");
        writeByte(child, s + 7 * PAGE + 99, 0x17);
        check();
        assertEquals(0x17, readByte(parent, s + 7 * PAGE + 99), "child to parent, on a page never touched before fork");

        long usedBefore = used();
        writeByte(child, p, 0x21);
        check();
        assertEquals(0x20, readByte(parent, p), "the private mapping next to it is still copy-on-write");
        assertEquals(usedBefore + 1, used());
        for (int i = 0; i < PAGES; i++) {
            assertEquals(frame(parent, s + i * PAGE), frame(child, s + i * PAGE), "no shared page was copied: " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void aSharedMappingNeverTouchedBeforeForkIsSharedWithAGrandchildToo(ForkMode mode) {
        machine(small().withForkMode(mode));
        AddressSpace parent = space();
        long s = parent.mmap(BASE, LEN, Prot.READ | Prot.WRITE, MapFlags.SHARED);
        AddressSpace child = fork(parent);
        check();
        assertEquals(PAGES, used(), "fork gave the shared mapping its frames once, for both");
        AddressSpace grandchild = fork(child);
        check();
        assertEquals(PAGES, used());

        writeByte(grandchild, s + 3 * PAGE, 3);
        check();
        writeByte(parent, s + 4 * PAGE, 4);
        check();
        writeByte(child, s + 6 * PAGE, 6);
        check();
        for (AddressSpace as : new AddressSpace[] {parent, child, grandchild}) {
            assertEquals(3, readByte(as, s + 3 * PAGE));
            assertEquals(4, readByte(as, s + 4 * PAGE));
            assertEquals(6, readByte(as, s + 6 * PAGE));
            assertEquals(0, readByte(as, s + 7 * PAGE));
        }
        assertEquals(PAGES, used());

        parent.close();
        check();
        child.close();
        check();
        assertEquals(PAGES, used(), "the grandchild still maps every frame");
        writeByte(grandchild, s + 4 * PAGE + 1, 41);
        assertEquals(4, readByte(grandchild, s + 4 * PAGE));
        assertEquals(41, readByte(grandchild, s + 4 * PAGE + 1));
        check();
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void aReadOnlyViewInTheChildStillSeesTheParentsWrites(ForkMode mode) {
        machine(small().withForkMode(mode));
        AddressSpace parent = space();
        long s = parent.mmap(BASE, LEN, Prot.READ | Prot.WRITE, MapFlags.SHARED);
        AddressSpace child = fork(parent);
        check();
        child.mprotect(s, LEN, Prot.READ);
        check();
        assertEquals(LEN, child.copyToUser(s, filled(LEN, 1), 0, LEN), "the child may not write");
        write(parent, s, pattern(LEN, 9));
        check();
        assertBytes(pattern(LEN, 9), child, s);
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void unmappingASharedMappingInTheParentLeavesTheChildsFrames(ForkMode mode) {
        machine(small().withForkMode(mode));
        AddressSpace parent = space();
        long s = parent.mmap(BASE, LEN, Prot.READ | Prot.WRITE, MapFlags.SHARED);
        write(parent, s, pattern(LEN, 4));
        check();
        AddressSpace child = fork(parent);
        check();
        parent.munmap(s, LEN);
        check();
        assertEquals(PAGES, used());
        assertBytes(pattern(LEN, 4), child, s);
        child.munmap(s + 2 * PAGE, 2 * PAGE);
        check();
        assertEquals(PAGES - 2, used());
    }
}
