package dev.usercopy.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "pages", mixinStandardHelpOptions = true,
        header = "A page map of an address space, one character a page.",
        description = {"Runs a guest-language script quietly, then prints the page map of the address space it ends in:",
                "one character a page (. unmapped, - lazy, 0 zeroed, P private, C copy-on-write shared, S shared),",
                "from its lowest grant to the end of its highest. Without FILE it runs a small built-in example."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:ok", "1:the script failed (an expect, or an unchecked error)", "2:usage error"})
final class PagesCommand implements Callable<Integer> {
    private final Io io;

    @Parameters(paramLabel = "FILE", arity = "0..1", description = "The script to run first (default: the built-in example).")
    Path file;

    @Mixin
    GuestOptions options;

    PagesCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() {
        return AfterScript.run(io, file, options, shell -> {
            io.out().println("address space " + shell.current() + ":");
            shell.pages(new Op.Pages(null, 0)).forEach(io.out()::println);
        });
    }
}
