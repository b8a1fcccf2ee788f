package dev.usercopy.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import dev.usercopy.cli.guest.GuestShell;
import dev.usercopy.cli.guest.MapsView;
import dev.usercopy.cli.guest.Op;
import dev.usercopy.cli.guest.ScriptRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code maps} and {@code pages}: run a script (or the built-in one)
 * quietly, then show the address space it ended in, as its grants or as a
 * page map. The two differ only in what they show, so each is a subclass
 * of a few lines carrying its picocli annotation.
 */
abstract sealed class ViewCommand implements Callable<Integer> permits ViewCommand.Maps, ViewCommand.Pages {
    final Io io;

    @Parameters(paramLabel = "FILE", arity = "0..1", description = "The script to run first (default: the built-in example).")
    Path file;

    @Mixin
    GuestOptions options;

    ViewCommand(Io io) {
        this.io = io;
    }

    /** Prints the address space the script ended in. */
    abstract void show(GuestShell shell);

    @Override
    public Integer call() {
        String source = file == null ? Scripts.BUILT_IN : file.toString();
        List<ScriptRunner.Line> lines = ScriptRunner.parse(source, file == null ? Scripts.builtIn() : Scripts.read(file));
        try (GuestShell shell = new GuestShell(options.config())) {
            int code = ScriptRunner.run(shell, source, lines, io.out(), io.err(), true);
            if (code == ScriptRunner.OK) {
                io.out().println("address space " + shell.current() + ":");
                show(shell);
            }
            return code;
        }
    }

    @Command(name = "maps", mixinStandardHelpOptions = true,
            header = "The grants of an address space, like /proc/PID/maps.",
            description = {"Runs a guest-language script quietly, then prints the grants of the address space it ends in,",
                    "like /proc/PID/maps, with each grant's provider. Without FILE it runs a small built-in example",
                    "(a private and a shared mapping, a fork, a copy-on-write break)."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:ok", "1:the script failed (an expect, or an unchecked error)", "2:usage error"})
    static final class Maps extends ViewCommand {
        Maps(Io io) {
            super(io);
        }

        @Override
        void show(GuestShell shell) {
            io.out().println(MapsView.HEADER);
            MapsView.lines(shell.space(), shell::nameOf).forEach(io.out()::println);
        }
    }

    @Command(name = "pages", mixinStandardHelpOptions = true,
            header = "A page map of an address space, one character a page.",
            description = {"Runs a guest-language script quietly, then prints the page map of the address space it ends in:",
                    "one character a page (. unmapped, - lazy, 0 zeroed, P private, C copy-on-write shared, S shared),",
                    "from its lowest grant to the end of its highest. Without FILE it runs a small built-in example."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:ok", "1:the script failed (an expect, or an unchecked error)", "2:usage error"})
    static final class Pages extends ViewCommand {
        Pages(Io io) {
            super(io);
        }

        @Override
        void show(GuestShell shell) {
            shell.pages(new Op.Pages(null, 0)).forEach(io.out()::println);
        }
    }
}
