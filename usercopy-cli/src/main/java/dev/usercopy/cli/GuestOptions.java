package dev.usercopy.cli;

import dev.usercopy.cli.guest.GuestShell;
import dev.usercopy.mm.MemoryManager;
import picocli.CommandLine.Option;

/** The machine options of the commands that run guest-language statements. */
final class GuestOptions {
    @Option(names = "--fault-around", paramLabel = "PAGES", defaultValue = "16",
            description = "Pages a demand fault maps at once, a power of two in 1..512 (default: ${DEFAULT-VALUE}).")
    int faultAround;

    MemoryManager.Config config() {
        return GuestShell.config(faultAround());
    }

    /** The pages a demand fault maps at once, checked. */
    int faultAround() {
        if (faultAround < 1 || faultAround > 512 || Integer.bitCount(faultAround) != 1) {
            throw new UsageException("--fault-around " + faultAround + " is not a power of two in 1..512");
        }
        return faultAround;
    }
}
