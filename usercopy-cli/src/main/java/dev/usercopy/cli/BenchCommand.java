package dev.usercopy.cli;

import java.util.List;
import java.util.concurrent.Callable;

import dev.usercopy.cli.bench.GuestBench;
import dev.usercopy.cli.bench.QuickBench;
import dev.usercopy.cli.guest.ScriptRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
        header = "bench --quick: the main numbers in about half a minute, without JMH.",
        description = {"--quick: the main numbers without JMH (copy GB/s of the flat, aligned and adaptive forms against",
                "MemorySegment.copy, the EFAULT round trip, first touch per page guest against host, fork, copy-on-write",
                "break), each against a baseline measured in the same run, printed as a table. Each row runs the workload",
                "of its JMH counterpart in bench/, warmed up first. About half a minute, and 2 GiB of memory for the fork row.",
                "The JMH suite, for numbers worth publishing, is './usercopy bench [JMH options]' (see bench/README.md)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:ok", "1:a measurement failed (a copy came out wrong)", "2:usage error (no --quick)"})
final class BenchCommand implements Callable<Integer> {
    private final Io io;

    @Option(names = "--quick", description = "The quick measurement (required here; without it the launcher runs JMH).")
    boolean quick;

    @Option(names = "--guests", description = "Real programs as guests against the same programs run natively: a getppid round trip, "
            + "first touch of a page, busybox true, busybox sha256sum of 50 MiB.")
    boolean guests;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "9", description = "--guests: rounds of every case both ways (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--fault-around", paramLabel = "PAGES", defaultValue = "16", description = "--guests: the guests' fault-around (default: ${DEFAULT-VALUE}).")
    int faultAround;

    @Option(names = "--json", paramLabel = "FILE", description = "--guests: also write the rows as JSON to FILE.")
    java.nio.file.Path json;

    BenchCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() throws Exception {
        if (guests) {
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("usercopy-guest-bench");
            try {
                List<GuestBench.Row> rows = new GuestBench(dir, rounds, faultAround, GuestBench.findBusybox(),
                        io.terminal() ? io.err() : null).run();
                GuestBench.print(rows, rounds, io.out());
                if (json != null) {
                    java.nio.file.Files.writeString(json, GuestBench.json(rows, rounds));
                }
            } finally {
                try (var files = java.nio.file.Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
            return ScriptRunner.OK;
        }
        if (!quick) {
            throw new UsageException("the jar only has 'bench --quick'; the JMH suite is './usercopy bench [JMH options]'");
        }
        QuickBench.Progress progress = io.terminal() ? QuickBench.bar(io.err(), QuickBench.STEPS) : QuickBench.none();
        List<QuickBench.Row> rows;
        try {
            rows = new QuickBench(progress).run();
        } finally {
            progress.done();
        }
        QuickBench.print(rows, io.out());
        return ScriptRunner.OK;
    }
}
