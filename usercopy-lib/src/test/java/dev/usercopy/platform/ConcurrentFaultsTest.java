package dev.usercopy.platform;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Faults taken on several threads at once are each fixed up on their own
 * thread with their own count: four threads, 100,000 faulting copies each,
 * every count exact and every byte before the fault delivered.
 */
@Timeout(120)
class ConcurrentFaultsTest {
    private static final int THREADS = 4;
    private static final int COPIES_PER_THREAD = 100_000;
    private static final long SEED = Long.getLong("usercopy.seed", System.nanoTime());

    /** Bytes never written by a copy from the guest, so any change is a stray write. */
    private static final byte SENTINEL = (byte) 0xA5;
    /** Room for the longest copy: k + 1 + CRITICAL_CHUNK + 4095, at offset < 64. */
    private static final int BUFFER = UserCopy.CRITICAL_CHUNK + 8192;
    private static final int PAGE = (int) GuardedRegion.PAGE;

    @Test
    void fourThreadsWithTheirOwnRegionsGetExactCountsAndBytes() throws Exception {
        List<GuardedRegion.Guard> guards = new ArrayList<>();
        List<GuardedRegion> regions = new ArrayList<>();
        try {
            for (int t = 0; t < THREADS; t++) {
                guards.add(t % 2 == 0 ? GuardedRegion.Guard.SEGV : GuardedRegion.Guard.BUS);
                regions.add(GuardedRegion.create(1, guards.get(t)));
            }
            runAndCheck(regions, guards, false);
        } finally {
            regions.forEach(GuardedRegion::close);
        }
    }

    @ParameterizedTest
    @EnumSource(GuardedRegion.Guard.class)
    void fourThreadsSharingOneRegionGetExactCountsAndBytes(GuardedRegion.Guard guard) throws Exception {
        try (GuardedRegion region = GuardedRegion.create(1, guard)) {
            runAndCheck(List.of(region, region, region, region), List.of(guard, guard, guard, guard), true);
        }
    }

    /** What one thread did. */
    private record Tally(long flat, long aligned) {}

    private static void runAndCheck(List<GuardedRegion> regions, List<GuardedRegion.Guard> guards, boolean shared)
            throws Exception {
        FaultHandler.install();
        // A shared region's bytes are fixed: copies to the guest write back what is there.
        byte[] sharedContent = new byte[PAGE];
        if (shared) {
            new SplittableRandom(SEED).nextBytes(sharedContent);
            regions.getFirst().accessible().copyFrom(MemorySegment.ofArray(sharedContent));
        }
        FaultHandler.Stats before = FaultHandler.stats();
        long flatHitsBefore = ExtableEntry.named("usercopy0").hits();
        long alignedHitsBefore = alignedFirstFaultHits();

        CyclicBarrier start = new CyclicBarrier(THREADS);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        List<Future<Tally>> futures = new ArrayList<>();
        try {
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                GuardedRegion region = regions.get(t);
                Callable<Tally> work = () -> {
                    start.await();
                    return copyLoop(thread, region, shared ? sharedContent : null);
                };
                futures.add(pool.submit(work));
            }
            long flat = 0;
            long aligned = 0;
            long segvCopies = 0;
            long busCopies = 0;
            for (int t = 0; t < THREADS; t++) {
                Tally tally;
                try {
                    tally = futures.get(t).get();
                } catch (ExecutionException e) {
                    throw new AssertionError("thread " + t + " failed: " + e.getCause().getMessage(), e.getCause());
                }
                flat += tally.flat();
                aligned += tally.aligned();
                if (guards.get(t) == GuardedRegion.Guard.SEGV) {
                    segvCopies += tally.flat() + tally.aligned();
                } else {
                    busCopies += tally.flat() + tally.aligned();
                }
            }
            assertEquals((long) THREADS * COPIES_PER_THREAD, flat + aligned, "copies made");

            // Every copy faulted once at least, and each fault was counted, whichever thread took it.
            FaultHandler.Stats after = FaultHandler.stats();
            assertTrue(after.segvFixups() - before.segvFixups() >= segvCopies,
                    "SIGSEGV fixups grew by " + (after.segvFixups() - before.segvFixups()) + " for " + segvCopies + " copies");
            assertTrue(after.busFixups() - before.busFixups() >= busCopies,
                    "SIGBUS fixups grew by " + (after.busFixups() - before.busFixups()) + " for " + busCopies + " copies");
            assertTrue(ExtableEntry.named("usercopy0").hits() - flatHitsBefore >= flat,
                    "usercopy0 fixups grew by " + (ExtableEntry.named("usercopy0").hits() - flatHitsBefore) + " for " + flat + " flat copies");
            assertTrue(alignedFirstFaultHits() - alignedHitsBefore >= aligned,
                    "usercopy1/1b/1c fixups grew by " + (alignedFirstFaultHits() - alignedHitsBefore)
                            + " for " + aligned + " aligned copies");
        } finally {
            pool.shutdownNow();
        }
    }

    /** An aligned copy takes its first fault in exactly one of these. */
    private static long alignedFirstFaultHits() {
        return ExtableEntry.named("usercopy1").hits() + ExtableEntry.named("usercopy1b").hits() + ExtableEntry.named("usercopy1c").hits();
    }

    /**
     * COPIES_PER_THREAD copies, each starting k (0..256) bytes before the
     * guard and longer than k: random direction, form, kernel buffer (byte[],
     * heap segment, native segment) and offset in it; now and then longer
     * than a critical chunk. {@code sharedContent} is the region's fixed
     * content when it is shared, null when this thread owns the region.
     */
    private static Tally copyLoop(int thread, GuardedRegion region, byte[] sharedContent) {
        long seed = SEED + 0x9E3779B97F4A7C15L * (thread + 1);
        SplittableRandom rnd = new SplittableRandom(seed);
        MemorySegment guestPage = region.accessible().asSlice(0, PAGE);
        byte[] heap = new byte[BUFFER];
        byte[] fresh = new byte[256];
        long flat = 0;
        long aligned = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment nativeBuffer = arena.allocate(BUFFER, 64);
            MemorySegment sentinels = arena.allocate(BUFFER).fill(SENTINEL);
            for (int i = 0; i < COPIES_PER_THREAD; i++) {
                int k = rnd.nextInt(257);
                boolean big = rnd.nextInt(1000) == 0;
                int length = k + 1 + (big ? UserCopy.CRITICAL_CHUNK + rnd.nextInt(4096) : rnd.nextInt(1024));
                int off = rnd.nextInt(64);
                UserCopy.Form form = rnd.nextBoolean() ? UserCopy.Form.FLAT : UserCopy.Form.ALIGNED;
                boolean toUser = rnd.nextBoolean();
                int kind = rnd.nextInt(3); // 0 byte[], 1 heap segment, 2 native segment
                MemorySegment kernel = (kind == 2 ? nativeBuffer : MemorySegment.ofArray(heap)).asSlice(off, length);
                long guest = region.boundary() - k;
                int copy = i;
                Supplier<String> what = () -> "seed " + SEED + ", thread " + thread + ", copy " + copy + ": "
                        + (toUser ? "to" : "from") + " user, " + form + ", " + List.of("byte[]", "heap", "native").get(kind)
                        + ", k=" + k + ", length=" + length + ", offset=" + off;

                long left;
                if (toUser) {
                    // The k bytes that will land: fresh ones, or the region's own when it is shared.
                    MemorySegment landing = sharedContent != null
                            ? MemorySegment.ofArray(sharedContent).asSlice(PAGE - k, k)
                            : MemorySegment.ofArray(fill(rnd, fresh, k)).asSlice(0, k);
                    kernel.asSlice(0, k).copyFrom(landing);
                    left = kind == 0
                            ? UserCopy.copyToUser(form, guest, heap, off, length)
                            : UserCopy.copyToUser(form, guest, kernel);
                    assertEquals(length - k, left, what);
                    assertEquals(-1, guestPage.asSlice(PAGE - k, k).mismatch(landing), () -> what.get() + ": guest bytes");
                } else {
                    kernel.fill(SENTINEL);
                    left = kind == 0
                            ? UserCopy.rawCopyFromUser(form, heap, off, guest, length)
                            : UserCopy.rawCopyFromUser(form, kernel, guest);
                    assertEquals(length - k, left, what);
                    MemorySegment expected = sharedContent != null
                            ? MemorySegment.ofArray(sharedContent).asSlice(PAGE - k, k)
                            : guestPage.asSlice(PAGE - k, k);
                    assertEquals(-1, kernel.asSlice(0, k).mismatch(expected), () -> what.get() + ": kernel bytes");
                    long stray = kernel.asSlice(k).mismatch(sentinels.asSlice(0, length - k));
                    if (stray >= 0) {
                        fail(what.get() + ": kernel byte " + (k + stray) + " past the fault was written");
                    }
                }
                if (form == UserCopy.Form.FLAT) {
                    flat++;
                } else {
                    aligned++;
                }
            }
        }
        return new Tally(flat, aligned);
    }

    private static byte[] fill(SplittableRandom rnd, byte[] a, int n) {
        for (int i = 0; i < n; i++) {
            a[i] = (byte) rnd.nextInt();
        }
        return a;
    }
}
