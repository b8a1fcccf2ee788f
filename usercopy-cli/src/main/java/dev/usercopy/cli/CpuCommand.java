package dev.usercopy.cli;

import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

import dev.usercopy.cli.guest.ScriptRunner;
import dev.usercopy.platform.CpuFeature;
import dev.usercopy.platform.UserCopy;
import picocli.CommandLine.Command;

@Command(name = "cpu", mixinStandardHelpOptions = true,
        header = "The CPU features the adaptive copy found, and the routine each size range gets.",
        description = {"Reads what CPUID reported when the native library loaded (ERMS, FSRM, AVX2) and prints which",
                "routine UserCopy.Form.ADAPTIVE, the default, uses for each size range on this machine."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:ok", "2:usage error"})
final class CpuCommand implements Callable<Integer> {
    private final Io io;

    CpuCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() {
        Set<CpuFeature> f = UserCopy.cpuFeatures();
        io.out().println("CPU features (CPUID at load): " + (f.isEmpty() ? "none"
                : f.stream().map(Enum::name).collect(Collectors.joining(" "))));
        io.out().println("adaptive copy:");
        io.out().println("  1..64 bytes      mov sequences");
        io.out().println("  65 B..4 KiB-1    " + (f.contains(CpuFeature.AVX2) ? "AVX2 loop" : f.contains(CpuFeature.ERMS)
                ? "rep movsb (no AVX2)" : "rep movsq, aligned form (no AVX2, no ERMS)"));
        String big = f.contains(CpuFeature.ERMS) ? "rep movsb" : "rep movsq, aligned form (no ERMS)";
        io.out().println("  4 KiB and up     " + (f.contains(CpuFeature.AVX2)
                ? big + "; AVX2 loop if dst - src mod 4 KiB is 1..31 or 33..63" : big));
        return ScriptRunner.OK;
    }
}
