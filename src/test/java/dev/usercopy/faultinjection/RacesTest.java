package dev.usercopy.faultinjection;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.Errno;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Copies while other threads change the memory under them: munmap, mprotect,
 * madvise(DONTNEED) and fork; a guest writer rewriting the buffer being read;
 * a machine running out of frames or host mappings half-way. The outcome is
 * the full result or a clean one (an exact count, or ENOMEM with the bytes
 * done), never a crash; afterwards the frame invariant holds and, once the
 * address spaces are closed, no frame is in use. Seeded ({@code usercopy.fi.seed}).
 */
@ExtendWith(Summary.class)
@Timeout(120)
class RacesTest {
    private static final long SEED = Long.getLong("usercopy.fi.seed", System.nanoTime());
    private static final long MILLIS = Long.getLong("usercopy.fi.race.millis", 1500);
    private static final int PAGE = Layout.PAGE;
    private static final int RW = Prot.READ | Prot.WRITE;
    private static final long BASE = 0x100000;
    private static final String TABLE = "Races: operation x outcome";

    private static MemoryManager.Config machine() {
        return MemoryManager.Config.defaults().withFrames(8192).withAddressSpaceSize(1L << 28);
    }

    /** The byte every written byte of page {@code p} holds; zeros are the other thing a page may hold. */
    private static byte tag(long page) {
        return (byte) (1 + page % 251);
    }

    private static byte[] tags(long from, int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = tag((from + i) / PAGE);
        }
        return b;
    }

    private static String outcome(long left, long length) {
        return length == 0 ? "empty" : left == 0 ? "full" : left == length ? "EFAULT, nothing" : "EFAULT, partial";
    }

    /** Runs {@code body(rnd)} on {@code threads} threads until the time is up; rethrows the first failure with its seed. */
    private static void onThreads(int threads, long seed, AtomicBoolean stop, List<Worker> extra, Worker body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads + extra.size());
        try {
            List<Future<?>> futures = new ArrayList<>();
            SplittableRandom root = new SplittableRandom(seed);
            for (int t = 0; t < threads; t++) {
                SplittableRandom rnd = root.split();
                futures.add(pool.submit(() -> {
                    while (!stop.get()) {
                        body.run(rnd);
                    }
                    return null;
                }));
            }
            for (Worker w : extra) {
                SplittableRandom rnd = root.split();
                futures.add(pool.submit(() -> {
                    while (!stop.get()) {
                        w.run(rnd);
                    }
                    return null;
                }));
            }
            Thread.sleep(MILLIS);
            stop.set(true);
            for (Future<?> f : futures) {
                try {
                    f.get(60, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new AssertionError("seed " + seed + " (-Dusercopy.fi.seed=" + seed + "): " + e.getCause(), e.getCause());
                }
            }
        } finally {
            stop.set(true);
            pool.shutdownNow();
            pool.awaitTermination(60, TimeUnit.SECONDS);
        }
    }

    @FunctionalInterface
    interface Worker {
        void run(SplittableRandom rnd) throws Exception;
    }

    // ---------------------------------------------------------------- munmap, mprotect, madvise, fork

    @Test
    void copiesRacingMunmapMprotectMadviseAndForkEndFullOrCleanAndLeakNothing() throws Exception {
        int pages = 32;
        long seed = SEED;
        try (MemoryManager mm = new MemoryManager(machine())) {
            long freeBefore = mm.stats().freeFrames();
            AddressSpace as = mm.newAddressSpace();
            as.mmap(BASE, (long) pages * PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
            assertEquals(0, as.copyToUser(BASE, tags(0, pages * PAGE), 0, pages * PAGE));
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong copies = new AtomicLong();
            Worker mutator = rnd -> {
                long at = BASE + (long) PAGE * rnd.nextInt(pages);
                long len = (long) PAGE * (1 + rnd.nextInt(4));
                len = Math.min(len, BASE + (long) pages * PAGE - at);
                String op;
                switch (rnd.nextInt(6)) {
                    case 0 -> {
                        as.munmap(at, len);
                        as.mmap(at, len, RW, MapFlags.PRIVATE | MapFlags.FIXED);
                        op = "munmap + mmap";
                    }
                    case 1 -> {
                        as.mprotect(at, len, rnd.nextBoolean() ? Prot.NONE : Prot.READ);
                        Thread.onSpinWait();
                        as.mprotect(at, len, RW);
                        op = "mprotect";
                    }
                    case 2 -> {
                        as.madviseDontNeed(at, len);
                        op = "madvise(DONTNEED)";
                    }
                    case 3 -> {
                        AddressSpace child = as.fork();
                        child.close();
                        op = "fork + close";
                    }
                    default -> {
                        long left = as.copyToUser(at, tags((at - BASE), (int) len), 0, (int) len);
                        assertTrue(left >= 0 && left <= len);
                        op = "refill";
                    }
                }
                Summary.count(TABLE, "mutator: " + op, "done");
            };
            onThreads(2, seed, stop, List.of(mutator), rnd -> {
                int from = rnd.nextInt(pages * PAGE);
                int n = rnd.nextInt(Math.min(3 * PAGE, pages * PAGE - from) + 1);
                long at = BASE + from;
                int kOff = rnd.nextInt(8);
                byte[] k = new byte[kOff + n + 16];
                rnd.nextBytes(k);
                byte[] before = k.clone();
                int which = rnd.nextInt(4);
                long left;
                String op;
                switch (which) {
                    case 0 -> {
                        // The raw copy leaves the bytes it did not copy; copy_from_user zeroes them.
                        boolean raw = rnd.nextBoolean();
                        op = raw ? "rawCopyFromUser" : "copyFromUser";
                        left = raw ? as.rawCopyFromUser(k, kOff, at, n) : as.copyFromUser(k, kOff, at, n);
                        long done = n - left;
                        for (int i = 0; i < done; i++) {
                            byte b = k[kOff + i];
                            if (b != 0 && b != tag((from + i) / PAGE)) {
                                fail(op + " byte " + i + " at 0x" + Long.toHexString(at + i) + " is " + b + ": neither 0 nor the page's tag");
                            }
                        }
                        if (!raw) {
                            for (int i = (int) done; i < n; i++) {
                                if (k[kOff + i] != 0) {
                                    fail("copyFromUser left kernel byte " + i + " past the copy unzeroed");
                                }
                            }
                        }
                        checkUntouched(k, before, kOff + (raw ? (int) done : n), op);
                        checkUntouched(Arrays.copyOf(k, kOff), Arrays.copyOf(before, kOff), 0, "copyFromUser, before the buffer");
                    }
                    case 1 -> {
                        op = "copyToUser";
                        byte[] src = tags(from, n);
                        left = as.copyToUser(at, src, 0, n);
                    }
                    case 2 -> {
                        op = "clearUser";
                        left = as.clearUser(at, n);
                    }
                    default -> {
                        op = "strncpyFromUser";
                        long r = as.strncpyFromUser(k, kOff, at, n);
                        assertTrue(r == -Errno.EFAULT.number() || (r >= 0 && r <= n), "strncpyFromUser returned " + r);
                        left = r < 0 ? n : n - r;
                        if (r >= 0 && r < n) {
                            assertEquals(0, k[kOff + (int) r], "the NUL a string of length " + r + " ends with");
                        }
                    }
                }
                assertTrue(left >= 0 && left <= n, op + " returned " + left + " of " + n);
                copies.incrementAndGet();
                String outcome = which != 3 ? outcome(left, n) : left == n ? (n == 0 ? "empty" : "-EFAULT") : left == 0 ? "full" : "string ended";
                Summary.count(TABLE, op + " vs munmap/mprotect/madvise/fork", outcome);
            });
            mm.checkInvariants();
            // Every readable byte is still 0 or its page's tag: nothing wrote anything else anywhere.
            byte[] page = new byte[PAGE];
            for (int p = 0; p < pages; p++) {
                if (as.peekPage(BASE + (long) p * PAGE, page)) {
                    for (int i = 0; i < PAGE; i++) {
                        if (page[i] != 0 && page[i] != tag(p)) {
                            fail("page " + p + " byte " + i + " is " + page[i] + "; seed " + seed);
                        }
                    }
                }
            }
            as.close();
            mm.checkInvariants();
            assertEquals(freeBefore, mm.stats().freeFrames(), "free frames after the address space closed");
            assertTrue(copies.get() > 100, "only " + copies.get() + " copies ran");
        }
    }

    private static void checkUntouched(byte[] k, byte[] before, int from, String what) {
        int d = Arrays.mismatch(k, from, k.length, before, from, before.length);
        if (d >= 0) {
            fail(what + ": kernel byte " + (from + d) + " past the copy was written");
        }
    }

    // ---------------------------------------------------------------- a guest writer

    @Test
    void aGuestWriterRewritingTheBufferNeverTearsAByteNorShortensTheCopy() throws Exception {
        int pages = 8;
        int len = pages * PAGE;
        try (MemoryManager mm = new MemoryManager(machine())) {
            long freeBefore = mm.stats().freeFrames();
            AddressSpace as = mm.newAddressSpace();
            as.mmap(BASE, len, RW, MapFlags.PRIVATE | MapFlags.FIXED);
            AtomicLong generation = new AtomicLong(1);
            byte[] first = new byte[len];
            Arrays.fill(first, (byte) 1);
            assertEquals(0, as.copyToUser(BASE, first, 0, len));
            AtomicBoolean stop = new AtomicBoolean();
            List<AddressSpace> forks = new ArrayList<>();
            Worker writer = rnd -> {
                long g = generation.get() % 250 + 1;
                byte[] b = new byte[len];
                Arrays.fill(b, (byte) g);
                if (rnd.nextInt(64) == 0) { // a fork: the next writes break copy-on-write under the readers
                    synchronized (forks) {
                        forks.add(as.fork());
                        if (forks.size() > 4) { // each holds a generation's frames: keep a few, not all
                            forks.remove(0).close();
                        }
                    }
                }
                assertEquals(0, as.copyToUser(BASE, b, 0, len), "the writer's copy");
                generation.incrementAndGet();
                Summary.count(TABLE, "guest writer rewriting the buffer", "full");
            };
            onThreads(1, SEED + 1, stop, List.of(writer), rnd -> {
                int from = rnd.nextInt(len);
                int n = rnd.nextInt(len - from + 1);
                byte[] k = new byte[n];
                long left = as.copyFromUser(k, 0, BASE + from, n);
                assertEquals(0, left, "a copy of mapped, readable memory came up short while it was being rewritten");
                for (int i = 0; i < n; i++) {
                    int v = k[i] & 0xff;
                    if (v < 1 || v > 250) {
                        fail("byte " + i + " is " + v + ", which no generation wrote");
                    }
                }
                Summary.count(TABLE, "copyFromUser vs a guest writer", outcome(left, n));
            });
            mm.checkInvariants();
            for (AddressSpace f : forks) {
                f.close();
            }
            as.close();
            mm.checkInvariants();
            assertEquals(freeBefore, mm.stats().freeFrames(), "free frames after every address space closed");
        }
    }

    // ---------------------------------------------------------------- running out

    /** Runs a guest operation that may fail with ENOMEM only; returns the exception or null. */
    private static ErrnoException enomemOrDone(Runnable op) {
        try {
            op.run();
            return null;
        } catch (ErrnoException e) {
            assertEquals(Errno.ENOMEM, e.errno(), e.getMessage());
            return e;
        }
    }

    @Test
    void runningOutOfFramesMidCopyIsEnomemWithTheBytesDoneAndLeaksNoFrame() throws Exception {
        MemoryManager.Config tiny = machine().withFrames(512 + 16 + 96); // 96 allocatable frames
        try (MemoryManager mm = new MemoryManager(tiny)) {
            long freeBefore = mm.stats().freeFrames();
            List<AddressSpace> spaces = java.util.Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong enomem = new AtomicLong();
            onThreads(2, SEED + 2, stop, List.of(), rnd -> {
                AddressSpace as = mm.newAddressSpace();
                spaces.add(as);
                int pages = 16 + rnd.nextInt(64);
                as.mmap(BASE, (long) pages * PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
                AddressSpace child = null;
                for (int round = 0; round < 4; round++) {
                    int from = rnd.nextInt(pages) * PAGE + rnd.nextInt(PAGE);
                    int n = rnd.nextInt(pages * PAGE - from + 1);
                    byte[] data = tags(from, n);
                    long[] left = {-1};
                    ErrnoException e = enomemOrDone(() -> left[0] = as.copyToUser(BASE + from, data, 0, n));
                    long done = e != null ? e.done() : n - left[0];
                    if (e == null) {
                        assertEquals(0, left[0], "a write to mapped rw memory stopped without ENOMEM");
                    } else {
                        enomem.incrementAndGet();
                        assertTrue(e.done() >= 0 && e.done() < n, "ENOMEM after " + e.done() + " of " + n);
                    }
                    // The bytes done are there (a read needs no frame: lazy pages read the zeroed frames).
                    byte[] back = new byte[(int) done];
                    assertEquals(0, as.copyFromUser(back, 0, BASE + from, (int) done), "reading back the bytes done");
                    assertTrue(Arrays.equals(back, 0, (int) done, data, 0, (int) done), "the bytes done before ENOMEM");
                    Summary.count(TABLE, "copyToUser, 96 frames, 2 threads + forks", e == null ? "full" : "ENOMEM, bytes done exact");
                    if (child == null && rnd.nextBoolean()) {
                        child = as.fork(); // copy-on-write: the parent's next writes need frames too
                        spaces.add(child);
                    }
                }
                mm.checkInvariants();
                if (child != null) {
                    child.close();
                }
                as.close();
            });
            for (AddressSpace s : spaces) {
                s.close();
            }
            mm.checkInvariants();
            assertEquals(freeBefore, mm.stats().freeFrames(), "free frames after every address space closed");
            assertTrue(enomem.get() > 0, "the machine never ran out of frames; seed " + SEED);
        }
    }

    @Test
    void runningOutOfHostMappingsMidOperationIsEnomemAndLeavesTheModelTrue() throws Exception {
        try (MemoryManager mm = new MemoryManager(machine().withVmaBudget(48))) {
            long freeBefore = mm.stats().freeFrames();
            AddressSpace as = mm.newAddressSpace();
            int pages = 64;
            as.mmap(BASE, (long) pages * PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong enomem = new AtomicLong();
            Object lock = new Object();
            Worker fragmenter = rnd -> {
                long at = BASE + (long) PAGE * rnd.nextInt(pages);
                ErrnoException e = enomemOrDone(() -> as.mprotect(at, PAGE, rnd.nextBoolean() ? Prot.READ : RW));
                if (e != null) {
                    enomem.incrementAndGet();
                }
                Summary.count(TABLE, "mprotect one page, budget 48 mappings", e == null ? "done" : "ENOMEM");
            };
            onThreads(1, SEED + 3, stop, List.of(fragmenter), rnd -> {
                int from = rnd.nextInt(pages * PAGE);
                int n = rnd.nextInt(Math.min(4 * PAGE, pages * PAGE - from) + 1);
                byte[] data = tags(from, n);
                long[] left = {-1};
                ErrnoException e = enomemOrDone(() -> left[0] = as.copyToUser(BASE + from, data, 0, n));
                if (e != null) {
                    enomem.incrementAndGet();
                    assertTrue(e.done() >= 0 && e.done() < n, "ENOMEM after " + e.done() + " of " + n);
                } else {
                    assertTrue(left[0] >= 0 && left[0] <= n);
                }
                Summary.count(TABLE, "copyToUser vs mprotect, budget 48 mappings",
                        e != null ? "ENOMEM, bytes done exact" : outcome(left[0], n));
                synchronized (lock) {
                    mm.checkInvariants();
                }
            });
            mm.checkInvariants();
            assertEquals(as.vmas(), as.hostVmasMeasured(), "the host-mapping model against /proc/self/maps");
            as.close();
            mm.checkInvariants();
            assertEquals(freeBefore, mm.stats().freeFrames(), "free frames after the address space closed");
            assertTrue(enomem.get() > 0, "the budget was never reached; seed " + SEED);
        }
    }
}
