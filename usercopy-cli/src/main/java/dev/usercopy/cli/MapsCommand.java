package dev.usercopy.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "maps", mixinStandardHelpOptions = true,
        header = "The grants of an address space, like /proc/PID/maps.",
        description = {"Runs a guest-language script quietly, then prints the grants of the address space it ends in,",
                "like /proc/PID/maps, with each grant's provider. Without FILE it runs a small built-in example",
                "(a private and a shared mapping, a fork, a copy-on-write break)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:ok", "1:the script failed (an expect, or an unchecked error)", "2:usage error"})
final class MapsCommand implements Callable<Integer> {
    private final Io io;

    @Parameters(paramLabel = "FILE", arity = "0..1", description = "The script to run first (default: the built-in example).")
    Path file;

    @Mixin
    GuestOptions options;

    MapsCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() {
        return AfterScript.run(io, file, options, shell -> {
            io.out().println("address space " + shell.current() + ":");
            io.out().println(MapsView.HEADER);
            MapsView.lines(shell.space(), shell::nameOf).forEach(io.out()::println);
        });
    }
}
