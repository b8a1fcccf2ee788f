package dev.usercopy.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

import dev.usercopy.cli.guest.GuestShell;
import dev.usercopy.cli.guest.Op;
import dev.usercopy.cli.guest.Parser;
import dev.usercopy.cli.guest.ScriptException;
import dev.usercopy.cli.guest.ScriptRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "shell", mixinStandardHelpOptions = true,
        header = "An interactive guest-language shell on standard input.",
        description = {"Reads guest-language statements from standard input, one a line, and runs each at once.",
                "Type 'help' for the language, 'quit' or end of input to leave. An error is printed and the shell goes on."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:no expect failed", "1:an expect failed", "2:no expect failed, but a line could not run (syntax, unknown name)"})
final class ShellCommand implements Callable<Integer> {
    private final Io io;

    @Mixin
    GuestOptions options;

    ShellCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() {
        int expectFailures = 0;
        int badLines = 0;
        BufferedReader in = new BufferedReader(new InputStreamReader(io.in(), StandardCharsets.UTF_8));
        try (GuestShell shell = new GuestShell(options.config())) {
            if (io.terminal()) {
                io.out().println("usercopy shell: guest memory on real pages. 'help' lists the statements, 'quit' leaves.");
            }
            int number = 0;
            while (true) {
                if (io.terminal()) {
                    io.out().print(shell.current() + "> ");
                    io.out().flush();
                }
                String line = in.readLine();
                if (line == null) {
                    break;
                }
                number++;
                GuestShell.Step step;
                try {
                    Op op = Parser.parse(line);
                    if (op == null) {
                        continue;
                    }
                    step = shell.execute(op);
                } catch (ScriptException e) {
                    badLines++;
                    io.err().println("line " + number + ": " + e.getMessage());
                    continue;
                }
                step.output().forEach(io.out()::println);
                switch (step.status()) {
                    case OK -> { }
                    case ERRNO -> io.out().println(step.problem());
                    case EXPECT_FAILED -> {
                        expectFailures++;
                        io.err().println("line " + number + ": expect failed: " + step.problem());
                    }
                    case QUIT -> {
                        return exitCode(expectFailures, badLines);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return exitCode(expectFailures, badLines);
    }

    private static int exitCode(int expectFailures, int badLines) {
        return expectFailures > 0 ? ScriptRunner.FAILED : badLines > 0 ? ScriptRunner.USAGE : ScriptRunner.OK;
    }
}
