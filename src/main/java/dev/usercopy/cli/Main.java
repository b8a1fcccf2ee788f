package dev.usercopy.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

import dev.usercopy.platform.CpuFeature;
import dev.usercopy.platform.UserCopy;

/** The command line: {@code usercopy demo}, {@code usercopy cpu}. */
public final class Main {
    private Main() {}

    private static final String USAGE = """
            usage: usercopy <command>

            commands:
              demo     copy across a page that faults, on real pages, and show the exact count
              cpu      the CPU features the adaptive copy found, and what it does with them
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
            case "cpu" -> rest.length == 0 ? cpu(out) : usage(err, "cpu takes no arguments");
            case "help", "-h", "--help" -> {
                out.print(USAGE);
                yield 0;
            }
            default -> usage(err, "unknown command '" + command + "'");
        };
    }

    /** What UserCopy.Form.ADAPTIVE will do on this machine, from the features CPUID reported at load. */
    static int cpu(PrintStream out) {
        Set<CpuFeature> f = UserCopy.cpuFeatures();
        out.println("CPU features (CPUID at load): " + (f.isEmpty() ? "none"
                : f.stream().map(Enum::name).collect(Collectors.joining(" "))));
        out.println("adaptive copy:");
        out.println("  1..64 bytes      mov sequences");
        out.println("  65 B..16 KiB     " + (f.contains(CpuFeature.AVX2) ? "AVX2 loop" : f.contains(CpuFeature.ERMS)
                ? "rep movsb (no AVX2)" : "rep movsq, aligned form (no AVX2, no ERMS)"));
        out.println("  16 KiB and up    " + (f.contains(CpuFeature.ERMS) ? "rep movsb" : "rep movsq, aligned form (no ERMS)"));
        return 0;
    }

    private static int usage(PrintStream err, String problem) {
        err.println("usercopy: " + problem);
        err.print(USAGE);
        return 2;
    }
}
