package dev.usercopy.faultinjection;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.LongAdder;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The suite's tally: tables of counts (a row, e.g. the fault kind a copy ran
 * into, by a column, e.g. its outcome) that every test adds to. When the test
 * run ends it prints them and writes {@code target/fault-injection-summary.md}.
 *
 * <p>A JUnit extension: each test class of the suite registers it, and the
 * root context closes the one report at the end of the run.
 */
final class Summary implements BeforeAllCallback {
    /** table -> row -> column -> count; tables in the order first used. */
    private static final Map<String, Map<String, Map<String, LongAdder>>> TABLES = new ConcurrentSkipListMap<>();
    private static final Map<String, Long> ORDER = new ConcurrentHashMap<>();

    static void count(String table, String row, String column, long n) {
        ORDER.putIfAbsent(table, (long) ORDER.size());
        TABLES.computeIfAbsent(table, t -> new ConcurrentSkipListMap<>())
                .computeIfAbsent(row, r -> new ConcurrentSkipListMap<>())
                .computeIfAbsent(column, c -> new LongAdder())
                .add(n);
    }

    static void count(String table, String row, String column) {
        count(table, row, column, 1);
    }

    /** Free-form lines under the tables (the run's seeds, modes and times). */
    private static final List<String> NOTES = java.util.Collections.synchronizedList(new ArrayList<>());

    static void note(String line) {
        NOTES.add(line);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getRoot().getStore(ExtensionContext.Namespace.create(Summary.class))
                .getOrComputeIfAbsent(Report.class, k -> new Report(), Report.class);
    }

    /** Closed by JUnit when the whole run ends. */
    static final class Report implements AutoCloseable {
        @Override
        public void close() {
            String text = render();
            System.out.println(text);
            Path out = Path.of(System.getProperty("basedir", "."), "target", "fault-injection-summary.md");
            try {
                Files.createDirectories(out.getParent());
                Files.writeString(out, text);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    static String render() {
        StringBuilder s = new StringBuilder("# Fault-injection summary\n");
        List<String> names = new ArrayList<>(TABLES.keySet());
        names.sort((a, b) -> Long.compare(ORDER.getOrDefault(a, 0L), ORDER.getOrDefault(b, 0L)));
        for (String name : names) {
            Map<String, Map<String, LongAdder>> rows = TABLES.get(name);
            TreeSet<String> columns = new TreeSet<>();
            rows.values().forEach(r -> columns.addAll(r.keySet()));
            s.append("\n## ").append(name).append("\n\n| |");
            columns.forEach(c -> s.append(' ').append(c).append(" |"));
            s.append(" total |\n|---|");
            columns.forEach(c -> s.append("---:|"));
            s.append("---:|\n");
            Map<String, Long> colTotals = new TreeMap<>();
            long all = 0;
            for (Map.Entry<String, Map<String, LongAdder>> row : rows.entrySet()) {
                s.append("| ").append(row.getKey()).append(" |");
                long total = 0;
                for (String c : columns) {
                    LongAdder a = row.getValue().get(c);
                    long v = a == null ? 0 : a.sum();
                    total += v;
                    colTotals.merge(c, v, Long::sum);
                    s.append(' ').append(v == 0 ? "" : String.format("%,d", v)).append(" |");
                }
                all += total;
                s.append(' ').append(String.format("%,d", total)).append(" |\n");
            }
            if (rows.size() > 1) {
                s.append("| **total** |");
                for (String c : columns) {
                    s.append(' ').append(String.format("%,d", colTotals.get(c))).append(" |");
                }
                s.append(' ').append(String.format("%,d", all)).append(" |\n");
            }
        }
        if (!NOTES.isEmpty()) {
            s.append("\n");
            synchronized (NOTES) {
                NOTES.forEach(n -> s.append("- ").append(n).append('\n'));
            }
        }
        return s.toString();
    }
}
