package dev.usercopy.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/** What {@code maps} and {@code pages} share: run a script (or the built-in one) quietly, then show its end state. */
final class AfterScript {
    private AfterScript() {}

    static int run(Io io, Path file, GuestOptions options, Consumer<GuestShell> show) {
        String source = file == null ? Scripts.BUILT_IN : file.toString();
        List<ScriptRunner.Line> lines = ScriptRunner.parse(source, file == null ? Scripts.builtIn() : Scripts.read(file));
        try (GuestShell shell = new GuestShell(options.config())) {
            int code = ScriptRunner.run(shell, source, lines, io.out(), io.err(), true);
            if (code == ScriptRunner.OK) {
                show.accept(shell);
            }
            return code;
        }
    }
}
