package dev.usercopy.bench.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Turns JMH JSON results into PNG charts and a Markdown report
 * ({@code report.md}) beside them, and checks the adaptive form's targets.
 *
 * <pre>java -cp bench/target/benchmarks.jar dev.usercopy.bench.report.Report RESULTS [OUT]</pre>
 *
 * RESULTS is a JSON file or a folder of them (what {@code ./usercopy bench
 * --suite} writes); OUT defaults to the folder RESULTS is or is in.
 */
public final class Report {
    /** Target: the adaptive form within 10% of the better fixed form in every cell. */
    static final double VS_BEST_FORM = 0.90;
    /** Target: at least 0.95x libc memcpy from 64 KiB up. */
    static final double VS_MEMCPY = 0.95;
    static final int VS_MEMCPY_FROM = 65536;
    /** Target: small copies from a byte[] at most 2x MemorySegment.copy. */
    static final double VS_SEGMENT_COPY = 2.0;

    private final List<Result> results;
    private final Path out;
    private final StringBuilder md = new StringBuilder();

    private Report(List<Result> results, Path out) {
        this.results = results;
        this.out = out;
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: Report RESULTS.json|RESULTS_DIR [OUT_DIR]");
            System.exit(2);
        }
        System.setProperty("java.awt.headless", "true");
        Path in = Path.of(args[0]);
        Path out = args.length == 2 ? Path.of(args[1]) : Files.isDirectory(in) ? in : in.toAbsolutePath().getParent();
        Files.createDirectories(out);
        List<Result> results = ResultFiles.read(in);
        if (results.isEmpty()) {
            System.err.println("no JMH results in " + in);
            System.exit(1);
        }
        Report r = new Report(results, out);
        r.write();
        Files.writeString(out.resolve("report.md"), r.md);
        System.out.println("report: " + out.resolve("report.md"));
    }

    private void write() throws IOException {
        md.append("# usercopy benchmarks\n\n");
        md.append("Scores from ").append(results.size()).append(" JMH results. Charts are the PNG files beside this one.\n\n");
        copyThroughput();
        misalignment();
        copyTargets();
        smallCopies();
        guestCopyLayers();
        for (String cls : classes()) {
            if (!cls.equals("CopyBench") && !cls.equals("SmallHeapCopyBench")) {
                generic(cls);
            }
        }
    }

    private Set<String> classes() {
        return results.stream().map(Result::benchClass).collect(Collectors.toCollection(TreeSet::new));
    }

    private List<Result> of(String cls, Predicate<Result> p) {
        return results.stream().filter(r -> r.benchClass().equals(cls)).filter(p).toList();
    }

    /** Distinct values of a key, in first-seen order, or sorted numerically when they are numbers. */
    private static <T> List<String> distinct(List<Result> rs, java.util.function.Function<Result, String> key) {
        Set<String> seen = new LinkedHashSet<>();
        rs.forEach(r -> seen.add(key.apply(r)));
        List<String> list = new ArrayList<>(seen);
        if (list.stream().allMatch(s -> s.matches("-?\\d+"))) {
            list.sort(Comparator.comparingLong(Long::parseLong));
        }
        return list;
    }

    private static final List<String> COPY_METHODS =
            List.of("flat", "aligned", "adaptive", "segmentCopy", "memcpy", "memcpyCritical");

    private static List<String> methodsIn(List<Result> rs, List<String> preferred) {
        Set<String> present = rs.stream().map(Result::method).collect(Collectors.toSet());
        List<String> ordered = new ArrayList<>(preferred.stream().filter(present::contains).toList());
        present.stream().filter(m -> !ordered.contains(m)).sorted().forEach(ordered::add);
        return ordered;
    }

    private static String size(long bytes) {
        if (bytes >= 1 << 20 && bytes % (1 << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        if (bytes >= 1024 && bytes % 1024 == 0) {
            return (bytes >> 10) + " KiB";
        }
        return bytes + " B";
    }

    private static String num(double v) {
        if (Double.isNaN(v)) {
            return "";
        }
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v)
                : v >= 10 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.2f", v);
    }

    private static Map<String, Double> gbps(List<Result> rs) {
        Map<String, Double> m = new LinkedHashMap<>();
        rs.forEach(r -> m.put(r.method(), r.gbPerSecond()));
        return m;
    }

    // ------------------------------------------------------------------ CopyBench

    private void copyThroughput() throws IOException {
        List<Result> aligned = of("CopyBench", r -> r.intParam("srcMisalign") == 0 && r.intParam("dstMisalign") == 0);
        if (aligned.isEmpty()) {
            return;
        }
        md.append("## Copy throughput (CopyBench), source and destination page aligned, GB/s\n\n");
        for (String dir : distinct(aligned, r -> r.param("direction"))) {
            for (String kernel : distinct(aligned, r -> r.param("kernel"))) {
                List<Result> rs = aligned.stream()
                        .filter(r -> r.param("direction").equals(dir) && r.param("kernel").equals(kernel)).toList();
                List<String> sizes = distinct(rs, r -> r.param("size"));
                if (rs.isEmpty()) {
                    continue;
                }
                List<String> methods = methodsIn(rs, COPY_METHODS);
                Map<String, double[]> series = new LinkedHashMap<>();
                for (String m : methods) {
                    series.put(m, sizes.stream().mapToDouble(s -> rs.stream()
                            .filter(r -> r.method().equals(m) && r.param("size").equals(s))
                            .mapToDouble(Result::gbPerSecond).findFirst().orElse(Double.NaN)).toArray());
                }
                String name = "copy-throughput-" + dir.toLowerCase(Locale.ROOT) + "-" + kernel.toLowerCase(Locale.ROOT) + ".png";
                Charts.lines(out.resolve(name), "Copy throughput, " + dir + ", " + kernel + " kernel buffer",
                        "size (bytes)", "GB/s", sizes.stream().mapToDouble(Double::parseDouble).toArray(), series, true);
                md.append("### ").append(dir).append(", ").append(kernel).append(" kernel buffer\n\n");
                md.append("![").append(name).append("](").append(name).append(")\n\n");
                md.append("| size | ").append(String.join(" | ", methods))
                        .append(" | adaptive / best of flat, aligned | adaptive / memcpy |\n|");
                md.append("---|".repeat(methods.size() + 3)).append("\n");
                for (String s : sizes) {
                    Map<String, Double> g = gbps(rs.stream().filter(r -> r.param("size").equals(s)).toList());
                    md.append("| ").append(size(Long.parseLong(s))).append(" | ");
                    md.append(methods.stream().map(m -> num(g.getOrDefault(m, Double.NaN))).collect(Collectors.joining(" | ")));
                    md.append(" | ").append(ratio(g.get("adaptive"), best(g))).append(" | ")
                            .append(ratio(g.get("adaptive"), g.get("memcpy"))).append(" |\n");
                }
                md.append("\n");
            }
        }
    }

    private static Double best(Map<String, Double> g) {
        Double f = g.get("flat");
        Double a = g.get("aligned");
        return f == null || a == null ? null : Math.max(f, a);
    }

    private static String ratio(Double a, Double b) {
        return a == null || b == null ? "" : String.format(Locale.ROOT, "%.2f", a / b);
    }

    private void misalignment() throws IOException {
        List<Result> all = of("CopyBench", r -> true);
        boolean header = false;
        for (String which : List.of("srcMisalign", "dstMisalign")) {
            String other = which.equals("srcMisalign") ? "dstMisalign" : "srcMisalign";
            List<Result> sweep = all.stream().filter(r -> r.intParam(other) == 0).toList();
            for (String dir : distinct(sweep, r -> r.param("direction"))) {
                for (String kernel : distinct(sweep, r -> r.param("kernel"))) {
                    for (String s : distinct(sweep, r -> r.param("size"))) {
                        List<Result> rs = sweep.stream().filter(r -> r.param("direction").equals(dir)
                                && r.param("kernel").equals(kernel) && r.param("size").equals(s)).toList();
                        List<String> xs = distinct(rs, r -> r.param(which));
                        if (xs.size() < 4) {
                            continue;
                        }
                        if (!header) {
                            md.append("## Misalignment sweeps (CopyBench), GB/s\n\n");
                            md.append("Guest and kernel bases are page aligned, so the destination is "
                                    + "(dstMisalign - srcMisalign) bytes ahead of the source modulo 4 KiB.\n\n");
                            header = true;
                        }
                        List<String> methods = methodsIn(rs, COPY_METHODS);
                        Map<String, double[]> series = new LinkedHashMap<>();
                        for (String m : methods) {
                            series.put(m, xs.stream().mapToDouble(x -> rs.stream()
                                    .filter(r -> r.method().equals(m) && r.param(which).equals(x))
                                    .mapToDouble(Result::gbPerSecond).findFirst().orElse(Double.NaN)).toArray());
                        }
                        String name = "copy-" + which.toLowerCase(Locale.ROOT) + "-" + s + "-" + dir.toLowerCase(Locale.ROOT)
                                + "-" + kernel.toLowerCase(Locale.ROOT) + ".png";
                        Charts.lines(out.resolve(name), size(Long.parseLong(s)) + " " + dir + " (" + kernel + "), "
                                + other + " = 0", which, "GB/s", xs.stream().mapToDouble(Double::parseDouble).toArray(), series, false);
                        md.append("### ").append(size(Long.parseLong(s))).append(", ").append(dir).append(", ")
                                .append(kernel).append(": ").append(which).append(" swept, ").append(other).append(" = 0\n\n");
                        md.append("![").append(name).append("](").append(name).append(")\n\n");
                        md.append("| ").append(which).append(" | ").append(String.join(" | ", methods))
                                .append(" | adaptive / best of flat, aligned |\n|").append("---|".repeat(methods.size() + 2)).append("\n");
                        for (String x : xs) {
                            Map<String, Double> g = gbps(rs.stream().filter(r -> r.param(which).equals(x)).toList());
                            md.append("| ").append(x).append(" | ")
                                    .append(methods.stream().map(m -> num(g.getOrDefault(m, Double.NaN))).collect(Collectors.joining(" | ")))
                                    .append(" | ").append(ratio(g.get("adaptive"), best(g))).append(" |\n");
                        }
                        md.append("\n");
                    }
                }
            }
        }
    }

    /** Every CopyBench cell held against the two throughput targets. */
    private void copyTargets() {
        List<Result> all = of("CopyBench", r -> true);
        if (all.isEmpty()) {
            return;
        }
        Map<String, List<Result>> cells = new LinkedHashMap<>();
        for (Result r : all) {
            String key = r.param("direction") + " " + r.param("kernel") + " size=" + r.param("size")
                    + " src+" + r.param("srcMisalign") + " dst+" + r.param("dstMisalign");
            cells.computeIfAbsent(key, k -> new ArrayList<>()).add(r);
        }
        int vsBest = 0;
        int vsMemcpy = 0;
        double worstBest = Double.MAX_VALUE;
        double worstMemcpy = Double.MAX_VALUE;
        List<String> missed = new ArrayList<>();
        for (Map.Entry<String, List<Result>> e : cells.entrySet()) {
            Map<String, Double> g = gbps(e.getValue());
            Double adaptive = g.get("adaptive");
            Double b = best(g);
            if (adaptive != null && b != null) {
                vsBest++;
                double q = adaptive / b;
                worstBest = Math.min(worstBest, q);
                if (q < VS_BEST_FORM) {
                    missed.add(String.format(Locale.ROOT, "%s: adaptive %.1f GB/s, best fixed form %.1f (%.2fx)", e.getKey(), adaptive, b, q));
                }
            }
            Double memcpy = g.get("memcpy");
            if (adaptive != null && memcpy != null && e.getValue().get(0).intParam("size") >= VS_MEMCPY_FROM) {
                vsMemcpy++;
                double q = adaptive / memcpy;
                worstMemcpy = Math.min(worstMemcpy, q);
                if (q < VS_MEMCPY) {
                    missed.add(String.format(Locale.ROOT, "%s: adaptive %.1f GB/s, memcpy %.1f (%.2fx)", e.getKey(), adaptive, memcpy, q));
                }
            }
        }
        md.append("## Adaptive form against its targets\n\n");
        md.append(String.format(Locale.ROOT, "- within %.0f%% of the better of flat and aligned: %d cells, worst %.2fx%n",
                (1 - VS_BEST_FORM) * 100, vsBest, vsBest == 0 ? Double.NaN : worstBest));
        md.append(String.format(Locale.ROOT, "- at least %.2fx libc memcpy from %s up: %d cells, worst %.2fx%n",
                VS_MEMCPY, size(VS_MEMCPY_FROM), vsMemcpy, vsMemcpy == 0 ? Double.NaN : worstMemcpy));
        if (missed.isEmpty()) {
            md.append("- every cell meets both\n\n");
        } else {
            md.append("- missed in ").append(missed.size()).append(" cells:\n");
            missed.forEach(m -> md.append("  - ").append(m).append("\n"));
            md.append("\n");
        }
    }

    // ------------------------------------------------------------------ GuestCopyBench

    private static final List<String> LAYERS = List.of("raw", "reservation", "addressSpace", "userSlice");

    /** Each layer's copy against the raw one in the same run, with what it allocates (-prof gc). */
    private void guestCopyLayers() {
        List<Result> rs = of("GuestCopyBench", r -> true);
        if (rs.isEmpty()) {
            return;
        }
        md.append("## Guest copy layers (GuestCopyBench), ns per copy, x raw, bytes allocated per copy\n\n");
        md.append("| direction | size |");
        LAYERS.forEach(l -> md.append(' ').append(l).append(" |"));
        md.append("\n|---|---|");
        LAYERS.forEach(l -> md.append("---|"));
        md.append('\n');
        for (String dir : distinct(rs, r -> r.param("direction"))) {
            for (String size : distinct(rs, r -> r.param("size"))) {
                Map<String, Result> by = new LinkedHashMap<>();
                rs.stream().filter(r -> r.param("direction").equals(dir) && r.param("size").equals(size)).forEach(r -> by.put(r.method(), r));
                Result raw = by.get("raw");
                md.append("| ").append(dir).append(" | ").append(size(Long.parseLong(size))).append(" |");
                for (String layer : LAYERS) {
                    Result r = by.get(layer);
                    md.append(' ');
                    if (r != null) {
                        md.append(num(r.score()));
                        if (raw != null && r != raw) {
                            md.append(" (").append(String.format(Locale.ROOT, "%.2fx", r.score() / raw.score())).append(')');
                        }
                        if (!Double.isNaN(r.allocatedPerOp())) {
                            md.append(", ").append(String.format(Locale.ROOT, "%.0f B", r.allocatedPerOp()));
                        }
                    }
                    md.append(" |");
                }
                md.append('\n');
            }
        }
        md.append('\n');
    }

    // ------------------------------------------------------------------ SmallHeapCopyBench

    private void smallCopies() throws IOException {
        List<Result> rs = of("SmallHeapCopyBench", r -> true);
        if (rs.isEmpty()) {
            return;
        }
        List<String> sizes = distinct(rs, r -> r.param("size"));
        List<String> methods = methodsIn(rs, List.of("fromUserFlat", "fromUserAligned", "fromUserAdaptive", "segmentToHeap",
                "toUserFlat", "toUserAligned", "toUserAdaptive", "segmentFromHeap", "criticalNative", "plainNative",
                "bounceFromUser", "bounceToUser"));
        Map<String, List<Double>> series = new LinkedHashMap<>();
        for (String m : methods) {
            series.put(m, sizes.stream().map(s -> rs.stream().filter(r -> r.method().equals(m) && r.param("size").equals(s))
                    .mapToDouble(Result::score).findFirst().orElse(0)).toList());
        }
        String name = "small-copies.png";
        Charts.bars(out.resolve(name), "Small copies between a byte[] and guest memory", "size (bytes)", "ns per copy",
                sizes, series);
        md.append("## Small copies (SmallHeapCopyBench), ns per copy\n\n![").append(name).append("](").append(name).append(")\n\n");
        md.append("| size | ").append(String.join(" | ", methods))
                .append(" | toUserAdaptive / segmentFromHeap | fromUserAdaptive / segmentToHeap | plainNative / criticalNative |\n|")
                .append("---|".repeat(methods.size() + 4)).append("\n");
        for (String s : sizes) {
            Map<String, Double> t = new LinkedHashMap<>();
            rs.stream().filter(r -> r.param("size").equals(s)).forEach(r -> t.put(r.method(), r.score()));
            md.append("| ").append(s).append(" B | ")
                    .append(methods.stream().map(m -> num(t.getOrDefault(m, Double.NaN))).collect(Collectors.joining(" | ")))
                    .append(" | ").append(ratio(t.get("toUserAdaptive"), t.get("segmentFromHeap")))
                    .append(" | ").append(ratio(t.get("fromUserAdaptive"), t.get("segmentToHeap")))
                    .append(" | ").append(ratio(t.get("plainNative"), t.get("criticalNative"))).append(" |\n");
        }
        md.append(String.format(Locale.ROOT, "%nTarget: the adaptive form from a byte[] at most %.1fx `MemorySegment.copy` heap to native.%n%n",
                VS_SEGMENT_COPY));
    }

    // ------------------------------------------------------------------ the rest

    private void generic(String cls) throws IOException {
        List<Result> rs = of(cls, r -> true);
        List<String> methods = methodsIn(rs, List.of());
        // Only the parameters that vary name a row; the fixed ones go under the table.
        Set<String> varying = new TreeSet<>();
        Map<String, String> fixed = new java.util.TreeMap<>();
        for (String key : rs.get(0).params().keySet()) {
            Set<String> values = rs.stream().map(r -> r.param(key)).collect(Collectors.toSet());
            if (values.size() > 1) {
                varying.add(key);
            } else {
                fixed.put(key, values.iterator().next());
            }
        }
        // A benchmark with no parameter that varies (FaultPiecesBench) is one group, named so: a chart axis takes no empty label.
        java.util.function.Function<Result, String> paramsLabel = r -> {
            String label = r.params().entrySet().stream()
                    .filter(e -> varying.contains(e.getKey()))
                    .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
            return label.isEmpty() ? "(no parameters)" : label;
        };
        List<String> combos = distinct(rs, paramsLabel);
        String unit = rs.get(0).unit();
        Map<String, List<Double>> series = new LinkedHashMap<>();
        for (String m : methods) {
            series.put(m, combos.stream().map(c -> rs.stream().filter(r -> r.method().equals(m) && paramsLabel.apply(r).equals(c))
                    .mapToDouble(Result::score).findFirst().orElse(0)).toList());
        }
        String name = cls.toLowerCase(Locale.ROOT) + ".png";
        Charts.bars(out.resolve(name), cls + " (" + unit + (unit.endsWith("/op") ? ", lower is faster)" : ")"), "parameters", unit, combos, series);
        md.append("## ").append(cls).append(", ").append(unit).append("\n\n![").append(name).append("](").append(name).append(")\n\n");
        md.append("| parameters | ").append(String.join(" | ", methods)).append(" |\n|")
                .append("---|".repeat(methods.size() + 1)).append("\n");
        for (String c : combos) {
            md.append("| ").append(c.isEmpty() ? "-" : c).append(" | ");
            md.append(methods.stream().map(m -> rs.stream().filter(r -> r.method().equals(m) && paramsLabel.apply(r).equals(c))
                    .map(r -> num(r.score()) + (Double.isNaN(r.error()) ? "" : " ± " + num(r.error())))
                    .findFirst().orElse("")).collect(Collectors.joining(" | ")));
            md.append(" |\n");
        }
        if (!fixed.isEmpty()) {
            md.append("\nIn every row: ").append(fixed.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                    .collect(Collectors.joining(", "))).append(".\n");
        }
        md.append("\n");
    }
}
