package dev.usercopy.cli;

import java.util.List;
import java.util.concurrent.Callable;

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

    BenchCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() {
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
