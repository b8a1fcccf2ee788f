package dev.usercopy.cli;

import java.util.concurrent.Callable;

import dev.usercopy.cli.demo.Demo;
import dev.usercopy.cli.demo.Report;
import dev.usercopy.cli.guest.ScriptRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
        header = "A narrated tour of guest memory on real pages, every claim checked.",
        description = {"A narrated tour with real faults and real numbers: demand faults and fault-around, fork and",
                "copy-on-write with refcounts, EFAULT for bad pointers, a string running into an unmapped page,",
                "a writer racing a string copy. Every claim is checked as it is made."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:every claim held", "1:a claim did not hold (it is printed as FAILED)", "2:usage error"})
final class DemoCommand implements Callable<Integer> {
    enum When { auto, always, never }

    private final Io io;

    @Option(names = "--json", description = "Print one JSON document (sections, measured values, checks) instead of text.")
    boolean json;

    @Option(names = "--color", paramLabel = "WHEN", defaultValue = "auto",
            description = "Colour: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}: on a terminal, unless NO_COLOR is set).")
    When color;

    DemoCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() {
        boolean colour = switch (color) {
            case always -> true;
            case never -> false;
            case auto -> io.terminal() && System.getenv("NO_COLOR") == null;
        };
        Report report = new Report(json ? null : io.out(), colour);
        int failures = new Demo(report).run();
        if (json) {
            io.out().print(report.json());
        } else {
            io.out().println();
            io.out().println(failures == 0 ? "all " + report.checks() + " claims held"
                    : failures + " of " + report.checks() + " claims did NOT hold");
        }
        return failures == 0 ? ScriptRunner.OK : ScriptRunner.FAILED;
    }
}
