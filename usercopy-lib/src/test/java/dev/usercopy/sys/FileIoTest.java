package dev.usercopy.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.HostFiles;
import dev.usercopy.platform.Posix;
import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * read, write, readv, writev, pread64, pwrite64 against the host kernel:
 * each case runs on a guest buffer and on native memory of the same shape
 * (a page mapped, the next PROT_NONE or read-only), and the two must give
 * the same count or errno, the same bytes, and leave the same bytes behind
 * in a pipe. These fail if the data path reads into a kernel buffer and
 * copies afterwards (a pipe's bytes would be consumed on EFAULT).
 */
class FileIoTest extends SysScenario {
    private static final int READ = 0, WRITE = 1, PREAD = 17, PWRITE = 18, READV = 19, WRITEV = 20;

    private static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + 3);
        }
        return b;
    }

    /** Native: [rw page][PROT_NONE page]; returns its base. */
    private static long nativeHalf(int secondProt) {
        long n = nativePages(2);
        Posix.mprotect(n + PAGE, PAGE, secondProt);
        return n;
    }

    /** Guest: [rw page][unmapped page] at BUF. */
    private void guestHalf() {
        as.mmap(BUF, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
    }

    private static void hostWrite(int fd, byte[] b) {
        long n = nativePages(Math.max(1, (b.length + (int) PAGE - 1) / (int) PAGE));
        try {
            Posix.segment(n, b.length).copyFrom(java.lang.foreign.MemorySegment.ofArray(b));
            assertEquals(b.length, HostFiles.write(fd, n, b.length));
        } finally {
            Posix.munmap(n, ((b.length + PAGE - 1) / PAGE) * PAGE);
        }
    }

    private static byte[] hostDrain(int fd, int max) {
        long n = nativePages(Math.max(1, (max + (int) PAGE - 1) / (int) PAGE));
        try {
            long got = HostFiles.read(fd, n, max);
            return got <= 0 ? new byte[0] : Posix.segment(n, got).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        } finally {
            Posix.munmap(n, ((max + PAGE - 1) / PAGE) * PAGE);
        }
    }

    private Path file(String name, byte[] content) throws IOException {
        Path p = root.resolve(name);
        Files.write(p, content);
        return p;
    }

    private int openGuest(String path, int flags) {
        long fd = call(257, HostFiles.AT_FDCWD, str(path), flags, 0644);
        assertEquals(true, fd >= 0, path + ": " + Errno.nameOf((int) -fd));
        return (int) fd;
    }

    @Test
    void pipeReadIntoAnUnmappedBufferIsEfaultAndLeavesTheBytesInThePipe() {
        int[] guestPipe = pipe();
        int[] hostPipe = pipe();
        long n = nativeHalf(Posix.PROT_NONE);
        try {
            int g = install(guestPipe[0], HostFiles.O_RDONLY);
            hostWrite(guestPipe[1], "hello".getBytes());
            hostWrite(hostPipe[1], "hello".getBytes());
            long host = HostFiles.read(hostPipe[0], n + PAGE, 5);
            long guest = call(READ, g, BUF + PAGE, 5); // BUF + PAGE: nothing mapped there
            assertEquals(err(Errno.EFAULT), host);
            assertEquals(host, guest);
            assertArrayEquals("hello".getBytes(), hostDrain(guestPipe[0], 64), "the bytes stay in the pipe");
            assertArrayEquals("hello".getBytes(), hostDrain(hostPipe[0], 64));
        } finally {
            Posix.munmap(n, 2 * PAGE);
            HostFiles.close(guestPipe[1]);
            HostFiles.close(hostPipe[0]);
            HostFiles.close(hostPipe[1]);
        }
    }

    /**
     * Linux's pipe_read copies a pipe buffer at a time and answers EFAULT
     * when one lands only partly (nothing counted, nothing consumed), even
     * though the bytes before the hole were written: the host says so too.
     */
    @Test
    void pipeReadAcrossIntoAnUnmappedPageIsEfaultWithEveryByteLeftInThePipe() {
        guestHalf();
        int[] guestPipe = pipe();
        int[] hostPipe = pipe();
        long n = nativeHalf(Posix.PROT_NONE);
        byte[] data = pattern(6000);
        try {
            int g = install(guestPipe[0], HostFiles.O_RDONLY);
            hostWrite(guestPipe[1], data);
            hostWrite(hostPipe[1], data);
            long host = HostFiles.read(hostPipe[0], n + 100, 6000);
            long guest = call(READ, g, BUF + 100, 6000);
            assertEquals(err(Errno.EFAULT), host);
            assertEquals(host, guest);
            assertArrayEquals(hostDrain(hostPipe[0], 8192), hostDrain(guestPipe[0], 8192), "what is left in the pipe");
            // Into the mapped page only: the whole of the first pipe buffer would not fit either.
            hostWrite(guestPipe[1], "abc".getBytes());
            assertEquals(3, call(READ, g, BUF + PAGE - 3, 6000));
            assertArrayEquals("abc".getBytes(), guest(BUF + PAGE - 3, 3));
        } finally {
            Posix.munmap(n, 2 * PAGE);
            HostFiles.close(guestPipe[1]);
            HostFiles.close(hostPipe[0]);
            HostFiles.close(hostPipe[1]);
        }
    }

    @Test
    void fileReadIntoABufferWhoseSecondHalfIsUnmappedIsAShortCount() throws IOException {
        guestHalf();
        byte[] data = pattern(3 * (int) PAGE);
        file("data", data);
        int g = openGuest("/data", HostFiles.O_RDONLY);
        int h = (int) HostFiles.openat(HostFiles.AT_FDCWD, root.resolve("data").toString().getBytes(), HostFiles.O_RDONLY | HostFiles.O_CLOEXEC, 0);
        long n = nativeHalf(Posix.PROT_NONE);
        try {
            long host = HostFiles.read(h, n + 10, 2 * PAGE);
            long guest = call(READ, g, BUF + 10, 2 * PAGE);
            assertEquals(PAGE - 10, host);
            assertEquals(host, guest);
            assertArrayEquals(java.util.Arrays.copyOf(data, (int) guest), guest(BUF + 10, (int) guest));
            // Both offsets moved by the count: the next read starts there.
            assertEquals(HostFiles.lseek(h, 0, HostFiles.SEEK_CUR), call(8, g, 0, HostFiles.SEEK_CUR));
        } finally {
            Posix.munmap(n, 2 * PAGE);
            HostFiles.close(h);
        }
    }

    @Test
    void readIntoAReadOnlyPageIsEfaultAsOnTheHost() throws IOException {
        as.mmap(BUF, PAGE, Prot.READ, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        as.copyFromUser(new byte[1], 0, BUF, 1); // present: mapped read-only in the JVM's view
        file("data", pattern(100));
        int g = openGuest("/data", HostFiles.O_RDONLY);
        int h = (int) HostFiles.openat(HostFiles.AT_FDCWD, root.resolve("data").toString().getBytes(), HostFiles.O_RDONLY | HostFiles.O_CLOEXEC, 0);
        long n = nativePages(1);
        Posix.mprotect(n, PAGE, Posix.PROT_READ);
        try {
            long host = HostFiles.read(h, n, 100);
            assertEquals(err(Errno.EFAULT), host);
            assertEquals(host, call(READ, g, BUF, 100));
            assertEquals(0, call(8, g, 0, HostFiles.SEEK_CUR), "nothing was read");
        } finally {
            Posix.munmap(n, PAGE);
            HostFiles.close(h);
        }
    }

    @Test
    void readIntoACopyOnWritePageBreaksTheSharingFirst() throws IOException {
        as.mmap(BUF, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        as.copyToUser(BUF, "parent".getBytes(), 0, 6);
        dev.usercopy.mm.AddressSpace child = fork(as); // BUF is now copy-on-write, read-only in both JVM views
        file("data", "guest!".getBytes());
        int g = openGuest("/data", HostFiles.O_RDONLY);
        assertEquals(6, call(READ, g, BUF, 6));
        assertArrayEquals("guest!".getBytes(), guest(BUF, 6));
        byte[] c = new byte[6];
        child.copyFromUser(c, 0, BUF, 6);
        assertArrayEquals("parent".getBytes(), c, "the child keeps its copy");
    }

    @Test
    void readIntoPagesNeverTouchedFillsThemAndAPROT_NONEPageIsEfault() throws IOException {
        as.mmap(BUF, 4 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        byte[] data = pattern(4 * (int) PAGE);
        file("data", data);
        int g = openGuest("/data", HostFiles.O_RDONLY);
        assertEquals(4 * PAGE, call(READ, g, BUF, 4 * PAGE));
        assertArrayEquals(data, guest(BUF, data.length));
        as.mprotect(BUF + 2 * PAGE, PAGE, Prot.NONE);
        assertEquals(0, call(8, g, 0, HostFiles.SEEK_SET));
        assertEquals(2 * PAGE, call(READ, g, BUF, 4 * PAGE), "stops at the PROT_NONE page");
        assertEquals(err(Errno.EFAULT), call(READ, g, BUF + 2 * PAGE, 10));
    }

    @Test
    void writeFromAHalfUnmappedBufferIsTheHostsShortCountAndFromNothingEfault() throws IOException {
        guestHalf();
        as.copyToUser(BUF, pattern((int) PAGE), 0, (int) PAGE);
        int g = openGuest("/rw/out", HostFiles.O_WRONLY | HostFiles.O_CREAT);
        int h = (int) HostFiles.openat(HostFiles.AT_FDCWD, root.resolve("host-out").toString().getBytes(),
                HostFiles.O_WRONLY | HostFiles.O_CREAT | HostFiles.O_CLOEXEC, 0600);
        long n = nativeHalf(Posix.PROT_NONE);
        try {
            Posix.segment(n, PAGE).copyFrom(java.lang.foreign.MemorySegment.ofArray(pattern((int) PAGE)));
            long host = HostFiles.write(h, n + 100, 2 * PAGE);
            assertEquals(PAGE - 100, host);
            assertEquals(host, call(WRITE, g, BUF + 100, 2 * PAGE));
            assertArrayEquals(Files.readAllBytes(root.resolve("host-out")), Files.readAllBytes(rw.resolve("out")));
            assertEquals(err(Errno.EFAULT), HostFiles.write(h, n + PAGE, 10));
            assertEquals(err(Errno.EFAULT), call(WRITE, g, BUF + PAGE, 10));
        } finally {
            Posix.munmap(n, 2 * PAGE);
            HostFiles.close(h);
        }
    }

    @Test
    void readvAcrossAHoleStopsWhereTheHostStops() throws IOException {
        as.mmap(BUF, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        as.mmap(BUF + 2 * PAGE, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        byte[] data = pattern(3 * (int) PAGE);
        file("data", data);
        int g = openGuest("/data", HostFiles.O_RDONLY);
        int h = (int) HostFiles.openat(HostFiles.AT_FDCWD, root.resolve("data").toString().getBytes(), HostFiles.O_RDONLY | HostFiles.O_CLOEXEC, 0);
        long n = nativePages(3);
        Posix.mprotect(n + PAGE, PAGE, Posix.PROT_NONE);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            // iov: [first page, 100 bytes] [last page, 200 bytes] [the hole, 50 bytes] [first page again, 10]
            long[][] shape = {{0, 100}, {2 * PAGE, 200}, {PAGE, 50}, {500, 10}};
            java.lang.foreign.MemorySegment hostIov = arena.allocate(16 * shape.length, 8);
            java.nio.ByteBuffer guestIov = java.nio.ByteBuffer.allocate(16 * shape.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < shape.length; i++) {
                hostIov.set(java.lang.foreign.ValueLayout.JAVA_LONG, 16 * i, n + shape[i][0]);
                hostIov.set(java.lang.foreign.ValueLayout.JAVA_LONG, 16 * i + 8, shape[i][1]);
                guestIov.putLong(16 * i, BUF + shape[i][0]).putLong(16 * i + 8, shape[i][1]);
            }
            long host = HostFiles.readv(h, hostIov.address(), shape.length);
            long guest = call(READV, g, bytes(guestIov.array()), shape.length);
            assertEquals(300, host);
            assertEquals(host, guest);
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 100, 300), guest(BUF + 2 * PAGE, 200));
        } finally {
            Posix.munmap(n, 3 * PAGE);
            HostFiles.close(h);
        }
    }

    private long iov(long... pairs) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 * pairs.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (long v : pairs) {
            b.putLong(v);
        }
        return bytes(b.array());
    }

    @Test
    void iovecArraysAreCheckedAsLinuxImportIovecChecksThem() throws IOException {
        as.mmap(BUF, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        file("data", pattern(100));
        int g = openGuest("/data", HostFiles.O_RDONLY);
        long one = iov(BUF, 10);
        long[] many = new long[2 * 1025];
        for (int i = 0; i < 1025; i++) {
            many[2 * i] = BUF;
            many[2 * i + 1] = i == 0 ? 1 : 0;
        }
        long manyIov = iov(many);
        assertEquals(err(Errno.EINVAL), call(READV, g, manyIov, 1025), "more than IOV_MAX");
        assertEquals(1, call(READV, g, manyIov, 1024), "IOV_MAX itself");
        assertEquals(err(Errno.EINVAL), call(READV, g, BUF + 16 * PAGE, 1025), "the count before the array is read");
        assertEquals(0, call(READV, g, one, 0));
        assertEquals(err(Errno.EFAULT), call(READV, g, BUF + 16 * PAGE, 1), "an array the guest cannot read");
        assertEquals(err(Errno.EFAULT), call(READV, g, 0, 1));
        assertEquals(err(Errno.EINVAL), call(READV, g, iov(BUF, 10, BUF, -1), 2), "a length negative as a ssize_t");
        assertEquals(err(Errno.EFAULT), call(READV, g, iov(BUF, 10, as.size() - 5, 10), 2), "a buffer past user space");
        assertEquals(err(Errno.EFAULT), call(READV, g, iov(0xffff800000000000L, 10), 1), "a kernel address");
        assertEquals(1, call(8, g, 0, HostFiles.SEEK_CUR), "no check read anything");
        // The count is an unsigned int to Linux: the high half of the register is dropped.
        assertEquals(10, call(READV, g, one, (1L << 32) | 1));
        assertEquals(11, call(8, g, 0, HostFiles.SEEK_CUR));
        assertEquals(err(Errno.EBADF), call(WRITEV, g, one, 1), "not open for writing");
        assertEquals(err(Errno.EBADF), call(READV, 40, one, 1));
    }

    @Test
    void pwriteAtOffsetsThenPreadAgreeWithTheHost() throws IOException {
        as.mmap(BUF, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        as.copyToUser(BUF, pattern(2 * (int) PAGE), 0, 2 * (int) PAGE);
        int g = openGuest("/rw/f", HostFiles.O_RDWR | HostFiles.O_CREAT);
        assertEquals(300, call(PWRITE, g, BUF, 300, 5000));
        assertEquals(10, call(PWRITE, g, BUF + 1000, 10, 20));
        assertEquals(0, call(8, g, 0, HostFiles.SEEK_CUR), "pwrite leaves the offset");
        byte[] onHost = Files.readAllBytes(rw.resolve("f"));
        assertEquals(5300, onHost.length);
        assertArrayEquals(java.util.Arrays.copyOfRange(pattern(2 * (int) PAGE), 1000, 1010), java.util.Arrays.copyOfRange(onHost, 20, 30));
        assertEquals(100, call(PREAD, g, BUF + PAGE, 100, 5200));
        assertArrayEquals(java.util.Arrays.copyOfRange(onHost, 5200, 5300), guest(BUF + PAGE, 100));
        assertEquals(0, call(PREAD, g, BUF, 100, 6000), "past the end");
        assertEquals(err(Errno.EINVAL), call(PREAD, g, BUF, 100, -1));
        assertEquals(err(Errno.EINVAL), call(PREAD, 40, BUF, 100, -1), "the offset before the descriptor, as Linux");
        int[] p = pipe();
        try {
            int gp = install(p[0], HostFiles.O_RDONLY);
            assertEquals(err(Errno.ESPIPE), call(PREAD, gp, 0xffff800000000000L, 100, 0), "ESPIPE before the buffer");
        } finally {
            HostFiles.close(p[1]);
        }
    }

    @Test
    void readAndWriteCheckTheDescriptorsModeFirst() throws IOException {
        file("data", pattern(10));
        int r = openGuest("/data", HostFiles.O_RDONLY);
        int w = openGuest("/rw/x", HostFiles.O_WRONLY | HostFiles.O_CREAT);
        assertEquals(err(Errno.EBADF), call(WRITE, r, 0, 10), "EBADF before the bad buffer");
        assertEquals(err(Errno.EBADF), call(READ, w, 0, 10));
        assertEquals(err(Errno.EBADF), call(READ, 33, BUF, 10));
        assertEquals(err(Errno.EFAULT), call(READ, r, -1L, 10));
        assertEquals(err(Errno.EFAULT), call(READ, r, as.size() - 4, 10));
        assertEquals(err(Errno.EFAULT), call(READ, r, 0xffff800000000000L, 0), "Linux's access_ok refuses a kernel address even for 0 bytes");
        assertEquals(0, call(READ, r, SCRATCH, 0));
        int o = (int) call(257, HostFiles.AT_FDCWD, str("/data"), HostFiles.O_PATH, 0);
        assertEquals(err(Errno.EBADF), call(READ, o, SCRATCH, 1), "O_PATH");
    }

    @Test
    void aReadLongerThanAChunkOfARegularFileIsWhole() throws IOException {
        int size = (int) (3 * dev.usercopy.mm.HostIo.CHUNK + 12345);
        long pages = (size + PAGE - 1) / PAGE;
        as.mmap(BUF, pages * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        byte[] data = pattern(size);
        file("big", data);
        int g = openGuest("/big", HostFiles.O_RDONLY);
        assertEquals(size, call(READ, g, BUF, pages * PAGE));
        assertArrayEquals(data, guest(BUF, size));
        int w = openGuest("/rw/big", HostFiles.O_WRONLY | HostFiles.O_CREAT);
        assertEquals(size, call(WRITE, w, BUF, size));
        assertArrayEquals(data, Files.readAllBytes(rw.resolve("big")));
    }

}
