package dev.usercopy.cli.guest;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a guest-language script: parses every line first (so a typo on the
 * last line stops the script before it starts), then runs them in order,
 * stopping at the first failed {@code expect} or unchecked error.
 */
public final class ScriptRunner {
    private ScriptRunner() {}

    public record Line(int number, String text, Op op) {}

    /** Exit codes: the CLI's contract. */
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;

    /** The statements of {@code text}; throws {@link ScriptException} naming {@code source}:line for the first bad one. */
    public static List<Line> parse(String source, String text) {
        List<Line> lines = new ArrayList<>();
        int n = 0;
        for (String line : text.lines().toList()) {
            n++;
            try {
                Op op = Parser.parse(line);
                if (op != null) {
                    lines.add(new Line(n, line.strip(), op));
                }
            } catch (ScriptException e) {
                throw new ScriptException(source + ":" + n + ": " + e.getMessage());
            }
        }
        return lines;
    }

    /**
     * Runs the lines, printing a transcript to {@code out} unless
     * {@code quiet}, and one line to {@code err} on a failure. A statement
     * that fails with an errno must be followed by an {@code expect} line
     * that checks it, else the script fails there: a script states what
     * it expects to go wrong.
     */
    public static int run(GuestShell shell, String source, List<Line> lines, PrintStream out, PrintStream err, boolean quiet) {
        for (int i = 0; i < lines.size(); i++) {
            Line line = lines.get(i);
            if (!quiet) {
                out.printf("[%d] %s%n", line.number(), line.text());
            }
            GuestShell.Step step;
            try {
                step = shell.execute(line.op());
            } catch (ScriptException e) {
                err.printf("%s:%d: %s%n", source, line.number(), e.getMessage());
                return USAGE;
            }
            if (!quiet || line.op() instanceof Op.Echo) {
                for (String o : step.output()) {
                    out.println(quiet ? o : "    " + o);
                }
            }
            switch (step.status()) {
                case OK -> {
                    if (!quiet && line.op() instanceof Op.Expect) {
                        out.println("    ok");
                    }
                }
                case QUIT -> {
                    return OK;
                }
                case EXPECT_FAILED -> {
                    err.printf("%s:%d: expect failed: %s%n", source, line.number(), step.problem());
                    return FAILED;
                }
                case ERRNO -> {
                    if (!quiet) {
                        out.println("    " + step.problem());
                    }
                    boolean checked = i + 1 < lines.size() && lines.get(i + 1).op() instanceof Op.Expect;
                    if (!checked) {
                        err.printf("%s:%d: %s failed and no expect line follows: %s%n", source, line.number(),
                                line.text().split("\\s+", 2)[0], step.problem());
                        return FAILED;
                    }
                }
            }
        }
        return OK;
    }
}
