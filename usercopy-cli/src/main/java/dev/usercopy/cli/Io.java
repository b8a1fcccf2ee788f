package dev.usercopy.cli;

import java.io.InputStream;
import java.io.PrintStream;

/**
 * Where a command reads and writes, and whether a person is watching
 * ({@code terminal}: colour, progress bars, prompts). Tests pass their own.
 */
record Io(InputStream in, PrintStream out, PrintStream err, boolean terminal) {
    static Io system() {
        java.io.Console console = System.console();
        return new Io(System.in, System.out, System.err, console != null && console.isTerminal());
    }
}
