package dev.usercopy.mm;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.usercopy.mm.MemoryManager.ForkMode;
import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A machine of 64 allocatable frames: running out is ENOMEM, never a half-done change. */
class OutOfFramesTest extends MmScenario {
    private static final int FRAMES = 64;
    private static final int RW = Prot.READ | Prot.WRITE;

    private static MemoryManager.Config tiny() {
        return small().withFrames(MemoryManager.ZERO_RUN + 16 + FRAMES);
    }

    private static void assertOutOfFrames(ErrnoException e) {
        assertTrue(e.getMessage().contains("out of physical frames"), e.getMessage());
    }

    @Test
    void touchingMorePagesThanThereAreFramesIsEnomemNamingTheShortage() {
        machine(tiny());
        assertEquals(FRAMES, mm.stats().frames());
        AddressSpace as = space();
        long a = as.mmap(BASE, 2 * FRAMES * PAGE, RW, MapFlags.PRIVATE);
        byte[] data = pattern(2 * FRAMES * (int) PAGE, 1);
        ErrnoException e = assertErrno(Errno.ENOMEM, () -> as.copyToUser(a, data, 0, data.length));
        assertOutOfFrames(e);
        check();
        assertEquals(FRAMES, used(), "every frame is in use");
        assertBytes(slice(data, 0, FRAMES * (int) PAGE), as, a);
        assertArrayEquals(new byte[(int) PAGE], read(as, a + FRAMES * PAGE, (int) PAGE), "reads need no frame");
        assertOutOfFrames(assertErrno(Errno.ENOMEM, () -> as.clearUser(a + FRAMES * PAGE, 1)));
        check();
    }

    @Test
    void afterFreeingMemoryTheAddressSpaceWorksAgain() {
        machine(tiny());
        AddressSpace as = space();
        long a = as.mmap(BASE, 2 * FRAMES * PAGE, RW, MapFlags.PRIVATE);
        assertErrno(Errno.ENOMEM, () -> as.copyToUser(a, new byte[2 * FRAMES * (int) PAGE], 0, 2 * FRAMES * (int) PAGE));
        check();
        as.munmap(a, 16 * PAGE);
        check();
        assertEquals(FRAMES - 16, used());
        write(as, a + FRAMES * PAGE, filled(16 * (int) PAGE, 9));
        check();
        assertEquals(FRAMES, used());
        assertArrayEquals(filled(16 * (int) PAGE, 9), read(as, a + FRAMES * PAGE, 16 * (int) PAGE));
        as.madviseDontNeed(a + 16 * PAGE, 8 * PAGE);
        check();
        write(as, a + (FRAMES + 16) * PAGE, filled(8 * (int) PAGE, 10));
        check();
        assertEquals(FRAMES, used());
    }

    @Test
    void aPopulateThatCannotBeSatisfiedLeavesNoGrantAndNoFrames() {
        machine(tiny());
        AddressSpace as = space();
        long a = as.mmap(BASE, 10 * PAGE, RW, MapFlags.PRIVATE);
        write(as, a, filled(10 * (int) PAGE, 1));
        assertEquals(10, used());
        ErrnoException e = assertErrno(Errno.ENOMEM,
                () -> as.mmap(BASE + 64 * PAGE, 100 * PAGE, RW, MapFlags.PRIVATE | MapFlags.POPULATE));
        assertOutOfFrames(e);
        check();
        assertEquals(List.of(new Grant(a / PAGE, 10, RW, Provider.Allocated.ANONYMOUS)), as.grants());
        assertEquals(10, used(), "the frames the populate took are given back");
        assertEquals(PAGE, as.copyFromUser(new byte[(int) PAGE], 0, BASE + 64 * PAGE, (int) PAGE), "nothing is mapped there");

        long b = as.mmap(BASE + 64 * PAGE, 54 * PAGE, RW, MapFlags.PRIVATE | MapFlags.POPULATE);
        check();
        assertEquals(FRAMES, used(), "a populate that fits takes every page's frame at once");
        write(as, b, filled(54 * (int) PAGE, 2));
        assertEquals(FRAMES, used());
        check();
    }

    @Test
    void aSharedPopulateThatCannotBeSatisfiedLeavesNoGrant() {
        machine(tiny());
        AddressSpace as = space();
        assertErrno(Errno.ENOMEM, () -> as.mmap(BASE, (FRAMES + 1) * PAGE, RW, MapFlags.SHARED | MapFlags.POPULATE));
        check();
        assertEquals(List.of(), as.grants());
        assertEquals(0, used());
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void aCopyOnWriteBreakWithNoFrameLeftIsEnomemAndChangesNothing(ForkMode mode) {
        machine(tiny().withForkMode(mode));
        AddressSpace parent = space();
        long a = parent.mmap(BASE, FRAMES * PAGE, RW, MapFlags.PRIVATE);
        byte[] data = pattern(FRAMES * (int) PAGE, 3);
        write(parent, a, data);
        AddressSpace child = fork(parent);
        check();
        assertOutOfFrames(assertErrno(Errno.ENOMEM, () -> child.copyToUser(a + 5 * PAGE, new byte[] {1}, 0, 1)));
        check();
        assertBytes(data, parent, a);
        assertBytes(data, child, a);
        assertOutOfFrames(assertErrno(Errno.ENOMEM, () -> parent.copyToUser(a + 6 * PAGE, new byte[] {1}, 0, 1)));
        check();

        child.close();
        check();
        write(parent, a, filled(FRAMES * (int) PAGE, 4));
        check();
        assertEquals(FRAMES, used(), "the last owner needs no new frame");
    }

    @Test
    void aForkThatCannotGiveASharedMappingItsFramesFailsAndCreatesNoChild() {
        machine(tiny());
        AddressSpace parent = space();
        long s = parent.mmap(BASE, (FRAMES + 8) * PAGE, RW, MapFlags.SHARED);
        writeByte(parent, s, 1);
        assertErrno(Errno.ENOMEM, () -> parent.fork());
        check();
        assertEquals(1, mm.stats().addressSpaces());
        assertEquals(1, readByte(parent, s));
        parent.munmap(s + FRAMES * PAGE, 8 * PAGE);
        check();
        AddressSpace child = fork(parent);
        check();
        writeByte(child, s + PAGE, 2);
        check();
        assertEquals(2, readByte(parent, s + PAGE));
    }

    @Test
    void aCopyThatRunsOutOfFramesReportsHowManyBytesItCopied() {
        machine(tiny());
        AddressSpace as = space();
        long a = as.mmap(BASE, 2 * FRAMES * PAGE, RW, MapFlags.PRIVATE);
        byte[] data = pattern(2 * FRAMES * (int) PAGE, 5);
        ErrnoException e = assertErrno(Errno.ENOMEM, () -> as.copyToUser(a + 100, data, 0, data.length));
        check();
        assertEquals(FRAMES * PAGE - 100, e.done(), "ErrnoException.done(): the bytes copied before the failure; " + e.getMessage());
    }
}
