package dev.usercopy.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import dev.usercopy.cli.guest.GuestShell;
import dev.usercopy.cli.guest.ScriptRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "run", mixinStandardHelpOptions = true,
        header = "Run a guest-language script; exit 1 on a failed expect.",
        description = {"Runs a guest-language script (see docs/guest-language.md, or 'help' in the shell).",
                "Every line is parsed before the first runs. Stops at the first failed expect, or at an error no expect line checks."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:every statement ran and every expect held", "1:an expect failed, or an error was not expected (the line is named)",
                "2:the script does not parse, or names what does not exist"})
final class RunCommand implements Callable<Integer> {
    private final Io io;

    @Parameters(paramLabel = "FILE", description = "The script.")
    Path file;

    @Option(names = {"-q", "--quiet"}, description = "Print only echo lines and failures, not the transcript.")
    boolean quiet;

    @Mixin
    GuestOptions options;

    RunCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() {
        List<ScriptRunner.Line> lines = ScriptRunner.parse(file.toString(), Scripts.read(file));
        try (GuestShell shell = new GuestShell(options.config())) {
            return ScriptRunner.run(shell, file.toString(), lines, io.out(), io.err(), quiet);
        }
    }
}
