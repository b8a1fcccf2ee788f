package dev.usercopy.mm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.usercopy.mm.AddressSpace.PageState;
import dev.usercopy.mm.MemoryManager.ForkMode;
import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** MADV_DONTNEED: private pages are dropped and refilled on the next touch; shared content stays. */
class MadviseDontNeedTest extends MmScenario {
    private static final int RW = Prot.READ | Prot.WRITE;
    private static final int LEN = 8 * (int) PAGE;

    @Test
    void privateAnonymousPagesAreFreedAndReadBackAsZeros() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, LEN, RW, MapFlags.PRIVATE);
        byte[] data = pattern(LEN, 1);
        write(as, a, data);
        assertEquals(8, used());

        as.madviseDontNeed(a + 2 * PAGE, 2 * PAGE);
        check();
        assertEquals(6, used(), "two frames freed");
        assertEquals(PageState.LAZY, as.pageState(a + 2 * PAGE));
        assertArrayEquals(new byte[2 * (int) PAGE], read(as, a + 2 * PAGE, 2 * (int) PAGE));
        assertEquals(6, used(), "reading them back allocates nothing");
        assertBytes(slice(data, 0, 2 * (int) PAGE), as, a);
        assertBytes(slice(data, 4 * (int) PAGE, 4 * (int) PAGE), as, a + 4 * PAGE);

        as.madviseDontNeed(a, LEN);
        check();
        assertEquals(0, used());
        assertArrayEquals(new byte[LEN], read(as, a, LEN));
        write(as, a, filled(10, 3));
        check();
        assertArrayEquals(filled(10, 3), read(as, a, 10));
    }

    @Test
    void privateFilePagesReadBackTheFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("f");
        byte[] content = pattern(2 * (int) PAGE + 123, 7);
        Files.write(file, content);
        machine();
        AddressSpace as = space();
        long a = as.mmapFile(BASE, 3 * PAGE, RW, MapFlags.PRIVATE, file, 0);
        write(as, a, filled(3 * (int) PAGE, 0x5a));
        check();
        as.madviseDontNeed(a, 3 * PAGE);
        check();
        assertEquals(0, used());
        byte[] want = new byte[3 * (int) PAGE];
        System.arraycopy(content, 0, want, 0, content.length);
        assertArrayEquals(want, read(as, a, 3 * (int) PAGE), "the file's bytes again, and zeros after its end");
        assertArrayEquals(content, Files.readAllBytes(file));
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void sharedAnonymousContentIsKept(ForkMode mode) {
        machine(small().withForkMode(mode));
        AddressSpace as = space();
        long a = as.mmap(BASE, LEN, RW, MapFlags.SHARED);
        write(as, a, pattern(LEN, 2));
        AddressSpace child = fork(as);
        check();
        long before = used();
        child.madviseDontNeed(a, LEN);
        check();
        as.madviseDontNeed(a, LEN);
        check();
        assertEquals(before, used());
        assertBytes(pattern(LEN, 2), as, a);
        assertBytes(pattern(LEN, 2), child, a);
        writeByte(child, a, 0x7e);
        assertEquals(0x7e, readByte(as, a), "still one frame after madvise");
    }

    @Test
    void sharedFileContentWrittenButNotSyncedIsKept(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("g");
        Files.write(file, pattern((int) PAGE, 8));
        machine();
        AddressSpace as = space();
        long a = as.mmapFile(BASE, PAGE, RW, MapFlags.SHARED, file, 0);
        write(as, a, filled(16, 0x21));
        as.madviseDontNeed(a, PAGE);
        check();
        assertArrayEquals(filled(16, 0x21), read(as, a, 16));
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void inAForkedChildItDropsOnlyTheChildsView(ForkMode mode) {
        machine(small().withForkMode(mode));
        AddressSpace parent = space();
        long a = parent.mmap(BASE, LEN, RW, MapFlags.PRIVATE);
        write(parent, a, pattern(LEN, 3));
        AddressSpace child = fork(parent);
        check();
        writeByte(child, a, 1);
        check();
        assertEquals(9, used());
        child.madviseDontNeed(a, LEN);
        check();
        assertEquals(8, used(), "the child's copy is freed, the parent's frames stay");
        assertArrayEquals(new byte[LEN], read(child, a, LEN), "the child reads zeros");
        assertBytes(pattern(LEN, 3), parent, a);
        write(parent, a, filled(LEN, 4));
        check();
        assertEquals(8, used(), "the parent is the last owner again and writes in place");
    }

    @Test
    void overAHoleItIsEnomem() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 4 * PAGE, RW, MapFlags.PRIVATE);
        assertErrno(Errno.ENOMEM, () -> as.madviseDontNeed(a, 8 * PAGE));
        check();
    }
}
