package dev.usercopy.mm;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.usercopy.mm.MemoryManager.ForkMode;
import dev.usercopy.platform.Errno;


/**
 * Seeded random sequences of mmap, munmap, mprotect, madvise(MADV_DONTNEED),
 * fork, close and the four copies on several address spaces of one machine,
 * each checked against {@link GuestModel}, with
 * {@link MemoryManager#checkInvariants()} after every step and a full
 * comparison of every page, of the grants and of the page states every
 * {@value #VERIFY_EVERY} steps and at the end.
 *
 * <p>Replay or run long:
 * {@code -Dusercopy.randomSeed=123 [-Dusercopy.randomSteps=100000] [-Dusercopy.randomMode=COPY_PAGES]}
 * runs only that seed (both fork modes unless one is named).
 * {@code -Dusercopy.randomSteps=N} alone changes the steps of the default seeds.
 * On a failure the last {@value #RECENT} operations are printed, and the sequence is
 * shrunk (for at most {@code -Dusercopy.randomShrinkSeconds} in all, default 60; 0 turns
 * it off) to the shortest one found that fails the same way.
 * {@code -Dusercopy.randomStats=true} prints how the operations ended (to judge the generator);
 *
 * <p>Semantics are Linux's, as {@link GuestModel} says: mprotect over a hole changes
 * the pages before it and is ENOMEM, madvise(MADV_DONTNEED) drops every mapped page of
 * the range and is ENOMEM if it had a hole, copies refuse a range that runs out of user
 * space as a whole. One difference that {@link AddressSpace} makes and the model follows:
 * mmap without MAP_FIXED takes the lowest free range when the hint is not free (the test
 * only checks that the range was free).
 */
class RandomOpsTest {
    private static final long PAGE = AddressSpace.PAGE;
    private static final long MIN_PAGE = AddressSpace.MIN_ADDRESS / PAGE;
    private static final long SPACE_SIZE = 1L << 28;

    static final String SEED_PROP = "usercopy.randomSeed";
    static final String STEPS_PROP = "usercopy.randomSteps";
    static final String MODE_PROP = "usercopy.randomMode";
    static final String SHRINK_PROP = "usercopy.randomShrinkSeconds";
    /** -Dusercopy.randomStats=true: print how often each operation ended which way, to judge the generator. */
    static final boolean STATS = Boolean.getBoolean("usercopy.randomStats");

    private static final long[] SEEDS = {1, 2, 3, 42, 0xC0FFEE, 20251122, -7, 0x5EED_F00DL};
    private static final long TIME_SEED = System.nanoTime();
    private static final int DEFAULT_STEPS = 2_000;
    private static final int MAX_SPACES = 6;
    private static final int VERIFY_EVERY = 64;
    private static final int RECENT = 20;
    /** Runs longer than this keep only the ring of recent operations, not the whole sequence, and are not shrunk. */
    private static final int MAX_RECORDED = 200_000;

    /** The built-in seeds and a time seed, or only -Dusercopy.randomSeed (in -Dusercopy.randomMode, or both modes). */
    static Stream<Arguments> seeds() {
        String replay = System.getProperty(SEED_PROP);
        String mode = System.getProperty(MODE_PROP);
        ForkMode[] modes = mode == null ? ForkMode.values() : new ForkMode[] {ForkMode.valueOf(mode)};
        List<Arguments> out = new ArrayList<>();
        if (replay != null) {
            for (ForkMode m : modes) {
                out.add(Arguments.of(Long.decode(replay), m));
            }
            return out.stream();
        }
        System.out.println("RandomOpsTest: time seed " + TIME_SEED + " (replay with -D" + SEED_PROP + "=" + TIME_SEED + ")");
        for (long seed : SEEDS) {
            for (ForkMode m : modes) {
                out.add(Arguments.of(seed, m));
            }
        }
        for (ForkMode m : modes) {
            out.add(Arguments.of(TIME_SEED, m));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "seed {0}, {1}")
    @MethodSource("seeds")
    void randomOperationsMatchTheModel(long seed, ForkMode mode) {
        int steps = Integer.getInteger(STEPS_PROP, DEFAULT_STEPS);
        long t0 = System.nanoTime();
        run(seed, mode, steps);
        System.out.printf("RandomOpsTest: seed %d %s: %d steps passed in %d ms%n", seed, mode, steps, (System.nanoTime() - t0) / 1_000_000);
    }

    // ---------------------------------------------------------------- one run

    /** What a seed picks besides its operations. */
    record Params(int regionPages, int faultAround, long frames) {
        static Params of(long seed) {
            SplittableRandom r = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
            int[] regions = {64, 128, 256, 640}; // 640 pages from MIN_ADDRESS cross page 512, a page-table leaf boundary
            int region = regions[r.nextInt(regions.length)];
            int[] windows = {1, 4, 16, 16, 64, 512};
            return new Params(region, windows[r.nextInt(windows.length)], region > 256 ? 8192 : 4096);
        }
    }

    private static void run(long seed, ForkMode mode, int steps) {
        Params params = Params.of(seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Op> ops = steps <= MAX_RECORDED ? new ArrayList<>() : null;
        Harness h = new Harness(seed, mode, params);
        try {
            for (int i = 0; i < steps; i++) {
                Op op = h.generate(rnd);
                if (ops != null) {
                    ops.add(op);
                }
                h.apply(op);
            }
            h.finish();
            if (STATS) {
                System.out.println("RandomOpsTest stats seed " + seed + " " + mode + " " + params + ": " + h.stats);
            }
        } catch (Throwable t) {
            String report = "FAILED: " + (t instanceof AssertionError ? t.getMessage() : h.where() + " " + t) + "\nlast operations (replay with -D" + SEED_PROP + "=" + seed + " -D" + MODE_PROP + "=" + mode
                    + " -D" + STEPS_PROP + "=" + steps + "):\n" + String.join("\n", h.recent) + "\n" + shrinkReport(seed, mode, params, ops);
            System.err.println("RandomOpsTest " + report);
            throw new AssertionError(report, t);
        } finally {
            h.closeQuietly();
        }
    }

    // ---------------------------------------------------------------- operations

    /** One step. {@code s} picks an address space: index into the live ones, modulo their number. */
    sealed interface Op {}

    /** The op with its address space index reduced modulo the live ones (as generated; shrinking may leave larger ones). */
    static Op withSlot(Op o, int live) {
        if (live == 0) {
            return o;
        }
        return switch (o) {
            case Fork x -> new Fork(x.s() % live);
            case Close x -> new Close(x.s() % live);
            case Mmap x -> new Mmap(x.s() % live, x.addr(), x.length(), x.prot(), x.flags());
            case Munmap x -> new Munmap(x.s() % live, x.addr(), x.length());
            case Mprotect x -> new Mprotect(x.s() % live, x.addr(), x.length(), x.prot());
            case DontNeed x -> new DontNeed(x.s() % live, x.addr(), x.length());
            case CopyTo x -> new CopyTo(x.s() % live, x.addr(), x.length(), x.dataSeed(), x.zeroOneIn());
            case CopyFrom x -> new CopyFrom(x.s() % live, x.addr(), x.length(), x.bufOffset());
            case Clear x -> new Clear(x.s() % live, x.addr(), x.length());
            case Strncpy x -> new Strncpy(x.s() % live, x.addr(), x.count(), x.bufOffset());
            case NewSpace x -> x;
            case Verify x -> x;
        };
    }

    record NewSpace() implements Op {
        @Override
        public String toString() {
            return "newAddressSpace()";
        }
    }

    record Fork(int s) implements Op {
        @Override
        public String toString() {
            return "as[" + s + "].fork()";
        }
    }

    record Close(int s) implements Op {
        @Override
        public String toString() {
            return "as[" + s + "].close()";
        }
    }

    record Mmap(int s, long addr, long length, int prot, int flags) implements Op {
        @Override
        public String toString() {
            return "as[" + s + "].mmap(" + hex(addr) + ", " + hex(length) + ", " + Prot.toString(prot) + ", " + flagNames(flags) + ")";
        }
    }

    record Munmap(int s, long addr, long length) implements Op {
        @Override
        public String toString() {
            return "as[" + s + "].munmap(" + hex(addr) + ", " + hex(length) + ")";
        }
    }

    record Mprotect(int s, long addr, long length, int prot) implements Op {
        @Override
        public String toString() {
            return "as[" + s + "].mprotect(" + hex(addr) + ", " + hex(length) + ", " + Prot.toString(prot) + ")";
        }
    }

    record DontNeed(int s, long addr, long length) implements Op {
        @Override
        public String toString() {
            return "as[" + s + "].madviseDontNeed(" + hex(addr) + ", " + hex(length) + ")";
        }
    }

    /** copyToUser of {@code length} bytes made from {@code dataSeed}: non-zero, but 0 with odds 1 in {@code zeroOneIn} (never if 0). */
    record CopyTo(int s, long addr, int length, long dataSeed, int zeroOneIn) implements Op {
        @Override
        public String toString() {
            return "as[" + s + "].copyToUser(" + hex(addr) + ", " + length + " bytes of seed " + dataSeed + (zeroOneIn > 0 ? ", NUL 1 in " + zeroOneIn : "") + ")";
        }
    }

    record CopyFrom(int s, long addr, int length, int bufOffset) implements Op {
        @Override
        public String toString() {
            return "as[" + s + "].copyFromUser(buf@" + bufOffset + ", " + hex(addr) + ", " + length + ")";
        }
    }

    record Clear(int s, long addr, long length) implements Op {
        @Override
        public String toString() {
            return "as[" + s + "].clearUser(" + hex(addr) + ", " + length + ")";
        }
    }

    record Strncpy(int s, long addr, int count, int bufOffset) implements Op {
        @Override
        public String toString() {
            return "as[" + s + "].strncpyFromUser(buf@" + bufOffset + ", " + hex(addr) + ", " + count + ")";
        }
    }

    /** Compares everything: every page's bytes, the grants, the page states, the frames of shared pages. */
    record Verify() implements Op {
        @Override
        public String toString() {
            return "verify()";
        }
    }

    static String hex(long v) {
        return v < 0 ? "-0x" + Long.toHexString(-v) : "0x" + Long.toHexString(v);
    }

    static String flagNames(int flags) {
        List<String> out = new ArrayList<>();
        if ((flags & MapFlags.SHARED) != 0) {
            out.add("SHARED");
        }
        if ((flags & MapFlags.PRIVATE) != 0) {
            out.add("PRIVATE");
        }
        if ((flags & MapFlags.FIXED) != 0) {
            out.add("FIXED");
        }
        if ((flags & MapFlags.FIXED_NOREPLACE) != 0) {
            out.add("FIXED_NOREPLACE");
        }
        if ((flags & MapFlags.POPULATE) != 0) {
            out.add("POPULATE");
        }
        return out.isEmpty() ? "0" : String.join("|", out);
    }

    // ---------------------------------------------------------------- the harness

    /** One machine, its live address spaces and their models, in the same order. */
    static final class Harness {
        final long seed;
        final ForkMode mode;
        final Params params;
        final MemoryManager mm;
        final List<AddressSpace> real = new ArrayList<>();
        final List<GuestModel.Space> model = new ArrayList<>();
        final ArrayDeque<String> recent = new ArrayDeque<>();
        final long regionEnd; // pages [MIN_PAGE, regionEnd) are where mmap puts things
        final Map<String, Integer> stats = new java.util.TreeMap<>();
        /** The operations applied, with their address space indexes reduced, when recording (for the shrinker). */
        List<Op> applied;
        int nextId;
        int verifyCount;
        int step = -1;
        Op op;

        Harness(long seed, ForkMode mode, Params params) {
            this.seed = seed;
            this.mode = mode;
            this.params = params;
            this.regionEnd = MIN_PAGE + params.regionPages();
            this.mm = new MemoryManager(MemoryManager.Config.defaults()
                    .withFrames(params.frames())
                    .withAddressSpaceSize(SPACE_SIZE)
                    .withFaultAround(params.faultAround())
                    .withForkMode(mode));
        }

        String where() {
            return "[seed=" + seed + " mode=" + mode + " " + params + " step=" + step + " op=" + op + "]";
        }

        // ------------------------------------------------------------ generation

        Op generate(SplittableRandom r) {
            int live = model.size();
            if (live == 0) {
                return new NewSpace();
            }
            if (step % VERIFY_EVERY == VERIFY_EVERY - 2) {
                return new Verify();
            }
            int s = r.nextInt(live);
            int k = r.nextInt(1000);
            if (k < 110) {
                return genMmapFixed(r, s);
            } else if (k < 140) {
                return genMmapAnywhere(r, s);
            } else if (k < 200) {
                long[] a = genRange(r, s, 4);
                return new Munmap(s, a[0], a[1]);
            } else if (k < 270) {
                long[] a = genRange(r, s, 4);
                return new Mprotect(s, a[0], a[1], genProt(r));
            } else if (k < 310) {
                long[] a = genRange(r, s, 4);
                return new DontNeed(s, a[0], a[1]);
            } else if (k < 340) {
                return live < MAX_SPACES ? new Fork(s) : new Close(s);
            } else if (k < 355) {
                return new Close(s);
            } else if (k < 362) {
                return live < MAX_SPACES ? new NewSpace() : new Close(s);
            } else if (k < 550) {
                int[] zeros = {0, 16, 300};
                return new CopyTo(s, genAddr(r, s), genLength(r), r.nextLong(), zeros[r.nextInt(zeros.length)]);
            } else if (k < 750) {
                return new CopyFrom(s, genAddr(r, s), genLength(r), r.nextInt(8));
            } else if (k < 850) {
                return new Clear(s, genAddr(r, s), genLength(r));
            } else if (k < 990) {
                int count = r.nextInt(2) == 0 ? r.nextInt(64) : r.nextInt(3 * (int) PAGE);
                return new Strncpy(s, genAddr(r, s), count, r.nextInt(8));
            } else {
                return genInvalid(r, s);
            }
        }

        int genProt(SplittableRandom r) {
            return r.nextInt(2) == 0 ? Prot.READ | Prot.WRITE : r.nextInt(8);
        }

        long genPages(SplittableRandom r) {
            int k = r.nextInt(100);
            return k < 50 ? 1 + r.nextInt(4) : k < 85 ? 1 + r.nextInt(32) : 1 + r.nextInt(params.regionPages());
        }

        /** Bytes for n pages, sometimes short of the last page (rounded up by the callee). */
        static long bytesOf(SplittableRandom r, long pages) {
            return pages * PAGE - (r.nextInt(4) == 0 ? r.nextInt((int) PAGE) : 0);
        }

        /** A random mapped page of space {@code s}, or -1 if it maps nothing. */
        long mappedPage(SplittableRandom r, int s) {
            GuestModel.Space m = model.get(s);
            if (m.pages.isEmpty()) {
                return -1;
            }
            // A random page between the first and last mapped, then the mapped page at or after it.
            long lo = m.pages.firstKey();
            long hi = m.pages.lastKey();
            return m.pages.ceilingKey(lo + (long) r.nextInt((int) (hi - lo + 1)));
        }

        /**
         * {addr, length} of a page-aligned range: half the time inside (or one to three pages past)
         * the mapped run around a mapped page of space {@code s}, so mprotect and madvise mostly succeed;
         * else starting anywhere in the region and ending at most {@code slack} pages past it.
         */
        long[] genRange(SplittableRandom r, int s, long slack) {
            long p = r.nextInt(2) == 0 ? mappedPage(r, s) : -1;
            if (p >= 0) {
                GuestModel.Space m = model.get(s);
                long a = p;
                while (a - 1 >= MIN_PAGE && m.at(a - 1) != null && p - a < 64) {
                    a--;
                }
                long b = p + 1;
                while (m.at(b) != null && b - p < 64) {
                    b++;
                }
                long start = a + r.nextInt((int) (p - a + 1));
                long end = p + 1 + r.nextInt((int) (b - p)) + (r.nextInt(5) == 0 ? 1 + r.nextInt(3) : 0);
                return new long[] {start * PAGE, bytesOf(r, end - start)};
            }
            return genRange(r, slack);
        }

        /** {addr, length} of a page-aligned range starting in the region, ending at most {@code slack} pages past it. */
        long[] genRange(SplittableRandom r, long slack) {
            long start = MIN_PAGE + r.nextInt((int) (regionEnd - MIN_PAGE));
            long n = Math.min(genPages(r), regionEnd + slack - start);
            return new long[] {start * PAGE, bytesOf(r, n)};
        }

        Op genMmapFixed(SplittableRandom r, int s) {
            long[] a = genRange(r, 0);
            int flags = (r.nextInt(10) < 3 ? MapFlags.SHARED : MapFlags.PRIVATE)
                    | (r.nextInt(7) == 0 ? MapFlags.FIXED_NOREPLACE : MapFlags.FIXED)
                    | (r.nextInt(10) == 0 ? MapFlags.POPULATE : 0);
            return new Mmap(s, a[0], a[1], genProt(r), flags);
        }

        Op genMmapAnywhere(SplittableRandom r, int s) {
            long n = 1 + r.nextInt(16);
            int k = r.nextInt(4);
            long hint = k == 0 ? 0 : (MIN_PAGE + r.nextInt((int) (regionEnd - MIN_PAGE))) * PAGE + (k == 1 ? 1 + r.nextInt((int) PAGE - 1) : 0);
            int flags = (r.nextInt(10) < 3 ? MapFlags.SHARED : MapFlags.PRIVATE) | (r.nextInt(10) == 0 ? MapFlags.POPULATE : 0);
            return new Mmap(s, hint, bytesOf(r, n), genProt(r), flags);
        }

        /** Calls that must fail with EINVAL or EPERM and change nothing. */
        Op genInvalid(SplittableRandom r, int s) {
            long[] a = genRange(r, 0);
            long misaligned = a[0] + 1 + r.nextInt((int) PAGE - 1);
            return switch (r.nextInt(7)) {
                case 0 -> new Mmap(s, r.nextInt((int) MIN_PAGE) * PAGE, a[1], Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED); // EPERM
                case 1 -> new Mmap(s, misaligned, a[1], Prot.READ, MapFlags.PRIVATE | MapFlags.FIXED); // EINVAL
                case 2 -> new Mmap(s, a[0], r.nextInt(2) == 0 ? 0 : -PAGE, Prot.READ, MapFlags.PRIVATE | MapFlags.FIXED); // EINVAL
                case 3 -> new Mmap(s, a[0], a[1], Prot.READ, r.nextInt(2) == 0 ? MapFlags.FIXED : MapFlags.SHARED | MapFlags.PRIVATE | MapFlags.FIXED); // EINVAL
                case 4 -> new Munmap(s, misaligned, a[1]); // EINVAL
                case 5 -> new Mprotect(s, misaligned, a[1], Prot.READ); // EINVAL
                default -> new DontNeed(s, misaligned, a[1]); // EINVAL
            };
        }

        /** A guest byte address: mostly on a mapped page of space {@code s}, else in the region or a page either side; often near a page boundary. */
        long genAddr(SplittableRandom r, int s) {
            long page = r.nextInt(3) != 0 ? mappedPage(r, s) : -1;
            if (page < 0) {
                page = MIN_PAGE - 1 + r.nextInt((int) (regionEnd - MIN_PAGE) + 2);
            }
            int k = r.nextInt(4);
            long off = k == 0 ? 0 : k == 1 ? PAGE - 1 - r.nextInt(64) : r.nextInt((int) PAGE);
            return page * PAGE + off;
        }

        static int genLength(SplittableRandom r) {
            int k = r.nextInt(100);
            return k < 35 ? r.nextInt(17) : k < 85 ? r.nextInt(2 * (int) PAGE + 1) : r.nextInt(24 * (int) PAGE + 1);
        }

        // ------------------------------------------------------------ application

        void apply(Op raw) {
            step++;
            Op o = withSlot(raw, real.size());
            op = o;
            if (applied != null) {
                applied.add(o);
            }
            recent.addLast("step " + step + ": " + o);
            if (recent.size() > RECENT) {
                recent.removeFirst();
            }
            switch (o) {
                case NewSpace x -> newSpace();
                case Fork x -> fork(x);
                case Close x -> close(x);
                case Mmap x -> mmap(x);
                case Munmap x -> munmap(x);
                case Mprotect x -> mprotect(x);
                case DontNeed x -> dontNeed(x);
                case CopyTo x -> copyTo(x);
                case CopyFrom x -> copyFrom(x);
                case Clear x -> clear(x);
                case Strncpy x -> strncpy(x);
                case Verify x -> verify();
            }
            checkInvariants();
        }

        void checkInvariants() {
            try {
                mm.checkInvariants();
            } catch (IllegalStateException e) {
                throw new AssertionError(where() + " invariant broken: " + e.getMessage(), e);
            }
            check(mm.stats().addressSpaces() == real.size(), () -> "manager counts " + mm.stats().addressSpaces() + " address spaces, the model " + real.size());
        }

        /** The end of a run: a last full comparison, then every address space closed, which must give every frame back. */
        void finish() {
            step++;
            op = new Verify();
            verifyCount = 0; // so this one checks the host mappings too
            verify();
            while (!real.isEmpty()) {
                op = new Close(0);
                close((Close) op);
                checkInvariants();
            }
            MemoryManager.Stats st = mm.stats();
            check(st.usedFrames() == 0, () -> st.usedFrames() + " frames still used with every address space closed");
            check(st.vmas() == 0, () -> st.vmas() + " host mappings still counted with every address space closed");
        }

        void closeQuietly() {
            try {
                mm.close();
            } catch (RuntimeException ignored) {
                // the failure being reported matters more
            }
        }

        void check(boolean ok, Supplier<String> what) {
            if (!ok) {
                throw new AssertionError(where() + " " + what.get());
            }
        }

        void checkEquals(long want, long got, String what) {
            if (want != got) {
                throw new AssertionError(where() + " " + what + ": expected " + want + " but was " + got);
            }
        }

        void count(String what) {
            stats.merge(what, 1, Integer::sum);
        }

        /** Counts an outcome: none, part or all of {@code n} bytes done. */
        void countCopy(String what, long done, long n) {
            count(what + (n == 0 ? ":empty" : done == n ? ":all" : done == 0 ? ":none" : ":part"));
        }

        void expectErrno(Errno want, Runnable call) {
            count(op.getClass().getSimpleName() + ":" + want);
            try {
                call.run();
            } catch (ErrnoException e) {
                check(e.errno() == want, () -> "expected " + want + " but got " + e.getMessage());
                return;
            }
            throw new AssertionError(where() + " expected " + want + " but the call succeeded");
        }

        private int slot(int s) {
            return s % real.size();
        }

        void newSpace() {
            if (real.size() >= MAX_SPACES) {
                return;
            }
            real.add(mm.newAddressSpace());
            model.add(new GuestModel.Space(nextId++));
        }

        void fork(Fork x) {
            if (real.isEmpty() || real.size() >= MAX_SPACES) {
                return;
            }
            int i = slot(x.s());
            count("fork:" + real.size());
            real.add(real.get(i).fork());
            model.add(model.get(i).fork(nextId++));
        }

        void close(Close x) {
            if (real.isEmpty()) {
                return;
            }
            int i = slot(x.s());
            real.remove(i).close();
            model.remove(i);
        }

        void mmap(Mmap x) {
            if (real.isEmpty()) {
                return;
            }
            AddressSpace as = real.get(slot(x.s()));
            GuestModel.Space m = model.get(slot(x.s()));
            boolean shared = (x.flags() & MapFlags.SHARED) != 0;
            boolean fixed = (x.flags() & (MapFlags.FIXED | MapFlags.FIXED_NOREPLACE)) != 0;
            long n = (x.length() + PAGE - 1) / PAGE;
            // do_mmap's order: the length, the fixed address (range, alignment, mmap_min_addr),
            // MAP_FIXED_NOREPLACE's overlap, then the mapping type.
            Errno want = null;
            if (x.length() == 0) {
                want = Errno.EINVAL;
            } else if (x.length() < 0 || x.length() > SPACE_SIZE) {
                want = Errno.ENOMEM;
            } else if (fixed && Long.compareUnsigned(x.addr(), SPACE_SIZE - n * PAGE) > 0) {
                want = Errno.ENOMEM;
            } else if (fixed && x.addr() % PAGE != 0) {
                want = Errno.EINVAL;
            } else if (fixed && x.addr() < AddressSpace.MIN_ADDRESS) {
                want = Errno.EPERM;
            } else if ((x.flags() & MapFlags.FIXED_NOREPLACE) != 0 && m.anyMapped(x.addr() / PAGE, n)) {
                want = Errno.EEXIST;
            } else if (shared == ((x.flags() & MapFlags.PRIVATE) != 0)) {
                want = Errno.EINVAL;
            }
            if (want != null) {
                expectErrno(want, () -> as.mmap(x.addr(), x.length(), x.prot(), x.flags()));
                checkGrants(as, m);
                return;
            }
            long got = as.mmap(x.addr(), x.length(), x.prot(), x.flags());
            count(fixed ? "mmap:fixed" : "mmap:anywhere");
            if (fixed) {
                checkEquals(x.addr(), got, "MAP_FIXED address");
            } else {
                check(got % PAGE == 0 && got >= AddressSpace.MIN_ADDRESS && got / PAGE + n <= SPACE_SIZE / PAGE,
                        () -> "mmap returned " + hex(got) + ", not a page-aligned address of the address space from MIN_ADDRESS");
                check(!m.anyMapped(got / PAGE, n), () -> "mmap returned " + hex(got) + " whose range overlaps a mapping");
                long hint = x.addr() & -PAGE; // Linux x86 rounds a hint down to its page
                boolean hintFree = hint >= AddressSpace.MIN_ADDRESS && hint / PAGE + n <= SPACE_SIZE / PAGE && !m.anyMapped(hint / PAGE, n);
                check(!hintFree || got == hint, () -> "mmap returned " + hex(got) + " though the hint " + hex(x.addr()) + " was free");
            }
            m.map(got / PAGE, n, x.prot(), shared);
            if (got / PAGE + n > regionEnd) {
                // No room in the region: give it back, so the address spaces stay within the region.
                as.munmap(got, n * PAGE);
                m.unmap(got / PAGE, n);
            }
        }

        /** Linux's mprotect and madvise succeed, doing nothing, on an empty range at an aligned address. */
        static boolean emptyAligned(long addr, long length) {
            return length == 0 && addr % PAGE == 0 && addr >= 0;
        }

        /** [first page, end page) of a munmap/mprotect/madvise range, or null for EINVAL. */
        static long[] pageRange(long addr, long length) {
            if (addr % PAGE != 0 || length <= 0 || addr < 0 || addr > SPACE_SIZE - length) {
                return null;
            }
            return new long[] {addr / PAGE, (addr + length + PAGE - 1) / PAGE};
        }

        void munmap(Munmap x) {
            if (real.isEmpty()) {
                return;
            }
            AddressSpace as = real.get(slot(x.s()));
            GuestModel.Space m = model.get(slot(x.s()));
            long[] r = pageRange(x.addr(), x.length());
            if (r == null) {
                expectErrno(Errno.EINVAL, () -> as.munmap(x.addr(), x.length()));
                return;
            }
            as.munmap(x.addr(), x.length()); // Linux: unmapping a range with holes (or nothing) is fine
            m.unmap(r[0], r[1] - r[0]);
        }

        /** Linux's {@code start + PAGE_ALIGN(len)} in unsigned arithmetic. */
        static long alignedEnd(long addr, long length) {
            return addr + ((length + PAGE - 1) & -PAGE);
        }

        /** The first page at or past unsigned byte address {@code end}, cut at the end of the space. */
        static long pageLimit(long end) {
            return Long.compareUnsigned(end, SPACE_SIZE) >= 0 ? SPACE_SIZE / PAGE : end / PAGE;
        }

        static boolean accessOk(long addr, long length) {
            return length == 0 || addr >= 0 && length > 0 && addr <= SPACE_SIZE - length;
        }

        /**
         * Linux's mprotect (do_mprotect_pkey): EINVAL unaligned, nothing for
         * length 0, ENOMEM if the range wraps or its first page is unmapped;
         * then the pages are changed up to the first hole, which is ENOMEM.
         */
        void mprotect(Mprotect x) {
            if (real.isEmpty()) {
                return;
            }
            AddressSpace as = real.get(slot(x.s()));
            GuestModel.Space m = model.get(slot(x.s()));
            Runnable call = () -> as.mprotect(x.addr(), x.length(), x.prot());
            if (x.addr() % PAGE != 0) {
                expectErrno(Errno.EINVAL, call);
                return;
            }
            if (x.length() == 0) {
                call.run();
                checkGrants(as, m);
                return;
            }
            long end = alignedEnd(x.addr(), x.length());
            if (Long.compareUnsigned(end, x.addr()) <= 0 || Long.compareUnsigned(x.addr(), SPACE_SIZE) >= 0) {
                expectErrno(Errno.ENOMEM, call);
                checkGrants(as, m);
                return;
            }
            long from = x.addr() / PAGE;
            long to = pageLimit(end);
            long hole = m.firstHole(from, to - from);
            long upTo = hole >= 0 ? hole : to;
            m.protect(from, upTo - from, x.prot());
            if (hole >= 0 || Long.compareUnsigned(end, SPACE_SIZE) > 0) {
                count("mprotect:hole");
                expectErrno(Errno.ENOMEM, call);
                checkGrants(as, m);
                return;
            }
            call.run();
            count("mprotect:ok");
        }

        /**
         * Linux's MADV_DONTNEED (do_madvise): EINVAL unaligned or wrapping,
         * nothing for length 0; then every mapped page of the range is
         * dropped, and a hole anywhere is ENOMEM at the end.
         */
        void dontNeed(DontNeed x) {
            if (real.isEmpty()) {
                return;
            }
            AddressSpace as = real.get(slot(x.s()));
            GuestModel.Space m = model.get(slot(x.s()));
            Runnable call = () -> as.madviseDontNeed(x.addr(), x.length());
            long end = alignedEnd(x.addr(), x.length());
            if (x.addr() % PAGE != 0 || x.length() != 0 && end == x.addr() || Long.compareUnsigned(end, x.addr()) < 0) {
                expectErrno(Errno.EINVAL, call);
                return;
            }
            if (end == x.addr()) {
                call.run();
                return;
            }
            long from = pageLimit(x.addr());
            long to = pageLimit(end);
            m.dontNeed(from, to - from);
            if (m.firstHole(from, to - from) >= 0 || Long.compareUnsigned(end, SPACE_SIZE) > 0) {
                count("dontneed:hole");
                expectErrno(Errno.ENOMEM, call);
                checkContents(slot(x.s()), as, m, from, to);
                return;
            }
            call.run();
            count("dontneed:ok");
        }

        void copyTo(CopyTo x) {
            if (real.isEmpty()) {
                return;
            }
            AddressSpace as = real.get(slot(x.s()));
            GuestModel.Space m = model.get(slot(x.s()));
            SplittableRandom dr = new SplittableRandom(x.dataSeed());
            int off = dr.nextInt(8);
            byte[] src = new byte[off + x.length() + dr.nextInt(8)];
            for (int i = 0; i < src.length; i++) {
                src[i] = x.zeroOneIn() > 0 && dr.nextInt(x.zeroOneIn()) == 0 ? 0 : (byte) (1 + dr.nextInt(255));
            }
            long ok = accessOk(x.addr(), x.length()) ? m.accessible(x.addr(), x.length(), true) : 0;
            long left = as.copyToUser(x.addr(), src, off, x.length());
            checkEquals(x.length() - ok, left, "copyToUser bytes not copied (first unwritable byte at +" + ok + ")");
            countCopy("copyTo", ok, x.length());
            m.write(x.addr(), src, off, (int) ok);
        }

        void copyFrom(CopyFrom x) {
            if (real.isEmpty()) {
                return;
            }
            AddressSpace as = real.get(slot(x.s()));
            GuestModel.Space m = model.get(slot(x.s()));
            byte[] buf = sentinel(x.bufOffset() + x.length() + 8);
            long ok = accessOk(x.addr(), x.length()) ? m.accessible(x.addr(), x.length(), false) : 0;
            // Odd addresses take the raw form, which leaves the bytes it did not copy alone;
            // the other zeroes them, as Linux's copy_from_user does.
            boolean raw = (x.addr() & 1) != 0;
            long left = raw ? as.rawCopyFromUser(buf, x.bufOffset(), x.addr(), x.length()) : as.copyFromUser(buf, x.bufOffset(), x.addr(), x.length());
            checkEquals(x.length() - ok, left, "copyFromUser bytes not copied (first unreadable byte at +" + ok + ")");
            countCopy("copyFrom", ok, x.length());
            compare(m.read(x.addr(), (int) ok), 0, buf, x.bufOffset(), (int) ok, x.addr(), "copyFromUser");
            checkSentinel(buf, 0, x.bufOffset(), "copyFromUser wrote before its buffer");
            int end = x.bufOffset() + x.length();
            if (raw) {
                checkSentinel(buf, x.bufOffset() + (int) ok, buf.length, "rawCopyFromUser wrote past the bytes it says it copied");
            } else {
                compare(new byte[(int) (x.length() - ok)], 0, buf, x.bufOffset() + (int) ok, (int) (x.length() - ok), x.addr() + ok,
                        "copyFromUser's zero fill of the bytes it did not copy");
                checkSentinel(buf, end, buf.length, "copyFromUser wrote past its buffer");
            }
        }

        void clear(Clear x) {
            if (real.isEmpty()) {
                return;
            }
            AddressSpace as = real.get(slot(x.s()));
            GuestModel.Space m = model.get(slot(x.s()));
            long ok = accessOk(x.addr(), x.length()) ? m.accessible(x.addr(), x.length(), true) : 0;
            long left = as.clearUser(x.addr(), x.length());
            checkEquals(x.length() - ok, left, "clearUser bytes not cleared (first unwritable byte at +" + ok + ")");
            countCopy("clear", ok, x.length());
            m.write(x.addr(), new byte[(int) ok], 0, (int) ok);
        }

        void strncpy(Strncpy x) {
            if (real.isEmpty()) {
                return;
            }
            AddressSpace as = real.get(slot(x.s()));
            GuestModel.Space m = model.get(slot(x.s()));
            byte[] buf = sentinel(x.bufOffset() + x.count() + 8);
            long want = m.strncpy(x.addr(), x.count());
            long got = as.strncpyFromUser(buf, x.bufOffset(), x.addr(), x.count());
            checkEquals(want, got, "strncpyFromUser result (length, count, or -EFAULT)");
            count(want < 0 ? "strncpy:efault" : want == x.count() ? "strncpy:count" : "strncpy:nul");
            checkSentinel(buf, 0, x.bufOffset(), "strncpyFromUser wrote before its buffer");
            checkSentinel(buf, x.bufOffset() + x.count(), buf.length, "strncpyFromUser wrote past count");
            if (want >= 0) {
                compare(m.read(x.addr(), (int) want), 0, buf, x.bufOffset(), (int) want, x.addr(), "strncpyFromUser");
                check(want == x.count() || buf[x.bufOffset() + (int) want] == 0, () -> "strncpyFromUser did not store the NUL after " + want + " bytes");
            }
        }

        static byte[] sentinel(int n) {
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) {
                b[i] = sentinelAt(i);
            }
            return b;
        }

        static byte sentinelAt(int i) {
            return (byte) (0xA5 ^ i * 31);
        }

        void checkSentinel(byte[] buf, int from, int to, String what) {
            for (int i = from; i < to; i++) {
                if (buf[i] != sentinelAt(i)) {
                    int at = i;
                    check(false, () -> what + ": buffer index " + at + " changed");
                }
            }
        }

        void compare(byte[] want, int wantOff, byte[] got, int gotOff, int n, long addr, String what) {
            int i = Arrays.mismatch(want, wantOff, wantOff + n, got, gotOff, gotOff + n);
            if (i >= 0) {
                check(false, () -> what + ": guest byte " + hex(addr + i) + " (+" + i + ") reads " + got[gotOff + i] + ", the model says " + want[wantOff + i]
                        + " (" + countMismatches(want, wantOff, got, gotOff, n) + " of " + n + " bytes differ)");
            }
        }

        static int countMismatches(byte[] a, int ao, byte[] b, int bo, int n) {
            int c = 0;
            for (int i = 0; i < n; i++) {
                c += a[ao + i] != b[bo + i] ? 1 : 0;
            }
            return c;
        }

        // ------------------------------------------------------------ full comparison

        void verify() {
            verifyCount++;
            Map<GuestModel.Page, long[]> sharedFrames = new IdentityHashMap<>();
            for (int i = 0; i < real.size(); i++) {
                AddressSpace as = real.get(i);
                GuestModel.Space m = model.get(i);
                checkGrants(as, m);
                checkPageStates(i, as, m);
                checkContents(i, as, m);
                checkSharedFrames(i, as, m, sharedFrames);
                if (verifyCount % 4 == 1) {
                    checkHostVmas(i, as, m); // reads /proc/self/maps: not every time
                }
            }
        }

        /** The VMA model's count against the kernel's, over the guest range: equal. */
        void checkHostVmas(int i, AddressSpace as, GuestModel.Space m) {
            long measured = as.hostVmasMeasured();
            long counted = as.vmas();
            check(measured == counted,
                    () -> "as[" + i + "] (space #" + m.id + ") has " + measured + " host mappings in /proc/self/maps, the VMA model counts " + counted);
        }

        /** grants() covers exactly the model's mapped pages, with their protections and sharing. */
        void checkGrants(AddressSpace as, GuestModel.Space m) {
            long prevEnd = Long.MIN_VALUE;
            long covered = 0;
            int id = m.id;
            for (Grant g : as.grants()) {
                long pe = prevEnd;
                check(g.pages() > 0 && g.start() >= pe, () -> "space #" + id + ": grant " + g + " is empty or overlaps the one before (ending at page " + pe + ")");
                for (long p = g.start(); p < g.end(); p++) {
                    GuestModel.Mapping mp = m.at(p);
                    long page = p;
                    check(mp != null, () -> "space #" + id + ": grant " + g + " maps page " + hex(page * PAGE) + ", which the model has unmapped");
                    check(mp.prot() == g.prot() && mp.page().shared == g.provider().shared(),
                            () -> "space #" + id + ": page " + hex(page * PAGE) + " has grant " + Prot.toString(g.prot()) + (g.provider().shared() ? " shared" : " private")
                                    + ", the model " + Prot.toString(mp.prot()) + (mp.page().shared ? " shared" : " private"));
                }
                covered += g.pages();
                prevEnd = g.end();
            }
            long c = covered;
            check(c == m.pages.size(), () -> "space #" + id + ": grants cover " + c + " pages, the model maps " + m.pages.size() + " (first model page without a grant: "
                    + m.pages.keySet().stream().filter(p -> !inGrants(as, p)).findFirst().map(p -> hex(p * PAGE)).orElse("none") + ")");
        }

        private static boolean inGrants(AddressSpace as, long page) {
            return as.grants().stream().anyMatch(g -> g.contains(page));
        }

        void checkPageStates(int i, AddressSpace as, GuestModel.Space m) {
            int id = m.id;
            for (long p = MIN_PAGE - 1; p < regionEnd + 1; p++) {
                AddressSpace.PageState st = as.pageState(p * PAGE);
                GuestModel.Mapping mp = m.at(p);
                long page = p;
                Set<AddressSpace.PageState> allowed = mp == null ? Set.of(AddressSpace.PageState.UNMAPPED)
                        : mp.page().shared ? Set.of(AddressSpace.PageState.LAZY, AddressSpace.PageState.SHARED)
                        : Set.of(AddressSpace.PageState.LAZY, AddressSpace.PageState.ZEROED, AddressSpace.PageState.PRIVATE, AddressSpace.PageState.COW_SHARED);
                check(allowed.contains(st), () -> "space #" + id + " (as[" + i + "]): page " + hex(page * PAGE) + " is " + st + ", the model allows " + allowed);
            }
        }

        /** Every mapped page reads as the model says (a whole page) or faults at its first byte; unwritable pages refuse a write. */
        void checkContents(int i, AddressSpace as, GuestModel.Space m) {
            checkContents(i, as, m, Long.MIN_VALUE, Long.MAX_VALUE);
        }

        /** {@link #checkContents(int, AddressSpace, GuestModel.Space)} for the mapped pages in [from, to). */
        void checkContents(int i, AddressSpace as, GuestModel.Space m, long from, long to) {
            byte[] buf = new byte[(int) PAGE];
            for (Map.Entry<Long, GuestModel.Mapping> e : m.pages.subMap(from, to).entrySet()) {
                long addr = e.getKey() * PAGE;
                if (m.readable(e.getKey())) {
                    long left = as.copyFromUser(buf, 0, addr, buf.length);
                    checkEquals(0, left, "verify: as[" + i + "] (space #" + m.id + ") page " + hex(addr) + " " + Prot.toString(e.getValue().prot()) + " bytes not read");
                    compare(e.getValue().page().bytes(), 0, buf, 0, buf.length, addr, "verify: as[" + i + "] (space #" + m.id + ")");
                } else {
                    checkEquals(1, as.copyFromUser(buf, 0, addr + PAGE - 1, 1), "verify: as[" + i + "] page " + hex(addr) + " " + Prot.toString(e.getValue().prot()) + " read of its last byte: bytes not read");
                }
                if (!m.writable(e.getKey())) {
                    checkEquals(1, as.copyToUser(addr, new byte[] {1}, 0, 1), "verify: as[" + i + "] page " + hex(addr) + " " + Prot.toString(e.getValue().prot()) + " write: bytes not written");
                }
            }
        }

        /** A shared page is one frame in every address space that has it present. */
        void checkSharedFrames(int i, AddressSpace as, GuestModel.Space m, Map<GuestModel.Page, long[]> seen) {
            for (Map.Entry<Long, GuestModel.Mapping> e : m.pages.entrySet()) {
                GuestModel.Page page = e.getValue().page();
                long[] f = page.shared ? as.frameOf(e.getKey() * PAGE) : null;
                if (f == null) {
                    continue;
                }
                long[] before = seen.putIfAbsent(page, new long[] {f[0], i});
                long addr = e.getKey() * PAGE;
                check(before == null || before[0] == f[0],
                        () -> "shared page " + hex(addr) + " is frame " + f[0] + " in as[" + i + "] but frame " + before[0] + " in as[" + before[1] + "]");
            }
        }
    }

    // ---------------------------------------------------------------- shrinking

    /** Runs a recorded sequence on a fresh machine; the failure, or null if it passes. */
    private static Failure replayList(long seed, ForkMode mode, Params params, List<Op> ops) {
        Harness h = new Harness(seed, mode, params);
        h.applied = new ArrayList<>();
        try {
            for (Op o : ops) {
                h.apply(o);
            }
            h.finish();
            return null;
        } catch (Throwable t) {
            return new Failure(h.step, h.op == null ? "?" : h.op.getClass().getSimpleName(), t, h.applied);
        } finally {
            h.closeQuietly();
        }
    }

    /** How a replay failed: at which step (the list's size: in the final check), in which kind of operation, and the operations applied. */
    record Failure(int step, String opKind, Throwable error, List<Op> applied) {
        boolean sameAs(Failure o) {
            return o != null && opKind.equals(o.opKind) && error.getClass() == o.error.getClass();
        }
    }

    /** Shrinking time left for this JVM: a broken build fails every seed, and should not take minutes each. */
    private static final java.util.concurrent.atomic.AtomicLong SHRINK_NANOS_LEFT =
            new java.util.concurrent.atomic.AtomicLong(Long.getLong(SHRINK_PROP, 60) * 1_000_000_000L);

    private static synchronized String shrinkReport(long seed, ForkMode mode, Params params, List<Op> ops) {
        if (ops == null || SHRINK_NANOS_LEFT.get() <= 0) {
            return "(not shrunk" + (ops == null ? ": too long to record" : ": no shrinking time left, see -D" + SHRINK_PROP) + ")";
        }
        long start = System.nanoTime();
        long deadline = start + SHRINK_NANOS_LEFT.get();
        try {
            return shrink(seed, mode, params, ops, deadline);
        } finally {
            SHRINK_NANOS_LEFT.addAndGet(-(System.nanoTime() - start));
        }
    }

    /** Greedy delta debugging: drops chunks of operations, halving the chunk, while the failure stays the same kind. */
    private static String shrink(long seed, ForkMode mode, Params params, List<Op> ops, long deadline) {
        Failure target = replayList(seed, mode, params, ops);
        if (target == null) {
            return "(the recorded sequence does not fail on replay: not shrunk)";
        }
        List<Op> best = new ArrayList<>(target.applied());
        int chunk = Math.max(1, best.size() / 2);
        boolean timedOut = false;
        while (true) {
            boolean removed = false;
            for (int i = 0; i < best.size(); ) {
                if (System.nanoTime() > deadline) {
                    timedOut = true;
                    break;
                }
                List<Op> candidate = new ArrayList<>(best.subList(0, i));
                candidate.addAll(best.subList(Math.min(best.size(), i + chunk), best.size()));
                Failure f = replayList(seed, mode, params, candidate);
                if (target.sameAs(f)) {
                    best = new ArrayList<>(f.applied());
                    target = f;
                    removed = true;
                } else {
                    i += chunk;
                }
            }
            if (timedOut || (!removed && chunk == 1)) {
                break;
            }
            if (!removed) {
                chunk = Math.max(1, chunk / 2);
            }
        }
        StringBuilder sb = new StringBuilder("shrunk to " + best.size() + " operations" + (timedOut ? " (time ran out)" : "") + ", params " + params + ", mode " + mode
                + ", failing with: " + target.error() + "\n");
        for (int i = 0; i < best.size(); i++) {
            sb.append("  ").append(i).append(": ").append(best.get(i)).append('\n');
        }
        if (target.step() >= best.size()) {
            sb.append("  then the final check: verify(), close every address space, no frame left used\n");
        }
        return sb.toString();
    }
}
