package dev.usercopy.faultinjection;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.BiFunction;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.usercopy.mm.MemoryManager;
import dev.usercopy.platform.ExtableEntry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random layouts of user pages (seeded), random copies through every
 * {@link CopyPath} at random offsets and lengths, each checked byte for byte
 * against the {@link Reference} model.
 *
 * <p>Modes, by system property: {@code usercopy.fi.cases} (default 200,000:
 * 60% host layouts, 40% guest), {@code usercopy.fi.seed} (the run's seed,
 * printed), {@code usercopy.fi.layouts} (stop after this many layouts: with a
 * failing layout's seed and 1, replays just it). A failure prints the layout,
 * the case, the smallest layout and case that still fail, and the command
 * that replays it.
 */
@ExtendWith(Summary.class)
class RandomLayoutTest {
    static final long SEED = Long.getLong("usercopy.fi.seed", System.nanoTime());
    static final long CASES = Long.getLong("usercopy.fi.cases", 200_000);
    static final long MAX_LAYOUTS = Long.getLong("usercopy.fi.layouts", Long.MAX_VALUE);
    private static final long PROGRESS_NANOS = 15_000_000_000L;

    @TempDir
    Path dir;

    static long nextSeed(long seed) {
        return new SplittableRandom(seed ^ 0x5DEECE66DL).nextLong();
    }

    /** 1 to 16 pages mostly; one layout in ten of 66 to 89, so copies pass UserCopy.CRITICAL_CHUNK (64 pages). */
    static int pages(SplittableRandom rnd) {
        return rnd.nextInt(10) == 0 ? 66 + rnd.nextInt(24) : 1 + rnd.nextInt(16);
    }

    @Test
    void hostLayoutsThroughEveryUserCopyPathMatchTheModelAndHitEveryFixupLabel() {
        Map<ExtableEntry, Long> before = hits();
        long cases = CASES * 6 / 10;
        new Driver<>("host", true, CopyPaths.host(), (m, seed) -> new HostLayout(m), 150, "RandomLayoutTest#hostLayouts*")
                .run(cases);
        Map<ExtableEntry, Long> after = hits();
        for (ExtableEntry e : ExtableEntry.all()) {
            long n = after.get(e) - before.get(e);
            Summary.count("Fixup labels taken by the random host layouts", e.label(), "hits", n);
            // A full run takes every label of the flat and aligned forms, strncpy and clear (a replay or
            // a tiny run may miss some). The adaptive form has a label per store of each size class,
            // some too narrow for random lengths to meet every run: ExtableEntryTest reaches each.
            if (MAX_LAYOUTS == Long.MAX_VALUE && CASES >= 100_000 && EVERY_RUN_TAKES.contains(e.label())) {
                assertTrue(n > 0, "the run never took fixup " + e.label() + "; seed " + SEED);
            }
        }
    }

    @Test
    void guestLayoutsThroughEveryAddressSpacePathMatchTheModelWithNoFrameLeaked() {
        try (MemoryManager mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(1 << 16).withAddressSpaceSize(1L << 30))) {
            long cases = CASES - CASES * 6 / 10;
            Driver<GuestLayout> driver = new Driver<>("guest", false, CopyPaths.guest(),
                    (m, seed) -> {
                        SplittableRandom r = new SplittableRandom(seed ^ 0x6A09E667F3BCC909L);
                        return new GuestLayout(mm, m, 0x100000 + (long) Layout.PAGE * r.nextInt(4096), dir, r.nextBoolean());
                    }, 100, "RandomLayoutTest#guestLayouts*");
            driver.afterLayout = (mem, model) -> {
                String f = mem.checkFork(model);
                String g = f != null ? f : mem.checkFile(model);
                mm.checkInvariants();
                return g;
            };
            driver.run(cases);
            mm.checkInvariants();
            assertEquals(0, mm.stats().usedFrames(), "frames in use after every layout's address spaces closed");
        }
    }

    /** The labels of the flat and aligned forms, strncpy and clear. */
    private static final Set<String> EVERY_RUN_TAKES =
            Set.of("usercopy0", "usercopy1", "usercopy1b", "usercopy1c", "usercopy1d", "usercopy2", "usercopy3");

    static Map<ExtableEntry, Long> hits() {
        Map<ExtableEntry, Long> m = new LinkedHashMap<>();
        for (ExtableEntry e : ExtableEntry.all()) {
            m.put(e, e.hits());
        }
        return m;
    }

    /** Layouts one after another until the cases are done; a failure is shrunk and reported. */
    static final class Driver<M extends UserMemory> {
        final String level;
        final boolean host;
        final List<CopyPath<M>> paths;
        final BiFunction<Layout, Long, M> build;
        final int casesPerLayout;
        final String testFilter;
        private CopyPath<M> failingPath;
        private Checker.Case failingCase;
        private int failingIndex;
        /** A check at the end of each layout, before it is closed: a description of what is wrong, or null. */
        BiFunction<M, Layout, String> afterLayout = (m, l) -> null;

        Driver(String level, boolean host, List<CopyPath<M>> paths, BiFunction<Layout, Long, M> build, int casesPerLayout,
               String testFilter) {
            this.level = level;
            this.host = host;
            this.paths = paths;
            this.build = build;
            this.casesPerLayout = casesPerLayout;
            this.testFilter = testFilter;
        }

        void run(long cases) {
            long start = System.nanoTime();
            long lastProgress = start;
            long done = 0;
            long layouts = 0;
            long seed = SEED;
            String table = "Random " + level + " layouts: where the copy stopped x outcome";
            while (done < cases && layouts < MAX_LAYOUTS) {
                SplittableRandom rnd = new SplittableRandom(seed);
                Layout model = Layout.random(rnd, host, pages(rnd));
                Layout original;
                String failed = null;
                try (M memory = build.apply(model, seed)) {
                    original = model.copy(); // as built (the guest settles lazy and tail pages)
                    for (int k = 0; k < casesPerLayout && done < cases && failed == null; k++, done++) {
                        CopyPath<M> path = paths.get(rnd.nextInt(paths.size()));
                        Checker.Case c = Checker.Case.random(rnd, model);
                        Checker.Verdict v = Checker.check(path, memory, model, c);
                        if (v.failure() != null) {
                            failingPath = path;
                            failingCase = c;
                            failingIndex = k;
                            failed = v.failure();
                            break;
                        }
                        Summary.count(table, v.expected().faultKind(model), v.expected().outcome());
                        countCrossed(model, path.op(), c, v.expected());
                        Summary.count("Random layouts: cases by path", path.name(), "cases");
                    }
                    if (failed == null) {
                        String end = afterLayout.apply(memory, model);
                        if (end != null) {
                            fail("layout seed " + seed + " " + model.describe() + ": " + end + "\n  replay: " + replay(seed));
                        }
                    }
                }
                if (failed != null) { // shrunk once the layout is closed: the attempts build their own
                    fail(report(seed, layouts, failingIndex, failingPath, original, failingCase, failed));
                }
                layouts++;
                seed = nextSeed(seed);
                long now = System.nanoTime();
                if (now - lastProgress > PROGRESS_NANOS) {
                    lastProgress = now;
                    System.out.printf("[fault-injection] %s: %,d of %,d cases, %,d layouts, %d s%n", level, done, cases, layouts,
                            (now - start) / 1_000_000_000L);
                }
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            String line = String.format("random %s layouts: %,d cases in %,d layouts, %,d ms, seed %d (replay: -Dusercopy.fi.seed=%d)",
                    level, done, layouts, ms, SEED, SEED);
            System.out.println("[fault-injection] " + line);
            Summary.note(line);
        }

        /** The kinds of the pages a copy went through before it stopped (each once a case), by op. */
        private void countCrossed(Layout model, Op op, Checker.Case c, Reference.Expected e) {
            long end = e.stop() >= 0 ? e.stop()
                    : c.offset() + (op == Op.STRNCPY_FROM_USER ? Math.min(e.result() + 1, c.length()) : c.length());
            java.util.EnumSet<PageKind> crossed = java.util.EnumSet.noneOf(PageKind.class);
            for (long p = c.offset() / Layout.PAGE; p * Layout.PAGE < end && p < model.pages(); p++) {
                crossed.add(model.kinds[(int) p]);
            }
            for (PageKind k : crossed) {
                Summary.count("Random " + level + " layouts: pages copies went through x op", k.label, op.name());
            }
        }

        String replay(long layoutSeed) {
            return "mvn -B -q test -Dtest='" + testFilter + "' -Dusercopy.fi.seed=" + layoutSeed + " -Dusercopy.fi.layouts=1";
        }

        private String report(long seed, long layoutIndex, int caseIndex, CopyPath<M> path, Layout original, Checker.Case c,
                              String failure) {
            StringBuilder s = new StringBuilder("fault-injection case failed: ").append(failure)
                    .append("\n  run seed ").append(SEED).append(", layout #").append(layoutIndex).append(" (layout seed ").append(seed)
                    .append("), case #").append(caseIndex).append(", path ").append(path.name())
                    .append("\n  layout ").append(original.describe()).append("\n  case ").append(c);
            Shrunk shrunk = shrink(path, original, c, seed);
            if (shrunk == null) {
                s.append("\n  on a fresh layout the case alone passes: it needs the cases before it (replay the layout)");
            } else {
                s.append("\n  shrunk to layout ").append(shrunk.layout.describe()).append(", case ").append(shrunk.c)
                        .append(":\n    ").append(shrunk.failure);
            }
            s.append("\n  replay: ").append(replay(seed));
            return s.toString();
        }

        record Shrunk(Layout layout, Checker.Case c, String failure) {}

        /** The failure of {@code c} alone on a fresh build of {@code layout}, or null if it passes. */
        private String attempt(CopyPath<M> path, Layout layout, Checker.Case c, long seed) {
            if (c.offset() < 0 || c.offset() >= layout.size()) {
                return null;
            }
            Layout model = layout.copy();
            try (M memory = build.apply(model, seed)) {
                return Checker.check(path, memory, model, c).failure();
            } catch (RuntimeException e) {
                return null; // a layout that cannot be built is no smaller failure
            }
        }

        /** Greedy: fewer pages, shorter copy, simpler pages, while it still fails. */
        private Shrunk shrink(CopyPath<M> path, Layout layout, Checker.Case c, long seed) {
            String failure = attempt(path, layout, c, seed);
            if (failure == null) {
                return null;
            }
            PageKind simple = host ? PageKind.HOST_RW : PageKind.RW;
            boolean progress = true;
            int budget = 300;
            while (progress && budget > 0) {
                progress = false;
                List<Object[]> candidates = new ArrayList<>();
                int firstPage = (int) (c.offset() / Layout.PAGE);
                if (firstPage > 0) {
                    candidates.add(new Object[] {layout.slice(1, layout.pages()), withOffset(c, c.offset() - Layout.PAGE)});
                }
                if (layout.pages() > firstPage + 1) {
                    candidates.add(new Object[] {layout.slice(0, layout.pages() - 1), c});
                }
                for (int len : new int[] {c.length() / 2, c.length() - 1}) {
                    if (len >= 0 && len < c.length()) {
                        candidates.add(new Object[] {layout, new Checker.Case(c.offset(), len, c.kernelOffset(), c.kernelSeed())});
                    }
                }
                if (c.kernelOffset() != 0) {
                    candidates.add(new Object[] {layout, new Checker.Case(c.offset(), c.length(), 0, c.kernelSeed())});
                }
                for (int p = 0; p < layout.pages(); p++) {
                    if (layout.kinds[p] != simple) {
                        candidates.add(new Object[] {layout.with(p, simple), c});
                    }
                }
                for (Object[] cand : candidates) {
                    if (--budget < 0) {
                        break;
                    }
                    String f = attempt(path, (Layout) cand[0], (Checker.Case) cand[1], seed);
                    if (f != null) {
                        layout = (Layout) cand[0];
                        c = (Checker.Case) cand[1];
                        failure = f;
                        progress = true;
                        break;
                    }
                }
            }
            return new Shrunk(layout, c, failure);
        }

        private static Checker.Case withOffset(Checker.Case c, long offset) {
            return new Checker.Case(offset, c.length(), c.kernelOffset(), c.kernelSeed());
        }
    }
}
