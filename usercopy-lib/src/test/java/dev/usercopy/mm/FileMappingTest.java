package dev.usercopy.mm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.usercopy.mm.AddressSpace.PageState;
import dev.usercopy.mm.MemoryManager.ForkMode;
import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * File mappings of a file of two pages and 1000 bytes: MAP_PRIVATE reads
 * the file into private frames, MAP_SHARED writes back on msync; the rest
 * of the last page reads as zeros, pages wholly past the end are EFAULT.
 */
class FileMappingTest extends MmScenario {
    private static final int TAIL = 1000;
    private static final int SIZE = 2 * (int) PAGE + TAIL;
    private static final int RW = Prot.READ | Prot.WRITE;

    @TempDir
    Path dir;
    private Path file;
    private byte[] content;

    @BeforeEach
    void createFile() throws IOException {
        content = pattern(SIZE, 42);
        file = dir.resolve("data.bin");
        Files.write(file, content);
    }

    private byte[] onDisk() throws IOException {
        return Files.readAllBytes(file);
    }

    /** What a mapping of the whole file shows in its first three pages. */
    private byte[] expectedThreePages() {
        byte[] b = new byte[3 * (int) PAGE];
        System.arraycopy(content, 0, b, 0, SIZE);
        return b;
    }

    private static long openFds() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /**
     * A long-lived machine mapping file after file must not keep a
     * descriptor for every file it ever mapped (the fault-injection suite ran
     * out of them after 19,500 layouts): files no grant uses any more are
     * closed, the still-mapped ones stay open and readable.
     */
    @Test
    void filesNoLongerMappedDoNotKeepTheirDescriptors() throws IOException {
        machine();
        AddressSpace as = space();
        long kept = as.mmapFile(0, PAGE, Prot.READ, MapFlags.SHARED, file, 0);
        long before = openFds();
        for (int i = 0; i < 300; i++) {
            Path f = Files.write(dir.resolve("f" + i), pattern(100, i));
            int kind = i % 2 == 0 ? MapFlags.PRIVATE : MapFlags.SHARED;
            long a = as.mmapFile(0, PAGE, Prot.READ, kind, f, 0);
            assertArrayEquals(pattern(100, i), read(as, a, 100));
            as.munmap(a, PAGE);
        }
        long grown = openFds() - before;
        assertTrue(grown <= 64, grown + " descriptors more after mapping and unmapping 300 files");
        assertArrayEquals(slice(content, 0, 100), read(as, kept, 100), "the file still mapped still reads");
        check();
    }

    /** Closing unused caches must never close one another thread is about to map (found by review: EIO, or a CME). */
    @Test
    void mappingAFileWhileAnotherThreadCyclesThroughManyFilesKeepsItReadable() throws Exception {
        machine();
        AddressSpace a = space();
        AddressSpace b = space();
        Path[] others = new Path[80];
        for (int i = 0; i < others.length; i++) {
            others[i] = Files.write(dir.resolve("other" + i), filled(100, i | 1));
        }
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                for (int i = 0; !stop.get(); i++) {
                    b.munmap(b.mmapFile(0, PAGE, Prot.READ, MapFlags.PRIVATE, others[i % others.length], 0), PAGE);
                }
            } catch (Throwable e) {
                failed.compareAndSet(null, e);
            }
        });
        t.start();
        long deadline = System.nanoTime() + 1_500_000_000L;
        try {
            for (int round = 0; System.nanoTime() < deadline && failed.get() == null; round++) {
                long at = a.mmapFile(0, PAGE, Prot.READ, MapFlags.PRIVATE, file, 0);
                assertArrayEquals(slice(content, 0, 8), read(a, at, 8), "round " + round);
                a.munmap(at, PAGE);
            }
        } finally {
            stop.set(true);
            t.join();
        }
        if (failed.get() != null) {
            throw new AssertionError("the other thread's mappings failed", failed.get());
        }
        check();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(ints = {MapFlags.PRIVATE, MapFlags.SHARED})
    void aFileMappingReadsTheFileAndZerosAfterItsEndInTheLastPage(int kind) {
        machine();
        AddressSpace as = space();
        long a = as.mmapFile(BASE, 4 * PAGE, RW, kind, file, 0);
        check();
        assertBytes(expectedThreePages(), as, a);
        check();
        assertEquals(kind == MapFlags.SHARED ? PageState.SHARED : PageState.PRIVATE, as.pageState(a));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(ints = {MapFlags.PRIVATE, MapFlags.SHARED})
    void aPageWhollyPastTheEndOfTheFileIsEfaultWithTheExactCount(int kind) {
        machine();
        AddressSpace as = space();
        long a = as.mmapFile(BASE, 4 * PAGE, RW, kind, file, 0);
        byte[] buf = new byte[(int) PAGE];
        long start = a + 2 * PAGE + TAIL - 10;
        assertEquals(TAIL - 10, as.copyFromUser(buf, 0, start, buf.length), "everything from the page past the end");
        assertArrayEquals(slice(content, SIZE - 10, 10), slice(buf, 0, 10));
        assertArrayEquals(new byte[(int) PAGE - TAIL], slice(buf, 10, (int) PAGE - TAIL));
        check();
        assertEquals(TAIL - 10, as.copyToUser(start, buf, 0, buf.length));
        assertEquals(PAGE, as.copyFromUser(buf, 0, a + 3 * PAGE, buf.length));
        assertEquals(PageState.LAZY, as.pageState(a + 3 * PAGE), "a page past the end never becomes present");
        write(as, a + 3 * PAGE - 4, filled(4, 'x'));
        assertEquals(-Errno.EFAULT.number(), as.strncpyFromUser(buf, 0, a + 3 * PAGE - 4, 16), "a string running into it");
        check();
    }

    @Test
    void aPrivateFileMappingKeepsWritesPrivate() throws IOException {
        machine();
        AddressSpace as = space();
        long a = as.mmapFile(BASE, 3 * PAGE, RW, MapFlags.PRIVATE, file, 0);
        write(as, a + 10, filled(100, 0x11));
        write(as, a + 2 * PAGE + TAIL, filled(50, 0x22));
        check();
        assertArrayEquals(filled(100, 0x11), read(as, a + 10, 100));
        assertArrayEquals(filled(50, 0x22), read(as, a + 2 * PAGE + TAIL, 50), "bytes past the end can be written in memory");
        assertArrayEquals(slice(content, 110, 1000), read(as, a + 110, 1000));
        as.msync(a, 3 * PAGE);
        check();
        assertArrayEquals(content, onDisk(), "the file is unchanged");
        as.munmap(a, 3 * PAGE);
        check();
        assertArrayEquals(content, onDisk(), "the file is unchanged after munmap");
    }

    @Test
    void aPrivateFileMappingAtAnOffsetStartsThere() {
        machine();
        AddressSpace as = space();
        long a = as.mmapFile(BASE, 2 * PAGE, Prot.READ, MapFlags.PRIVATE, file, PAGE);
        assertBytes(slice(content, (int) PAGE, (int) PAGE + TAIL), as, a);
        assertArrayEquals(new byte[(int) PAGE - TAIL], read(as, a + PAGE + TAIL, (int) PAGE - TAIL));
        assertErrno(Errno.EINVAL, () -> as.mmapFile(0, PAGE, Prot.READ, MapFlags.PRIVATE, file, 100));
        check();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(ints = {MapFlags.PRIVATE, MapFlags.SHARED})
    void eachPartOfASplitFileMappingKeepsItsFileOffset(int kind) throws IOException {
        machine(small().withFaultAround(1));
        AddressSpace as = space();
        long a = as.mmapFile(BASE, 3 * PAGE, Prot.READ, kind, file, 0);
        as.munmap(a, PAGE);
        check();
        as.mprotect(a + 2 * PAGE, PAGE, RW);
        check();
        assertBytes(slice(content, 2 * (int) PAGE, TAIL), as, a + 2 * PAGE);
        assertBytes(slice(content, (int) PAGE, (int) PAGE), as, a + PAGE);
        write(as, a + 2 * PAGE, new byte[] {1, 2});
        assertEquals(1, as.copyToUser(a + PAGE, new byte[1], 0, 1), "the read-only part refuses its byte");
        assertBytes(new byte[] {1, 2}, as, a + 2 * PAGE);
        as.msync(a + PAGE, 2 * PAGE);
        check();
        byte[] want = content.clone();
        if (kind == MapFlags.SHARED) {
            want[2 * (int) PAGE] = 1;
            want[2 * (int) PAGE + 1] = 2;
        }
        assertArrayEquals(want, onDisk(), "msync writes at the part's own file offset");
    }

    @Test
    void aSharedFileMappingWritesReachTheFileAfterMsyncButNotPastItsEnd() throws IOException {
        machine();
        AddressSpace as = space();
        long a = as.mmapFile(BASE, 3 * PAGE, RW, MapFlags.SHARED, file, 0);
        assertBytes(expectedThreePages(), as, a);
        write(as, a + 5, filled(10, 0x33));
        write(as, a + 2 * PAGE + TAIL - 4, filled(8, 0x44));
        check();
        assertEquals(PageState.SHARED, as.pageState(a));

        as.msync(a, 3 * PAGE);
        check();
        byte[] want = content.clone();
        System.arraycopy(filled(10, 0x33), 0, want, 5, 10);
        System.arraycopy(filled(4, 0x44), 0, want, SIZE - 4, 4);
        assertArrayEquals(want, onDisk(), "the written bytes, and none past the end of the file");

        write(as, a + PAGE + 7, filled(3, 0x55));
        as.msync(a, 3 * PAGE);
        check();
        System.arraycopy(filled(3, 0x55), 0, want, (int) PAGE + 7, 3);
        assertArrayEquals(want, onDisk(), "a write after msync reaches the file at the next msync");
        write(as, a + 5, filled(1, 0x66));
        as.msync(a, 3 * PAGE);
        want[5] = 0x66;
        assertArrayEquals(want, onDisk(), "a page written again after msync is written back again");
        assertArrayEquals(filled(4, 0x44), read(as, a + 2 * PAGE + TAIL - 4, 4));
        check();
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void aSharedFileMappingStaysSharedAcrossFork(ForkMode mode) throws IOException {
        machine(small().withForkMode(mode));
        AddressSpace parent = space();
        long a = parent.mmapFile(BASE, 3 * PAGE, RW, MapFlags.SHARED, file, 0);
        writeByte(parent, a, 0x01);
        AddressSpace child = fork(parent);
        check();
        assertEquals(frame(parent, a + PAGE), frame(child, a + PAGE));
        assertEquals(PageState.SHARED, child.pageState(a + PAGE));
        assertEquals(0x01, readByte(child, a));

        writeByte(child, a + PAGE + 1, 0x02);
        check();
        assertEquals(0x02, readByte(parent, a + PAGE + 1), "child to parent");
        writeByte(parent, a + 2 * PAGE + 2, 0x03);
        check();
        assertEquals(0x03, readByte(child, a + 2 * PAGE + 2), "parent to child");

        child.msync(a, 3 * PAGE);
        check();
        parent.msync(a, 3 * PAGE);
        check();
        byte[] want = content.clone();
        want[0] = 0x01;
        want[(int) PAGE + 1] = 0x02;
        want[2 * (int) PAGE + 2] = 0x03;
        assertArrayEquals(want, onDisk());
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void msyncByEitherSideOfAForkWritesBackPagesTheOtherSideWrote(ForkMode mode) throws IOException {
        machine(small().withForkMode(mode));
        AddressSpace parent = space();
        long a = parent.mmapFile(BASE, 3 * PAGE, RW, MapFlags.SHARED, file, 0);
        AddressSpace child = fork(parent);
        check();
        writeByte(child, a + PAGE + 1, 0x02);
        check();
        parent.msync(a, 3 * PAGE);
        check();
        byte[] want = content.clone();
        want[(int) PAGE + 1] = 0x02;
        assertArrayEquals(want, onDisk(), "msync writes back the file's dirty pages, whoever dirtied them");
    }

    @Test
    void twoSharedMappingsOfOneFileSeeEachOthersWrites() {
        machine();
        AddressSpace as = space();
        long a = as.mmapFile(BASE, 3 * PAGE, RW, MapFlags.SHARED, file, 0);
        long b = as.mmapFile(BASE + 16 * PAGE, 3 * PAGE, RW, MapFlags.SHARED, file, 0);
        assertBytes(expectedThreePages(), as, b);
        writeByte(as, a + 7, 0x77);
        check();
        assertEquals(0x77, readByte(as, b + 7), "MAP_SHARED: both mappings are the same page of the file");
    }
}
