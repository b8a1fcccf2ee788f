package dev.usercopy.sys;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A C program of the test resources, compiled with gcc at test time and run on the host: the oracle's side. */
final class HostProgram {
    private HostProgram() {}

    /** Compiles resource {@code name} (in this package) into {@code dir}; a missing gcc fails the test. */
    static Path compile(String name, Path dir) throws IOException, InterruptedException {
        Path src = dir.resolve(name);
        try (InputStream in = HostProgram.class.getResourceAsStream(name)) {
            Files.copy(in, src);
        }
        Path exe = dir.resolve(name.replace(".c", ""));
        Process p = new ProcessBuilder("gcc", "-O1", "-Wall", "-o", exe.toString(), src.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("gcc failed on " + name + ":\n" + out);
        }
        return exe;
    }

    /** Runs {@code command}: its standard output; exit status other than 0 fails. */
    static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(command + " exited " + p.exitValue() + ":\n" + out);
        }
        return out;
    }
}
