package dev.usercopy.proc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Assembles a tiny static guest (NASM, no libc) at test time: nasm -f elf64, then ld -static. */
final class NasmGuest {
    private NasmGuest() {}

    private static final Path DIR = Path.of("target", "nasm-guests");

    /** The program built from {@code source} (its {@code _start} the entry), named {@code name}. */
    static Path build(String name, String source) throws IOException, InterruptedException {
        Files.createDirectories(DIR);
        Path asm = DIR.resolve(name + ".asm");
        Path obj = DIR.resolve(name + ".o");
        Path exe = DIR.resolve(name).toAbsolutePath();
        Files.writeString(asm, "BITS 64\nglobal _start\n" + source);
        run(List.of("nasm", "-f", "elf64", "-o", obj.toString(), asm.toString()));
        run(List.of("ld", "-static", "-o", exe.toString(), obj.toString()));
        return exe;
    }

    /**
     * A program assembled with {@code nasm -f bin} from {@code source} alone:
     * for ELF files whose headers a test writes by hand (ld would not make them).
     */
    static Path buildRaw(String name, String source) throws IOException, InterruptedException {
        Files.createDirectories(DIR);
        Path asm = DIR.resolve(name + ".asm");
        Path exe = DIR.resolve(name).toAbsolutePath();
        Files.writeString(asm, source);
        run(List.of("nasm", "-f", "bin", "-o", exe.toString(), asm.toString()));
        exe.toFile().setExecutable(true);
        return exe;
    }

    private static void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
        }
    }

    /** Runs {@code exe} natively; its status as a shell shows it. */
    static int runNatively(Path exe) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("/bin/sh", "-c", "ulimit -c 0; \"$0\"", exe.toString()).inheritIO().start();
        return p.waitFor();
    }
}
