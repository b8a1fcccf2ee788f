package dev.usercopy.cli.demo;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the demo tells: sections of narration, pictures (page maps), named
 * measurements and checked claims. Printed as it goes (colour on a
 * terminal, plain when piped), or gathered into one JSON document.
 */
public final class Report {
    private static final String RESET = "\u001b[0m";
    private static final String BOLD = "\u001b[1m";
    private static final String DIM = "\u001b[2m";
    private static final String RED = "\u001b[31m";
    private static final String GREEN = "\u001b[32m";
    private static final String CYAN = "\u001b[36m";

    private final PrintStream text;
    private final boolean colour;
    private final List<Map<String, Object>> sections = new ArrayList<>();
    private Map<String, Object> section;
    /** A page map's legend is printed once a section. */
    private boolean legendShown;
    private int checks;
    private int failures;

    /** {@code text} null: gather for {@link #json}, print nothing. */
    public Report(PrintStream text, boolean colour) {
        this.text = text;
        this.colour = colour && text != null;
    }

    void title(String line) {
        if (text != null) {
            text.println(paint(BOLD, line));
        }
    }

    void section(String id, String title) {
        section = new LinkedHashMap<>();
        section.put("id", id);
        section.put("title", title);
        section.put("text", new ArrayList<String>());
        section.put("values", new LinkedHashMap<String, Object>());
        section.put("checks", new ArrayList<Map<String, Object>>());
        sections.add(section);
        legendShown = false;
        if (text != null) {
            text.println();
            text.println(paint(BOLD + CYAN, "== " + title));
        }
    }

    void say(String format, Object... args) {
        String line = String.format(format, args);
        list("text").add(line);
        if (text != null) {
            text.println(line);
        }
    }

    /** Preformatted lines (a page map): indented, dim legend. */
    void picture(List<String> lines) {
        for (String l : lines) {
            if (l.startsWith("legend:") && legendShown) {
                continue;
            }
            legendShown |= l.startsWith("legend:");
            list("text").add(l);
            if (text != null) {
                text.println("    " + (l.startsWith("legend:") ? paint(DIM, l) : l));
            }
        }
    }

    /** A measured number, for the JSON; the narration says it in words. */
    void value(String name, Object v) {
        @SuppressWarnings("unchecked")
        Map<String, Object> values = (Map<String, Object>) section.get("values");
        values.put(name, v);
    }

    /** A claim the demo makes: printed with its result, counted, and a failure makes the demo exit 1. */
    boolean check(String claim, Object expected, Object actual) {
        boolean ok = Objects.equals(expected, actual);
        checks++;
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("claim", claim);
        c.put("expected", expected);
        c.put("actual", actual);
        c.put("ok", ok);
        list("checks").add(c);
        if (!ok) {
            failures++;
        }
        if (text != null) {
            text.println(ok ? "  " + paint(GREEN, "ok") + "  " + claim + ": " + actual
                    : "  " + paint(BOLD + RED, "FAILED") + " " + claim + ": expected " + expected + ", got " + actual);
        }
        return ok;
    }

    boolean check(String claim, boolean holds) {
        return check(claim, true, holds);
    }

    public int checks() {
        return checks;
    }

    public int failures() {
        return failures;
    }

    public String json() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("command", "demo");
        doc.put("ok", failures == 0);
        doc.put("checks", checks);
        doc.put("failures", failures);
        doc.put("sections", sections);
        return Json.write(doc);
    }

    @SuppressWarnings("unchecked")
    private <T> List<T> list(String key) {
        return (List<T>) section.get(key);
    }

    private String paint(String style, String s) {
        return colour ? style + s + RESET : s;
    }
}
