package dev.usercopy.mm;

import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Copies on one thread while another unmaps part of the range: every copy
 * either finishes or stops exactly at a byte of the unmapped part, with the
 * bytes before that point right; a copy begun after the munmap returned
 * stops exactly where the unmapped part begins; nothing crashes. Seeded; the
 * seed is in every message (rerun with -Dusercopy.seed=...).
 */
class CopyRacesMunmapTest extends MmScenario {
    private static final int PAGES = 16;
    private static final int LEN = PAGES * (int) PAGE;
    private static final int ITERATIONS = 2000;
    private static final int RW = Prot.READ | Prot.WRITE;
    /** Copies a worker starts before it waits for the munmap, so an iteration stays short. */
    private static final int RACING_COPIES = 8;

    /** One iteration's copy: which range, which direction, which part munmap takes. */
    private record Race(long a, int from, int n, int cut, int cutEnd, boolean toUser, boolean filled, byte[] data, String where) {
        long holeStart() {
            return cut * PAGE - from;
        }

        long holeEnd() {
            return Math.min(n, cutEnd * PAGE - from);
        }

        /** Where a copy that begins after the munmap must stop: the hole's first byte, if the copy reaches it. */
        long doneAfterMunmap() {
            return holeStart() < n && holeEnd() > 0 ? Math.max(0, holeStart()) : n;
        }

        byte[] expected() {
            return toUser || filled ? slice(data, from, n) : new byte[n];
        }
    }

    /**
     * Copies until one has run wholly after the munmap (at most {@value #RACING_COPIES} before); checks each.
     * Returns {copies, copies begun before the munmap returned that stopped in the unmapped part}.
     */
    private static long[] copyUntilUnmapped(AddressSpace as, Race r, AtomicBoolean started, AtomicBoolean unmapped) {
        byte[] expected = r.expected();
        long copies = 0;
        long stopped = 0;
        while (true) {
            boolean after = unmapped.get();
            byte[] buf = r.toUser() ? expected : new byte[r.n()];
            started.set(true);
            long left = r.toUser() ? as.copyToUser(r.a() + r.from(), buf, 0, r.n()) : as.copyFromUser(buf, 0, r.a() + r.from(), r.n());
            long done = r.n() - left;
            copies++;
            String what = r.where() + ", copy " + copies + (after ? " (begun after the munmap)" : "") + " left " + left;
            if (after) {
                assertEquals(r.doneAfterMunmap(), done, what + ": must stop exactly at the unmapped part");
            } else if (left != 0) {
                assertTrue(r.holeStart() <= done && done < r.holeEnd(),
                        what + ": stopped after " + done + " bytes, outside the unmapped part [" + r.holeStart() + ", " + r.holeEnd() + ")");
            }
            if (left != 0 && !after) {
                stopped++;
            }
            if (!r.toUser()) {
                assertArrayEquals(slice(expected, 0, (int) done), slice(buf, 0, (int) done), what + ": bytes read");
            }
            if (after) {
                return new long[] {copies, stopped};
            }
            if (copies >= RACING_COPIES) {
                while (!unmapped.get()) {
                    Thread.yield();
                }
            }
        }
    }

    @Test
    void copiesRacingWithMunmapFinishOrStopExactlyInTheUnmappedPart() throws Exception {
        long seed = Long.getLong("usercopy.seed", System.nanoTime());
        System.out.println("CopyRacesMunmapTest: seed " + seed + " (rerun with -Dusercopy.seed=" + seed + ")");
        SplittableRandom rnd = new SplittableRandom(seed);
        // Fault-around of one page: a copy over lazy pages faults on each, so a munmap can land between them.
        machine(small().withFaultAround(1));
        AddressSpace as = space();
        ExecutorService worker = Executors.newSingleThreadExecutor();
        long copies = 0;
        long stopped = 0;
        try {
            for (int iter = 0; iter < ITERATIONS; iter++) {
                long a = as.mmap(BASE, LEN, RW, MapFlags.PRIVATE | MapFlags.FIXED);
                byte[] data = pattern(LEN, rnd.nextInt(256));
                boolean filled = rnd.nextBoolean();
                if (filled) {
                    write(as, a, data);
                }
                int from = rnd.nextInt(4 * (int) PAGE);
                int n = LEN - from - rnd.nextInt(4 * (int) PAGE);
                int cut = 1 + rnd.nextInt(PAGES - 1);
                int cutEnd = rnd.nextBoolean() ? PAGES : cut + 1 + rnd.nextInt(PAGES - cut);
                boolean toUser = rnd.nextBoolean();
                long delayNanos = rnd.nextInt(rnd.nextBoolean() ? 2_000 : 30_000);
                String where = "seed " + seed + ", iteration " + iter + ": " + (toUser ? "copyToUser" : "copyFromUser")
                        + " of [" + from + ", +" + n + ") of a " + (filled ? "filled" : "lazy") + " mapping, munmap of pages ["
                        + cut + ", " + cutEnd + ")";
                Race race = new Race(a, from, n, cut, cutEnd, toUser, filled, data, where);

                AtomicBoolean started = new AtomicBoolean();
                AtomicBoolean unmapped = new AtomicBoolean();
                Callable<long[]> job = () -> copyUntilUnmapped(as, race, started, unmapped);
                Future<long[]> result = worker.submit(job);
                // No PAUSE loops: in a VM they can exit to the hypervisor and take milliseconds;
                // and yield while the worker starts, in case it waits for this CPU.
                while (!started.get()) {
                    Thread.yield();
                }
                long until = System.nanoTime() + delayNanos;
                while (System.nanoTime() < until) {
                    continue;
                }
                as.munmap(a + cut * PAGE, (cutEnd - cut) * PAGE);
                unmapped.set(true);
                long[] counts = result.get(30, TimeUnit.SECONDS);
                copies += counts[0];
                stopped += counts[1];

                if (toUser) {
                    int kept = (int) Math.min(n, Math.max(0, race.holeStart()));
                    assertArrayEquals(slice(data, from, kept), read(as, a + from, kept), where + ": bytes written before the unmapped part");
                }
                mm.checkInvariants();
                as.munmap(a, LEN);
                assertEquals(0, used(), where);
            }
        } finally {
            worker.shutdownNow();
            assertTrue(worker.awaitTermination(10, TimeUnit.SECONDS));
        }
        System.out.println("CopyRacesMunmapTest seed " + seed + ": " + copies + " copies, " + stopped
                + " of those begun before the munmap returned stopped in the unmapped part");
        assertTrue(copies >= ITERATIONS, "seed " + seed);
    }
}
