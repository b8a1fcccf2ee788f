package dev.usercopy.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Where the commands find a script: a file, or the example built into the jar. */
final class Scripts {
    private Scripts() {}

    /** The built-in example that {@code maps} and {@code pages} run when given no file. */
    static final String BUILT_IN = "built-in example";

    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UsageException("no such file: " + file);
        } catch (IOException e) {
            throw new UsageException("cannot read " + file + ": " + e.getMessage());
        }
    }

    static String builtIn() {
        try (InputStream in = Scripts.class.getResourceAsStream("builtin-example.guest")) {
            if (in == null) {
                throw new IllegalStateException("builtin-example.guest is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
