package dev.usercopy.platform;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JVM's own uses of SIGSEGV (implicit null checks, stack overflow
 * detection, safepoint polls during GC) keep working while other threads take
 * usercopy faults through our handler, and those copies stay exact.
 */
@Timeout(60)
class JvmUnharmedTest {
    private static final long SEED = Long.getLong("usercopy.seed", System.nanoTime());

    // ---------------------------------------------------------------- implicit null checks

    static final class Box {
        final int value;

        Box(int value) {
            this.value = value;
        }
    }

    /**
     * A field load guarded by an implicit null check: a null Box makes the
     * load fault and HotSpot's handler turns the SIGSEGV into the exception.
     * The template interpreter and C1 code do this for every null; C2 code
     * does until a trap makes it recompile with an explicit check.
     */
    static int valueOf(Box box) {
        return box.value;
    }

    @Test
    void implicitNullChecksStillThrowWhileCopiesFault() throws InterruptedException {
        int iterations = 8_000_000;
        long expectedNpes = iterations / 4;
        long passedOnBefore = FaultHandler.stats().passedOn();
        whileCopiesFault(() -> {
            Box box = new Box(3);
            long npes = 0;
            long sum = 0;
            for (int i = 0; i < iterations; i++) {
                Box b = (i & 3) == 0 ? null : box;
                try {
                    sum += valueOf(b);
                } catch (NullPointerException e) {
                    npes++;
                }
            }
            assertEquals(expectedNpes, npes, "NullPointerExceptions thrown and caught");
            assertEquals(3L * (iterations - expectedNpes), sum, "sum of the non-null reads");
        });
        long passedOn = FaultHandler.stats().passedOn() - passedOnBefore;
        assertTrue(passedOn > 0, "no fault was passed on to the JVM's handler, so no null check went through ours");
    }

    // ---------------------------------------------------------------- stack overflow

    private static int depth;

    private static void descend() {
        depth++;
        descend();
    }

    /** A bounded recursion that needs a usable stack: returns n. */
    private static int countDown(int n) {
        return n == 0 ? 0 : 1 + countDown(n - 1);
    }

    @Test
    void stackOverflowIsStillThrownAndSurvivedWhileCopiesFault() throws InterruptedException {
        long passedOnBefore = FaultHandler.stats().passedOn();
        whileCopiesFault(() -> {
            for (int round = 0; round < 5; round++) {
                overflowAndRecover("test thread, round " + round);
            }
            for (int round = 0; round < 2; round++) {
                String name = "small-stack thread, round " + round;
                Throwable[] failure = new Throwable[1];
                Thread t = new Thread(null, () -> {
                    try {
                        overflowAndRecover(name);
                    } catch (Throwable e) {
                        failure[0] = e;
                    }
                }, "overflow-" + round, 256 * 1024);
                t.start();
                try {
                    t.join();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                if (failure[0] != null) {
                    throw new AssertionError(name + " failed", failure[0]);
                }
            }
        });
        assertTrue(FaultHandler.stats().passedOn() > passedOnBefore,
                "no fault was passed on to the JVM's handler, so no stack bang went through ours");
    }

    private static void overflowAndRecover(String where) {
        depth = 0;
        assertThrows(StackOverflowError.class, JvmUnharmedTest::descend, where);
        assertTrue(depth > 1000, where + ": overflowed after only " + depth + " frames");
        assertEquals(500, countDown(500), where + ": the stack is usable again");
    }

    // ---------------------------------------------------------------- garbage collection

    @Test
    void garbageCollectionStillRunsWhileCopiesFault() throws InterruptedException {
        long collectionsBefore = collections();
        byte[][] kept = new byte[32][];
        for (int i = 0; i < kept.length; i++) {
            kept[i] = new byte[8192];
            Arrays.fill(kept[i], (byte) i);
        }
        WeakReference<Object> dropped = new WeakReference<>(new byte[1024]);
        whileCopiesFault(() -> {
            List<byte[]> garbage = new ArrayList<>();
            for (int round = 0; round < 50; round++) {
                for (int j = 0; j < 256; j++) {
                    garbage.add(new byte[4096]);
                }
                garbage.clear();
                System.gc();
            }
        });
        assertTrue(collections() - collectionsBefore >= 50,
                "System.gc() 50 times ran only " + (collections() - collectionsBefore) + " collections");
        assertNull(dropped.get(), "an unreachable object survived the collections");
        for (int i = 0; i < kept.length; i++) {
            byte[] expected = new byte[8192];
            Arrays.fill(expected, (byte) i);
            assertArrayEquals(expected, kept[i], "kept array " + i + " after the collections");
        }
    }

    private static long collections() {
        long n = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, gc.getCollectionCount());
        }
        return n;
    }

    // ---------------------------------------------------------------- copiers

    /**
     * Runs {@code phase} on this thread while three threads copy across guard
     * pages (SIGSEGV, SIGBUS, SIGSEGV), then checks that every copy returned
     * the exact count and carried the right bytes, that the copiers ran during
     * the phase, and that the fixup counters account for every copy.
     */
    private static void whileCopiesFault(Runnable phase) throws InterruptedException {
        FaultHandler.install();
        GuardedRegion.Guard[] guards = {GuardedRegion.Guard.SEGV, GuardedRegion.Guard.BUS, GuardedRegion.Guard.SEGV};
        FaultHandler.Stats before = FaultHandler.stats();
        List<Copier> copiers = new ArrayList<>();
        for (int i = 0; i < guards.length; i++) {
            copiers.add(new Copier(i, guards[i], SEED + i));
        }
        long[] atStart = new long[copiers.size()];
        try {
            copiers.forEach(Copier::start);
            for (Copier c : copiers) {
                c.awaitCopies(1000);
            }
            for (int i = 0; i < copiers.size(); i++) {
                atStart[i] = copiers.get(i).copies;
            }
            phase.run();
        } finally {
            for (Copier c : copiers) {
                c.stop = true;
            }
            for (Copier c : copiers) {
                c.join();
            }
        }
        FaultHandler.Stats after = FaultHandler.stats();
        long segvCopies = 0;
        long busCopies = 0;
        for (int i = 0; i < copiers.size(); i++) {
            Copier c = copiers.get(i);
            assertNull(c.failure, c.getName() + " (seed " + c.seed + ") failed: " + c.failure);
            assertEquals(0, c.wrong, c.getName() + " (seed " + c.seed + "): " + c.wrong + " wrong copies, first: " + c.firstWrong);
            assertTrue(c.copies > atStart[i], c.getName() + " made no copies while the phase ran");
            if (c.guard == GuardedRegion.Guard.SEGV) {
                segvCopies += c.copies;
            } else {
                busCopies += c.copies;
            }
        }
        assertTrue(after.segvFixups() - before.segvFixups() >= segvCopies,
                "SIGSEGV fixups grew by " + (after.segvFixups() - before.segvFixups()) + " for " + segvCopies + " faulting copies");
        assertTrue(after.busFixups() - before.busFixups() >= busCopies,
                "SIGBUS fixups grew by " + (after.busFixups() - before.busFixups()) + " for " + busCopies + " faulting copies");
    }

    /**
     * Copies in a loop, each copy starting k (0..256) bytes before the guard
     * page and longer than k, so each faults. The region's bytes never change:
     * copies to the guest write back what is there.
     */
    private static final class Copier extends Thread {
        final GuardedRegion.Guard guard;
        final long seed;
        volatile boolean stop;
        volatile long copies;
        long wrong;
        String firstWrong;
        Throwable failure;

        Copier(int index, GuardedRegion.Guard guard, long seed) {
            super("copier-" + index + "-" + guard);
            this.guard = guard;
            this.seed = seed;
            setDaemon(true);
        }

        void awaitCopies(long n) throws InterruptedException {
            while (copies < n && isAlive()) {
                Thread.sleep(1);
            }
        }

        @Override
        public void run() {
            SplittableRandom rnd = new SplittableRandom(seed);
            int page = (int) GuardedRegion.PAGE;
            try (GuardedRegion region = GuardedRegion.create(1, guard)) {
                byte[] content = new byte[page];
                rnd.nextBytes(content);
                region.accessible().copyFrom(MemorySegment.ofArray(content));
                byte[] buf = new byte[1024];
                long n = 0;
                while (!stop) {
                    int k = rnd.nextInt(257);
                    int length = k + 1 + rnd.nextInt(512);
                    int off = rnd.nextInt(8);
                    UserCopy.Form form = rnd.nextBoolean() ? UserCopy.Form.FLAT : UserCopy.Form.ALIGNED;
                    boolean toUser = rnd.nextBoolean();
                    long guest = region.boundary() - k;
                    Arrays.fill(buf, off, off + length, (byte) 0xA5);
                    long left;
                    if (toUser) {
                        System.arraycopy(content, page - k, buf, off, k);
                        left = UserCopy.copyToUser(form, guest, buf, off, length);
                    } else {
                        left = UserCopy.rawCopyFromUser(form, buf, off, guest, length);
                    }
                    boolean bytesRight = toUser
                            ? region.accessible().asSlice(page - k, k)
                                    .mismatch(MemorySegment.ofArray(content).asSlice(page - k, k)) == -1
                            : Arrays.equals(buf, off, off + k, content, page - k, page)
                                    && countNot(buf, off + k, off + length, (byte) 0xA5) == 0;
                    if (left != length - k || !bytesRight) {
                        if (wrong++ == 0) {
                            firstWrong = "copy " + n + ": " + (toUser ? "to" : "from") + " user, " + form
                                    + ", k=" + k + ", length=" + length + ", returned " + left
                                    + (bytesRight ? "" : ", wrong bytes");
                        }
                    }
                    copies = ++n;
                }
            } catch (Throwable e) {
                failure = e;
            }
        }

        private static int countNot(byte[] a, int from, int to, byte b) {
            int n = 0;
            for (int i = from; i < to; i++) {
                if (a[i] != b) {
                    n++;
                }
            }
            return n;
        }
    }
}
