package dev.usercopy.cli.exec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The test guests of usercopy-cli/src/test/guests: NASM ones assembled and linked (static, no
 * libc), C ones compiled with gcc, into target/guests the first time a test asks for one. Each is a plain Linux program: the
 * oracle tests run it natively and under {@code usercopy exec} and compare.
 */
final class GuestPrograms {
    static final Path SOURCES = Path.of("usercopy-cli/src/test/guests");
    static final Path OUT = Path.of("usercopy-cli/target/guests");

    private static final Map<String, Path> BUILT = new HashMap<>();

    private GuestPrograms() {
    }

    /** The program built from {@code name.asm}. */
    static Path get(String name) {
        return get(name, name);
    }

    /**
     * The program built from {@code source.asm} under the name {@code name}, linked with
     * {@code ldFlags} (e.g. {@code -z execstack}).
     */
    static synchronized Path get(String name, String source, String... ldFlags) {
        return BUILT.computeIfAbsent(name, n -> build(n, source, ldFlags));
    }

    /**
     * The C program built from {@code source.c} under the name {@code name} with gcc and
     * {@code ccFlags} (none: dynamically linked against the host's C library, as most programs are;
     * {@code -static}, {@code -static-pie}).
     */
    static synchronized Path c(String name, String source, String... ccFlags) {
        return BUILT.computeIfAbsent(name, n -> {
            try {
                Files.createDirectories(OUT);
                Path exe = OUT.resolve(n);
                List<String> cc = new ArrayList<>(List.of("gcc", "-O1", "-Wall", "-Werror", "-o", exe.toString()));
                cc.addAll(List.of(ccFlags));
                cc.add(SOURCES.resolve(source + ".c").toString());
                run(cc);
                return exe.toAbsolutePath();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static Path build(String name, String source, String... ldFlags) {
        try {
            Files.createDirectories(OUT);
            Path object = OUT.resolve(name + ".o");
            Path exe = OUT.resolve(name);
            run(List.of("nasm", "-f", "elf64", "-I", SOURCES + "/",
                    SOURCES.resolve(source + ".asm").toString(), "-o", object.toString()));
            List<String> ld = new ArrayList<>(List.of("ld", "-static", "-o", exe.toString()));
            ld.addAll(List.of(ldFlags));
            ld.add(object.toString());
            run(ld);
            return exe.toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void run(List<String> command) throws IOException {
        Process p = Oracle.start(new ProcessBuilder(command).redirectErrorStream(true));
        String out = new String(p.getInputStream().readAllBytes());
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0 || !out.isBlank()) {
                throw new IllegalStateException(String.join(" ", command) + " failed (warnings count as failures):\n" + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
