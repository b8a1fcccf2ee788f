package dev.usercopy.cli;

import java.io.PrintStream;
import java.util.Arrays;

/** The command line: {@code usercopy demo}. */
public final class Main {
    private Main() {}

    private static final String USAGE = """
            usage: usercopy <command>

            commands:
              demo     copy across a page that faults, on real pages, and show the exact count
              help     this text
            """;

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        String command = args.length == 0 ? "help" : args[0];
        String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
        return switch (command) {
            case "demo" -> rest.length == 0 ? new Demo(out).run() : usage(err, "demo takes no arguments");
            case "help", "-h", "--help" -> {
                out.print(USAGE);
                yield 0;
            }
            default -> usage(err, "unknown command '" + command + "'");
        };
    }

    private static int usage(PrintStream err, String problem) {
        err.println("usercopy: " + problem);
        err.print(USAGE);
        return 2;
    }
}
