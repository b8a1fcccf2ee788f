package dev.usercopy.cli;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.usercopy.cli.guest.ScriptException;
import dev.usercopy.cli.guest.ScriptRunner;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.Profile;
import dev.usercopy.platform.NativeCallException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The command line. Exit codes: 0 ok, 1 a check or an {@code expect} failed
 * (or the command failed), 2 a usage error. Errors are one line on stderr;
 * {@code --verbose} adds the stack trace.
 */
@Command(name = "usercopy", mixinStandardHelpOptions = true, version = "usercopy 0.1.0",
        description = "Copies between kernel buffers and guest memory that fault half-way, on real pages, inside this JVM.",
        subcommands = {DemoCommand.class, RunCommand.class, ExecCommand.class, ShellCommand.class, ViewCommand.Maps.class, ViewCommand.Pages.class,
                BenchCommand.class, CpuCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:ok", "1:a check or an expect failed, or the command failed", "2:usage error (bad option, bad script line)"})
public final class Main implements Callable<Integer> {
    private final Io io;

    @Spec
    CommandSpec spec;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "On an error, print the stack trace too.")
    boolean verbose;

    /** Sets the profile every machine of this run starts with, through the same system property a plain JVM flag would. */
    @Option(names = "--profile", scope = ScopeType.INHERIT, paramLabel = "PROFILE",
            description = "Safety profile: fortress, performance or ludicrous (default: -D" + Profile.PROPERTY + ", else performance).")
    void profile(Profile profile) {
        System.setProperty(Profile.PROPERTY, profile.name().toLowerCase(Locale.ROOT));
    }

    Main(Io io) {
        this.io = io;
    }

    public static void main(String[] args) {
        System.exit(run(args, Io.system()));
    }

    /** Runs the command line and returns its exit code. */
    static int run(String[] args, Io io) {
        boolean verbose = Arrays.asList(args).contains("--verbose");
        CommandLine cl = new CommandLine(new Main(io), new Factory(io));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setOut(new PrintWriter(io.out(), true));
        cl.setErr(new PrintWriter(io.err(), true));
        cl.setColorScheme(CommandLine.Help.defaultColorScheme(io.terminal() ? CommandLine.Help.Ansi.ON : CommandLine.Help.Ansi.OFF));
        cl.setParameterExceptionHandler((e, a) -> {
            String command = e.getCommandLine().getCommandSpec().qualifiedName();
            io.err().println(command + ": " + e.getMessage() + " (see '" + command + " --help')");
            return ScriptRunner.USAGE;
        });
        cl.setExecutionExceptionHandler((e, commandLine, parsed) -> {
            String command = commandLine.getCommandSpec().qualifiedName();
            int code = e instanceof ScriptException || e instanceof UsageException ? ScriptRunner.USAGE : ScriptRunner.FAILED;
            io.err().println(command + ": " + oneLine(e));
            if (verbose) {
                e.printStackTrace(io.err());
            }
            return code;
        });
        // --profile sets the system property machines read; a run in a test JVM must not leave it behind.
        String profile = System.getProperty(Profile.PROPERTY);
        try {
            return cl.execute(args);
        } finally {
            if (profile == null) {
                System.clearProperty(Profile.PROPERTY);
            } else {
                System.setProperty(Profile.PROPERTY, profile);
            }
        }
    }

    /** An exception as one line: the errno and message for ours, the type and message for anything else. */
    static String oneLine(Throwable e) {
        String message = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
        return switch (e) {
            case ErrnoException x -> message;
            case NativeCallException x -> message;
            case ScriptException x -> message;
            case UsageException x -> message;
            default -> e.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message) + " (--verbose for the stack trace)";
        };
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(io.out(), io.terminal() ? CommandLine.Help.Ansi.ON : CommandLine.Help.Ansi.OFF);
        return ScriptRunner.OK;
    }

    /** Hands each command the {@link Io} it is to use. */
    private record Factory(Io io) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> cls) throws Exception {
            try {
                return cls.getDeclaredConstructor(Io.class).newInstance(io);
            } catch (NoSuchMethodException e) {
                return CommandLine.defaultFactory().create(cls);
            }
        }
    }
}
