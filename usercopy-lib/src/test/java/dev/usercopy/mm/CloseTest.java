package dev.usercopy.mm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.usercopy.mm.AddressSpace.PageState;
import dev.usercopy.mm.MemoryManager.ForkMode;
import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** close() gives back every frame and host mapping; a closed address space copies nothing and never crashes. */
class CloseTest extends MmScenario {
    private static final int RW = Prot.READ | Prot.WRITE;

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void closingEveryAddressSpaceInAnyOrderFreesEveryFrame(ForkMode mode, @TempDir Path dir) throws IOException {
        Path file = dir.resolve("c.bin");
        Files.write(file, pattern(2 * (int) PAGE, 1));
        machine(small().withForkMode(mode));
        AddressSpace parent = space();
        long p = parent.mmap(BASE, 32 * PAGE, RW, MapFlags.PRIVATE);
        long s = parent.mmap(BASE + 64 * PAGE, 8 * PAGE, RW, MapFlags.SHARED);
        long f = parent.mmapFile(BASE + 128 * PAGE, 2 * PAGE, RW, MapFlags.PRIVATE, file, 0);
        long g = parent.mmapFile(BASE + 192 * PAGE, 2 * PAGE, RW, MapFlags.SHARED, file, 0);
        write(parent, p, pattern(32 * (int) PAGE, 2));
        writeByte(parent, s, 1);
        writeByte(parent, f, 1);
        writeByte(parent, g, 1);
        AddressSpace child = fork(parent);
        write(child, p, filled(4 * (int) PAGE, 3));
        AddressSpace grandchild = fork(child);
        write(grandchild, p + 8 * PAGE, filled(4 * (int) PAGE, 4));
        writeByte(grandchild, f + PAGE, 5);
        check();
        long all = used();
        assertEquals(32 + 8 + 2 + 2 + 4 + 4 + 1, all);

        child.close();
        check();
        assertEquals(all, used(), "the grandchild inherited every frame the child had");
        assertEquals(3, readByte(grandchild, p), "the grandchild keeps what it inherited from the child");
        assertEquals(pattern(32 * (int) PAGE, 2)[0], (byte) readByte(parent, p));
        parent.close();
        check();
        assertEquals(32 + 8 + 2 + 2, used(), "exactly the grandchild's pages remain");
        assertEquals(1, readByte(grandchild, s));
        assertEquals(5, readByte(grandchild, f + PAGE));
        grandchild.close();
        check();
        assertEquals(0, used());
        assertEquals(0, mm.stats().vmas());
        assertEquals(0, mm.stats().addressSpaces());
    }

    @Test
    void aClosedAddressSpaceCopiesNothingAndRefusesChanges() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 4 * PAGE, RW, MapFlags.PRIVATE);
        write(as, a, filled(4 * (int) PAGE, 1));
        as.close();
        check();
        assertEquals(0, used());
        byte[] buf = filled(100, 7);
        assertEquals(100, as.rawCopyFromUser(buf, 0, a, 100));
        assertArrayEquals(filled(100, 7), buf, "the raw copy leaves the buffer untouched");
        assertEquals(100, as.copyFromUser(buf, 0, a, 100));
        assertArrayEquals(new byte[100], buf, "copy_from_user zeroes what it could not copy");
        assertEquals(100, as.copyToUser(a, buf, 0, 100));
        assertEquals(100, as.clearUser(a, 100));
        assertEquals(-Errno.EFAULT.number(), as.strncpyFromUser(buf, 0, a, 100));
        assertEquals(false, as.resolve(a, true));
        assertNull(as.frameOf(a));
        assertEquals(PageState.UNMAPPED, as.pageState(a));
        assertEquals(0, as.grants().size());
        assertErrno(Errno.EFAULT, () -> as.mmap(BASE, PAGE, RW, MapFlags.PRIVATE));
        assertErrno(Errno.EFAULT, () -> as.munmap(a, PAGE));
        assertErrno(Errno.EFAULT, () -> as.mprotect(a, PAGE, Prot.READ));
        assertErrno(Errno.EFAULT, as::fork);
        as.close();
        check();
        assertEquals(0, used());
    }

    @Test
    void closingTheMachineClosesItsAddressSpaces() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 4 * PAGE, RW, MapFlags.PRIVATE);
        write(as, a, filled(4 * (int) PAGE, 1));
        fork(as);
        mm.close();
        assertEquals(0, mm.stats().usedFrames());
        assertEquals(0, mm.stats().addressSpaces());
        assertEquals(4, as.copyFromUser(new byte[4], 0, a, 4));
        assertEquals(4, as.copyToUser(a, new byte[4], 0, 4));
    }

    @Test
    void copiesRacingWithCloseEndFullOrPartialAndNeverCrash() throws Exception {
        long seed = Long.getLong("usercopy.seed", System.nanoTime());
        System.out.println("CloseTest copies racing with close: seed " + seed + " (rerun with -Dusercopy.seed=" + seed + ")");
        SplittableRandom rnd = new SplittableRandom(seed);
        machine();
        int len = 16 * (int) PAGE;
        byte[] data = pattern(len, 6);
        for (int iter = 0; iter < 300; iter++) {
            AddressSpace as = space();
            long a = as.mmap(BASE, len, RW, MapFlags.PRIVATE);
            boolean filled = rnd.nextBoolean();
            if (filled) {
                write(as, a, data);
            }
            boolean toUser = rnd.nextBoolean();
            AtomicBoolean started = new AtomicBoolean();
            AtomicReference<Object> result = new AtomicReference<>();
            byte[] buf = new byte[len];
            Thread t = new Thread(() -> {
                started.set(true);
                try {
                    long left = 0;
                    for (int k = 0; k < 4; k++) {
                        left = toUser ? as.copyToUser(a, data, 0, len) : as.copyFromUser(buf, 0, a, len);
                    }
                    result.set(left);
                } catch (Throwable e) {
                    result.set(e);
                }
            });
            t.start();
            while (!started.get()) {
                Thread.yield();
            }
            long until = System.nanoTime() + rnd.nextInt(50_000); // no PAUSE loop: in a VM it can take milliseconds
            while (System.nanoTime() < until) {
                continue;
            }
            as.close();
            t.join();
            String where = "seed " + seed + ", iteration " + iter + ", " + (toUser ? "copyToUser" : "copyFromUser") + (filled ? " of a filled range" : " of a lazy range");
            assertTrue(result.get() instanceof Long, where + ": " + result.get());
            long left = (Long) result.get();
            assertTrue(left >= 0 && left <= len, where + ": " + left);
            if (!toUser) {
                int done = (int) (len - left);
                assertArrayEquals(filled ? slice(data, 0, done) : new byte[done], slice(buf, 0, done), where);
            }
            mm.checkInvariants();
            assertEquals(0, used(), where);
        }
    }

    /**
     * Copies take no lock and close waits for none of them: what it promises
     * is that once it returns, no copy still running writes a byte. Four
     * threads rewrite 1 MiB each of a MAP_SHARED range, alternating two
     * values; a forked child shares the frames and watches them. Right after
     * close returns the child takes a snapshot; once every writer has
     * stopped (each ends on its first short copy), the frames must still
     * hold exactly that snapshot.
     */
    @Test
    void closeDuringACopyStormOnFourThreadsLeavesNoByteWrittenAfterItReturns() throws Exception {
        long seed = Long.getLong("usercopy.seed", System.nanoTime());
        System.out.println("CloseTest copy storm: seed " + seed + " (rerun with -Dusercopy.seed=" + seed + ")");
        SplittableRandom rnd = new SplittableRandom(seed);
        machine(small().withFrames(4096));
        int threads = 4;
        int per = 256 * (int) PAGE;
        for (int round = 0; round < 12; round++) {
            String where = "seed " + seed + ", round " + round;
            AddressSpace as = space();
            long a = as.mmap(BASE, (long) threads * per, RW, MapFlags.SHARED);
            write(as, a, new byte[threads * per]);
            AddressSpace witness = fork(as);
            CountDownLatch running = new CountDownLatch(threads);
            AtomicLong shortCopies = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                byte[][] values = {filled(per, 2 * t + 1), filled(per, 2 * t + 2)};
                long at = a + (long) t * per;
                Thread w = new Thread(() -> {
                    try {
                        for (int k = 0; ; k++) {
                            long left = as.copyToUser(at, values[k & 1], 0, per);
                            if (k == 0) {
                                running.countDown();
                            }
                            if (left != 0) {
                                shortCopies.incrementAndGet();
                                return;
                            }
                        }
                    } catch (Throwable e) {
                        failure.set(e);
                        running.countDown();
                    }
                });
                writers.add(w);
                w.start();
            }
            running.await();
            Thread.sleep(rnd.nextInt(3));
            as.close();
            byte[] atClose = new byte[threads * per];
            assertEquals(0, witness.copyFromUser(atClose, 0, a, atClose.length), where);
            for (Thread w : writers) {
                w.join();
            }
            assertNull(failure.get(), where);
            assertEquals(threads, shortCopies.get(), where + ": every writer ends on a short copy");
            byte[] later = new byte[threads * per];
            assertEquals(0, witness.copyFromUser(later, 0, a, later.length), where);
            int first = Arrays.mismatch(atClose, later);
            assertEquals(-1, first, where + ": guest byte 0x" + Long.toHexString(a + first) + " written after close returned");
            witness.close();
            mm.checkInvariants();
        }
    }
}
