package dev.usercopy.faultinjection;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.usercopy.mm.MemoryManager;
import dev.usercopy.mm.MemoryManager.ForkMode;
import dev.usercopy.mm.Profile;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Linux as the oracle for all of mm: seeded random sequences of mmap
 * (anonymous and file, every prot, MAP_SHARED / MAP_PRIVATE / neither / both,
 * MAP_FIXED, MAP_FIXED_NOREPLACE, hints aligned or not, MAP_POPULATE),
 * munmap, mprotect, madvise(MADV_DONTNEED), msync (partial, unaligned, empty,
 * negative, huge and hole-spanning ranges), the four user copies near page
 * boundaries, fork with operations on both sides, and exit, each run on a
 * guest {@code AddressSpace} and on the top of user space of a host process
 * ({@code mm-oracle-helper.c}, compiled with gcc here), compared step by step
 * (see {@link MmOracleRun}).
 *
 * <p>The host side: guest address {@code a} is host address
 * {@code TASK_SIZE - size + a}, so the guest's end of user space is the
 * host's and every range past it meets the same checks. The host's copy
 * counts come from the kernel's own user copies on the region:
 * {@code pwrite} of a memfd (copy_from_user), {@code pread} of a memfd
 * (copy_to_user), {@code read} of {@code /dev/zero} (clear_user; exact, as
 * probed on this kernel), {@code prctl(PR_SET_NAME)} (strncpy_from_user with
 * a count of 15: other counts are StrncpyFromUserTest's).
 *
 * <p>Properties: {@code usercopy.mmoracle.seed} (the run's seed, printed),
 * {@code usercopy.mmoracle.sequences} (default 2,000; the long mode is a big
 * number), {@code usercopy.mmoracle.strict=true} (known differences fail
 * too), {@code usercopy.mmoracle.shrinkSeconds} (default 60).
 */
@ExtendWith(Summary.class)
class MmOracleTest {
    /**
     * A fixed seed by default: the one open difference (a private file page
     * as a snapshot, {@code PRIVATE_FILE_SNAPSHOT}) can show in shapes the
     * classifier does not yet name, such as a page compared after an msync,
     * and a random seed would then fail CI by chance. Pass a seed, or
     * {@code -Dusercopy.mmoracle.seed=random}, to explore.
     */
    static final long SEED = seed(System.getProperty("usercopy.mmoracle.seed", "2"));

    private static long seed(String s) {
        return s.equals("random") ? System.nanoTime() : Long.parseLong(s);
    }
    static final int SEQUENCES = Integer.getInteger("usercopy.mmoracle.sequences", 2_000);
    static final boolean STRICT = Boolean.getBoolean("usercopy.mmoracle.strict");
    static final long SHRINK_NANOS = Long.getLong("usercopy.mmoracle.shrinkSeconds", 60) * 1_000_000_000L;
    /** The guest's address space: 128 pages, a power of two for the Ludicrous profile. */
    static final long SIZE = 128 * MmOracleRun.PAGE;
    private static final long PROGRESS_NANOS = 15_000_000_000L;

    /**
     * The known differences still being fixed on main (issue 11): counted and
     * listed, not failures. Remove an item when its fix lands, and the oracle
     * holds it from then on.
     */
    static final Set<MmOracleRun.Known> PENDING = EnumSet.of(MmOracleRun.Known.PRIVATE_FILE_SNAPSHOT);

    @TempDir
    static Path dir;

    private static MmOracleHost host;
    private static final Map<String, MemoryManager> MANAGERS = new LinkedHashMap<>();

    @BeforeAll
    static void startHost() throws Exception {
        host = new MmOracleHost(dir, SIZE);
    }

    @AfterAll
    static void stopHost() {
        MANAGERS.values().forEach(MemoryManager::close);
        MANAGERS.clear();
        if (host != null) {
            host.close();
        }
    }

    static String hostMmapMinAddr() {
        try {
            return Files.readAllLines(Path.of("/proc/sys/vm/mmap_min_addr")).getFirst().strip();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** What a sequence's seed picks besides its ops: the machine's profile, fork mode and fault-around. */
    record Machine(Profile profile, ForkMode forkMode, int faultAround) {
        static Machine of(long seed) {
            SplittableRandom r = new SplittableRandom(seed ^ 0x3C6EF372FE94F82BL);
            Profile[] profiles = Profile.values();
            return new Machine(profiles[r.nextInt(profiles.length)], ForkMode.values()[r.nextInt(2)], r.nextBoolean() ? 1 : 16);
        }

        MemoryManager manager() {
            return MANAGERS.computeIfAbsent(toString(), k -> new MemoryManager(MemoryManager.Config.defaults().withFrames(8192)
                    .withAddressSpaceSize(SIZE).withProfile(profile).withForkMode(forkMode).withFaultAround(faultAround)));
        }
    }

    private static int serial;

    static MmOracleRun.Result run(long seed, MmOracleRun.OpSource source, int max) {
        MemoryManager mm = Machine.of(seed).manager();
        return new MmOracleRun(host, mm, dir, seed, serial++).run(source, max);
    }

    static int lengthOf(long seed) {
        return 4 + new SplittableRandom(seed ^ 0xBB67AE8584CAA73BL).nextInt(36);
    }

    @Test
    void everyOperationAgreesWithTheHostKernel() {
        Map<String, Long> documented = new TreeMap<>();
        Map<String, String> documentedExample = new TreeMap<>();
        Map<String, Long> known = new TreeMap<>();
        Map<String, List<String>> knownExamples = new TreeMap<>();
        Map<String, List<String>> mismatches = new LinkedHashMap<>();
        long ops = 0;
        long stopped = 0;
        long shrinkBudget = SHRINK_NANOS;
        long t0 = System.nanoTime();
        long lastProgress = t0;
        long seed = SEED;
        for (int i = 0; i < SEQUENCES; i++, seed = RandomLayoutTest.nextSeed(seed)) {
            long s = seed;
            MmOracleRun.Result r = run(s, new MmOpGenerator(new SplittableRandom(s), lengthOf(s)), Integer.MAX_VALUE);
            ops += r.ran();
            for (String o : r.outcomes()) {
                String[] parts = o.split("\t");
                Summary.count("MM oracle: operation x outcome (both sides agreed unless marked)", parts[0], parts[1]);
            }
            for (MmOracleRun.Finding f : r.findings()) {
                String where = "seed " + s + ", op #" + f.op() + ": " + f.detail();
                if (f.kind() == MmOracleRun.Finding.Kind.DOCUMENTED) {
                    documented.merge(f.label(), 1L, Long::sum);
                    documentedExample.putIfAbsent(f.label(), where);
                } else {
                    known.merge(f.label(), 1L, Long::sum);
                    List<String> ex = knownExamples.computeIfAbsent(f.label(), k -> new ArrayList<>());
                    String shape = f.detail().replaceAll("0x[0-9a-f]+|\\d+", "N");
                    if (ex.size() < 12 && ex.stream().noneMatch(e -> e.endsWith(shape))) {
                        ex.add("seed " + s + ", op #" + f.op() + ": " + f.detail() + "\u0000" + shape);
                    }
                    if (STRICT || !PENDING.contains(MmOracleRun.Known.valueOf(f.label()))) {
                        mismatches.computeIfAbsent("known difference " + f.label() + " is no longer pending", k -> new ArrayList<>())
                                .add(where);
                    }
                }
            }
            if (r.mismatch() != null) {
                stopped++;
                List<String> list = mismatches.computeIfAbsent(r.mismatch().label(), k -> new ArrayList<>());
                if (list.isEmpty() && shrinkBudget > 0) {
                    long ts = System.nanoTime();
                    list.add(report(s, r, shrink(s, r)));
                    shrinkBudget -= System.nanoTime() - ts;
                } else if (list.size() < 3) {
                    list.add(report(s, r, null));
                }
            }
            long now = System.nanoTime();
            if (now - lastProgress > PROGRESS_NANOS) {
                lastProgress = now;
                System.out.printf("[mm-oracle] %,d of %,d sequences, %,d ops, %,d stopped at a mismatch%n", i + 1, SEQUENCES, ops, stopped);
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        StringBuilder out = new StringBuilder();
        out.append(String.format("MM oracle: %,d sequences, %,d ops in %,d ms, seed %d (-Dusercopy.mmoracle.seed=%d)%n",
                SEQUENCES, ops, ms, SEED, SEED));
        out.append("Documented differences (the guest differs on purpose):\n");
        for (MmOracleRun.Documented d : MmOracleRun.Documented.values()) {
            out.append(String.format("  %-20s %,8d  %s%n", d.name(), documented.getOrDefault(d.name(), 0L), d.reason));
            if (documentedExample.containsKey(d.name())) {
                out.append("      e.g. ").append(documentedExample.get(d.name())).append('\n');
            }
            Summary.count("MM oracle: documented differences", d.name() + ": " + d.reason, "count",
                    documented.getOrDefault(d.name(), 0L));
        }
        out.append("Known differences (being fixed: issue 11's items and what this oracle found):\n");
        for (MmOracleRun.Known k : MmOracleRun.Known.values()) {
            long n = known.getOrDefault(k.name(), 0L);
            out.append(String.format("  %-20s %,8d  %s%s%n", k.name(), n, PENDING.contains(k) ? "" : "[fixed: a failure] ", k.title()));
            for (String e : knownExamples.getOrDefault(k.name(), List.of())) {
                out.append("      e.g. ").append(e, 0, e.indexOf('\u0000')).append('\n');
            }
            if (n > 0) {
                Summary.count("MM oracle: known differences, being fixed", k.title(), "count", n);
            }
        }
        System.out.print(out);
        Summary.note(String.format("MM oracle: %,d sequences, %,d ops, seed %d; %d kinds of mismatch", SEQUENCES, ops, SEED, mismatches.size()));
        if (!mismatches.isEmpty()) {
            StringBuilder m = new StringBuilder("MM oracle: " + mismatches.size() + " kinds of mismatch with Linux (run seed " + SEED + ")\n");
            mismatches.forEach((label, list) -> {
                m.append("\n=== ").append(label).append(" (").append(list.size()).append(" shown)\n");
                list.forEach(e -> m.append(e).append('\n'));
            });
            System.out.println(m);
            fail(m.toString());
        }
    }

    private static String report(long seed, MmOracleRun.Result r, MmOracleRun.Result shrunk) {
        StringBuilder s = new StringBuilder();
        s.append("seed ").append(seed).append(" (replay: -Dusercopy.mmoracle.seed=").append(seed)
                .append(" -Dusercopy.mmoracle.sequences=1), machine ").append(Machine.of(seed)).append('\n');
        s.append("  ").append(r.mismatch().detail().strip().replace("\n", "\n  ")).append('\n');
        MmOracleRun.Result show = shrunk != null ? shrunk : r;
        s.append(shrunk != null ? "  shrunk to " + shrunk.ops().size() + " of " + r.ops().size() + " ops:\n" : "  ops:\n");
        appendOps(s, show);
        if (shrunk != null) {
            s.append("  shrunk: ").append(shrunk.mismatch().detail().strip().replace("\n", "\n  ")).append('\n');
        }
        return s.toString();
    }

    private static void appendOps(StringBuilder s, MmOracleRun.Result r) {
        for (int i = 0; i < r.ops().size(); i++) {
            MmOp op = r.ops().get(i);
            s.append(String.format("  #%-3d space %d: %s%s%n", i, op.space(), op, i == r.mismatch().op() ? "   <-- here" : ""));
        }
    }

    /** The shortest sequence found that still fails with the same label: drops chunks, then single ops. */
    private static MmOracleRun.Result shrink(long seed, MmOracleRun.Result failing) {
        String label = failing.mismatch().label();
        List<MmOp> best = new ArrayList<>(failing.ops().subList(0, Math.min(failing.ops().size(), failing.mismatch().op() + 1 > 0
                ? failing.mismatch().op() + 1 : failing.ops().size())));
        MmOracleRun.Result bestResult = replay(seed, best);
        if (bestResult.mismatch() == null || !bestResult.mismatch().label().equals(label)) {
            best = new ArrayList<>(failing.ops());
            bestResult = failing;
        }
        long deadline = System.nanoTime() + SHRINK_NANOS;
        for (int chunk = Math.max(1, best.size() / 2); chunk >= 1 && System.nanoTime() < deadline; chunk /= 2) {
            boolean progress = true;
            while (progress && System.nanoTime() < deadline) {
                progress = false;
                for (int at = 0; at + chunk <= best.size(); ) {
                    List<MmOp> trial = new ArrayList<>(best.subList(0, at));
                    trial.addAll(best.subList(at + chunk, best.size()));
                    MmOracleRun.Result t = replay(seed, trial);
                    if (t.mismatch() != null && t.mismatch().label().equals(label)) {
                        best = trial;
                        bestResult = t;
                        progress = true;
                    } else {
                        at += chunk;
                    }
                }
            }
        }
        return bestResult;
    }

    private static MmOracleRun.Result replay(long seed, List<MmOp> ops) {
        return run(seed, MmOpGenerator.replay(ops), Integer.MAX_VALUE);
    }
}
