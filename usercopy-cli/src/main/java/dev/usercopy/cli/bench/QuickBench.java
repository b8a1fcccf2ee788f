package dev.usercopy.cli.bench;

import java.io.PrintStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.usercopy.mm.MemoryManager.ForkMode;
import dev.usercopy.platform.UserCopy;

/**
 * A quick look at the main numbers without JMH: each row times one
 * workload operation against a baseline in the same run, and each side of a
 * row is the operation its JMH counterpart in {@code bench/} calls, built
 * from the same parameters ({@link #ROWS}; a test in bench/ holds the two
 * equal). Every side is warmed up first, then timed in a few rounds: the
 * median round's mean, where JMH reports the mean of its iterations. Plain
 * loops in one JVM, where JMH forks one a benchmark: a first look, not the
 * published numbers.
 */
public final class QuickBench {
    /** Warm-up of each side, so the JIT has compiled what it times: this long, and at least {@link #WARMUP_CALLS} calls. */
    static final long WARMUP_NS = 500_000_000;
    /** A call of the page rows covers 1024 or 4096 faults; under load a few calls can take the whole warm-up time. */
    static final int WARMUP_CALLS = 20;
    /** Timed rounds of each side; the median round counts. */
    static final int ROUNDS = 5;
    static final long ROUND_NS = 100_000_000;

    /** How a row's numbers are shown. */
    public enum Unit {
        /** Bytes a copy moves over its time; higher is better. */
        GB_PER_S("GB/s"),
        NS("ns"),
        US("us"),
        MS("ms");

        final String label;

        Unit(String label) {
            this.label = label;
        }
    }

    /**
     * One timed operation: {@code operation} of the workload built from
     * {@code params}, as JMH's {@code benchmark} (class.method in
     * dev.usercopy.bench, whose {@code @Param} fields are the components of
     * {@code params}) calls it. {@code beforeEach} and {@code afterEach}
     * (or null) run around every call, untimed, as JMH's
     * {@code Level.Invocation} setup and teardown. One call does
     * {@code opsPerCall} of what the row counts (JMH's
     * {@code @OperationsPerInvocation}).
     */
    public record Side(String benchmark, Record params, String operation, int opsPerCall, String beforeEach, String afterEach) {
        static Side of(String benchmark, Record params, int opsPerCall) {
            return new Side(benchmark, params, benchmark.substring(benchmark.indexOf('.') + 1), opsPerCall, null, null);
        }
    }

    /** A row: ours against a baseline, in one unit. */
    public record Definition(String what, Unit unit, Side ours, String baselineName, Side baseline) {}

    private static final CopyWorkload.Params COPY_64K = new CopyWorkload.Params(64 << 10, 0, 0,
            CopyWorkload.Direction.FROM_USER, CopyWorkload.Kernel.NATIVE);
    private static final CopyWorkload.Params COPY_1M = new CopyWorkload.Params(1 << 20, 0, 0,
            CopyWorkload.Direction.FROM_USER, CopyWorkload.Kernel.NATIVE);
    private static final FaultPathWorkload.Params FAULT = new FaultPathWorkload.Params(64, UserCopy.Form.ADAPTIVE);
    private static final int FORK_MIB = 1024;

    /** The rows, in the order they run and print. */
    public static final List<Definition> ROWS = List.of(
            copyRow(COPY_64K, "flat"), copyRow(COPY_64K, "aligned"), copyRow(COPY_64K, "adaptive"),
            copyRow(COPY_1M, "flat"), copyRow(COPY_1M, "aligned"), copyRow(COPY_1M, "adaptive"),
            new Definition("64 readable bytes, then 64 PROT_NONE: EFAULT (ns)", Unit.NS,
                    Side.of("FaultPathBench.faulting", FAULT, 1), "the 64 readable bytes alone",
                    Side.of("FaultPathBench.readable", FAULT, 1)),
            firstTouchRow(16), firstTouchRow(1),
            new Definition("fork, " + FORK_MIB + " MiB written (ms)", Unit.MS,
                    Side.of("ForkBench.guest", new ForkWorkload.Params(FORK_MIB, ForkMode.SHARED_TABLES), 1),
                    "host fork(2) of this JVM, as much written",
                    Side.of("ForkBench.host", new ForkWorkload.Params(FORK_MIB, ForkMode.SHARED_TABLES), 1)),
            new Definition("copy-on-write break per page, fault-around 1 (us)", Unit.US,
                    new Side("CowBreakBench.cowBreak", new CowBreakWorkload.Params(ForkMode.SHARED_TABLES), "cowBreak",
                            CowBreakWorkload.PAGES, "forkChild", "closeChild"),
                    "first touch of a fresh guest page, the same",
                    // JMH's invocation setup forks a child before every call of either method, untimed.
                    new Side("CowBreakBench.firstTouch", new CowBreakWorkload.Params(ForkMode.SHARED_TABLES), "firstTouch",
                            CowBreakWorkload.PAGES, "forkChild", "closeChild")));

    private static Definition copyRow(CopyWorkload.Params p, String form) {
        String size = p.size() >= (1 << 20) ? (p.size() >> 20) + " MiB" : (p.size() >> 10) + " KiB";
        return new Definition("copy_from_user " + size + ", " + form + " (GB/s)", Unit.GB_PER_S,
                Side.of("CopyBench." + form, p, 1), "MemorySegment.copy", Side.of("CopyBench.segmentCopy", p, 1));
    }

    private static Definition firstTouchRow(int faultAround) {
        FirstTouchWorkload.Params p = new FirstTouchWorkload.Params(faultAround);
        return new Definition("first touch per page, guest, fault-around " + faultAround + " (us)", Unit.US,
                Side.of("FirstTouchBench.guest", p, FirstTouchWorkload.PAGES), "host kernel's first touch",
                Side.of("FirstTouchBench.host", p, FirstTouchWorkload.PAGES));
    }

    /** A row's result, in its unit. */
    public record Row(String what, double ours, String baselineName, double baseline, Unit unit) {
        /** How many times better ours is than the baseline (above 1: better). */
        double advantage() {
            return unit == Unit.GB_PER_S ? ours / baseline : baseline / ours;
        }
    }

    /** The workload a side's parameters describe. */
    public static Workload open(Record params) {
        return switch (params) {
            case CopyWorkload.Params p -> new CopyWorkload(p);
            case FaultPathWorkload.Params p -> new FaultPathWorkload(p);
            case FirstTouchWorkload.Params p -> new FirstTouchWorkload(p);
            case ForkWorkload.Params p -> new ForkWorkload(p);
            case CowBreakWorkload.Params p -> new CowBreakWorkload(p);
            default -> throw new IllegalArgumentException("no workload takes " + params);
        };
    }

    private final Progress progress;
    /** Results go here, so no operation's value is dead. */
    private long sink;

    public QuickBench(Progress progress) {
        this.progress = progress;
    }

    /** The steps {@link #run} reports to the progress bar. */
    public static final int STEPS = ROWS.size();

    public List<Row> run() {
        List<Row> rows = new ArrayList<>();
        Map<Record, Workload> open = new LinkedHashMap<>();
        try {
            for (int i = 0; i < ROWS.size(); i++) {
                Definition d = ROWS.get(i);
                progress.step(d.what());
                double ours = time(d.ours(), open);
                double baseline = time(d.baseline(), open);
                rows.add(new Row(d.what(), value(d.unit(), d.ours(), ours), d.baselineName(), value(d.unit(), d.baseline(), baseline), d.unit()));
                // Close what no later row uses: the fork row's gigabyte should not outlive it.
                List<Definition> later = ROWS.subList(i + 1, ROWS.size());
                open.entrySet().removeIf(e -> {
                    boolean needed = later.stream().anyMatch(l -> l.ours().params().equals(e.getKey()) || l.baseline().params().equals(e.getKey()));
                    if (!needed) {
                        e.getValue().close();
                    }
                    return !needed;
                });
            }
        } finally {
            open.values().forEach(Workload::close);
        }
        return rows;
    }

    /** Nanoseconds per counted operation. */
    private double time(Side side, Map<Record, Workload> open) {
        Workload w = open.computeIfAbsent(side.params(), QuickBench::open);
        MethodHandle op = handle(w, side.operation(), long.class);
        MethodHandle before = side.beforeEach() == null ? null : handle(w, side.beforeEach(), void.class);
        MethodHandle after = side.afterEach() == null ? null : handle(w, side.afterEach(), void.class);
        try {
            round(op, before, after, WARMUP_NS, WARMUP_CALLS);
            double[] rounds = new double[ROUNDS];
            for (int r = 0; r < ROUNDS; r++) {
                rounds[r] = round(op, before, after, ROUND_NS, 1) / side.opsPerCall();
            }
            Arrays.sort(rounds);
            return rounds[ROUNDS / 2];
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(side.benchmark() + " failed", t);
        }
    }

    /** Calls {@code op} for about {@code ns} of its own time and at least {@code minCalls} times; returns the mean ns per call. */
    private double round(MethodHandle op, MethodHandle before, MethodHandle after, long ns, int minCalls) throws Throwable {
        long calls = 0;
        long spent = 0;
        if (before == null) {
            long t0 = System.nanoTime();
            do {
                for (int i = 0; i < 8; i++) {
                    sink += (long) op.invokeExact();
                }
                calls += 8;
                spent = System.nanoTime() - t0;
            } while (spent < ns || calls < minCalls);
        } else {
            do {
                before.invokeExact();
                long t0 = System.nanoTime();
                sink += (long) op.invokeExact();
                spent += System.nanoTime() - t0;
                after.invokeExact();
                calls++;
            } while (spent < ns || calls < minCalls);
        }
        return spent / (double) calls;
    }

    private static MethodHandle handle(Workload w, String name, Class<?> returns) {
        try {
            return MethodHandles.publicLookup().findVirtual(w.getClass(), name, MethodType.methodType(returns)).bindTo(w);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(w.getClass().getSimpleName() + " has no operation " + name + "()", e);
        }
    }

    private static double value(Unit unit, Side side, double nsPerOp) {
        return switch (unit) {
            case GB_PER_S -> ((CopyWorkload.Params) side.params()).size() / nsPerOp; // bytes per ns is GB/s
            case NS -> nsPerOp;
            case US -> nsPerOp / 1e3;
            case MS -> nsPerOp / 1e6;
        };
    }

    /** The results as a table. */
    public static void print(List<Row> rows, PrintStream out) {
        out.printf("%-52s %10s   %-42s %10s   %s%n", "what", "usercopy", "baseline (same run)", "", "usercopy vs baseline");
        for (Row r : rows) {
            double x = r.advantage() >= 1 ? r.advantage() : 1 / r.advantage();
            out.printf("%-52s %10s   %-42s %10s   %s%n", r.what(), format(r.ours()), r.baselineName(), format(r.baseline()),
                    format(x) + "x " + (r.advantage() >= 1 ? "faster" : "slower"));
        }
        out.printf("a quick look: each side warmed up %.1f s, then the median of %d rounds of %.1f s, all in one JVM;%n",
                WARMUP_NS / 1e9, ROUNDS, ROUND_NS / 1e9);
        out.println("each row runs the workload of the JMH benchmarks in bench/ that ./usercopy bench runs for the published numbers");
    }

    private static String format(double v) {
        return v >= 100 ? String.format("%.0f", v) : v >= 10 ? String.format("%.1f", v) : String.format("%.2f", v);
    }

    /** Where the steps are reported: a bar on a terminal, nothing otherwise. */
    public interface Progress {
        void step(String what);

        void done();
    }

    /** A one-line bar redrawn in place on stderr. */
    public static Progress bar(PrintStream err, int steps) {
        return new Progress() {
            private int done;

            @Override
            public void step(String what) {
                int width = 24;
                int filled = width * done / steps;
                err.printf("\r[%s%s] %d/%d %-52s", "#".repeat(filled), ".".repeat(width - filled), done + 1, steps, what);
                err.flush();
                done++;
            }

            @Override
            public void done() {
                err.print("\r" + " ".repeat(92) + "\r");
                err.flush();
            }
        };
    }

    public static Progress none() {
        return new Progress() {
            @Override
            public void step(String what) {}

            @Override
            public void done() {}
        };
    }
}
