package dev.usercopy.proc;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import dev.usercopy.mm.MemoryManager;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Signals around a guest process: ones sent to it from outside while its
 * tracer is busy, and the SIGPIPE a write to a broken pipe raises. Each
 * program also runs natively, and the two statuses must agree.
 */
@org.junit.jupiter.api.Timeout(value = 180, unit = java.util.concurrent.TimeUnit.SECONDS) // a tracer that hangs must not hang the suite
class GuestSignalTest {
    private static MemoryManager mm;

    @BeforeAll
    static void machine() {
        mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(1L << 14));
    }

    @AfterAll
    static void close() {
        mm.close();
    }

    private static final String EXIT = "mov eax, 60\nsyscall\n";

    /**
     * Reads a fresh read-only anonymous page (a zero frame, mapped read-only), makes it writable,
     * opens argv[1] (a FIFO), reads one byte into the page and exits with it.
     */
    private static final String READ_FIFO_INTO_ZERO_PAGE = """
            _start: mov eax, 9
            xor edi, edi
            mov esi, 4096
            mov edx, 1
            mov r10d, 0x22
            mov r8, -1
            xor r9d, r9d
            syscall
            mov rbx, rax
            movzx eax, byte [rbx]
            mov eax, 10
            mov rdi, rbx
            mov esi, 4096
            mov edx, 3
            syscall
            mov rdi, [rsp+16]
            mov eax, 2
            xor esi, esi
            xor edx, edx
            syscall
            mov edi, eax
            xor eax, eax
            mov rsi, rbx
            mov edx, 1
            syscall
            movzx edi, byte [rbx]
            """ + EXIT;

    @Test
    void aSigtrapSentWhileTheTracerServesACallKillsAndDoesNotPassForTheInjectedCallsTrap(@TempDir Path dir) throws Exception {
        // The read puts a new frame where the child maps the zero frame, so its mapping is redone by an
        // injected mmap before it resumes. A SIGTRAP already pending then stops the child before that
        // mmap runs: taken for the stub's int3, the mmap would count as done, the signal would be lost,
        // and the guest would read 0 from the zero frame.
        Path exe = NasmGuest.build("trapread", READ_FIFO_INTO_ZERO_PAGE);
        Path fifo = dir.resolve("fifo");
        new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor(10, TimeUnit.SECONDS);

        Process p = new ProcessBuilder("prlimit", "--core=0", "--", exe.toString(), fifo.toString()).start();
        feedAfterSigtrap(fifo, p::pid);
        int expected = p.waitFor();

        Guest g = Guest.start(mm, exe.toString(), List.of("trapread", fifo.toString()), List.of(), Guest.Options.defaults());
        feedAfterSigtrap(fifo, g::hostPid);
        Guest.Result r = g.waitFor();
        assertEquals(133, expected, "natively, a SIGTRAP kills");
        assertEquals(expected, r.status(), r.toString());
    }

    /** Writes a byte to {@code fifo} once its reader has opened it and been sent SIGTRAP while in its read. */
    private static void feedAfterSigtrap(Path fifo, LongSupplier pid) throws Exception {
        try (OutputStream out = new FileOutputStream(fifo.toFile())) { // returns once the program has opened it
            Thread.sleep(300); // it is in its read now (a guest's tracer blocked in the host's)
            signal("TRAP", pid.getAsLong());
            Thread.sleep(100);
            out.write(42);
        } catch (java.io.IOException e) {
            // natively the reader may be gone already
        }
    }

    private static void signal(String sig, long pid) throws Exception {
        new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).start().waitFor(10, TimeUnit.SECONDS);
    }

    /** Sets SIGPIPE's action to {@code handler} (0 default, 1 ignore), blocks it if asked, then writes to stdout until a write fails: exits with its errno. */
    private static String writeUntilEpipe(int handler, boolean block) {
        return "_start: mov eax, 13\nmov edi, 13\nlea rsi, [rel act]\nxor edx, edx\nmov r10d, 8\nsyscall\n"
                + (block ? "mov eax, 14\nxor edi, edi\nlea rsi, [rel set]\nxor edx, edx\nmov r10d, 8\nsyscall\n" : "")
                + ".l: mov eax, 1\nmov edi, 1\nlea rsi, [rel act]\nmov edx, 1\nsyscall\ntest rax, rax\njns .l\nneg rax\nmov edi, eax\n" + EXIT
                + "section .data\nact: dq " + handler + ", 0, 0, 0\nset: dq 1 << 12\n";
    }

    /** The program's status natively with its stdout a pipe nobody reads, then as a guest with a FIFO nobody reads. */
    private static void brokenPipe(String name, String source, Path dir, int expected) throws Exception {
        Path exe = NasmGuest.build(name, source);
        Process p = new ProcessBuilder("prlimit", "--core=0", "--", exe.toString()).start();
        p.getInputStream().close();
        int nativeStatus = p.waitFor();
        assertEquals(expected, nativeStatus, name + " natively");

        Path fifo = dir.resolve(name + ".fifo");
        new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor(10, TimeUnit.SECONDS);
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try (InputStream _ = new FileInputStream(fifo.toFile())) {
                // opened once the guest's stdout is: closed at once
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Guest.Result r = Guest.run(mm, exe.toString(), List.of(name), List.of(), Guest.Options.defaults().withOutput(fifo, null));
        reader.get(10, TimeUnit.SECONDS);
        assertNull(r.error(), r.toString());
        assertEquals(nativeStatus, r.status(), name + ": native " + nativeStatus + ", guest " + r);
    }

    @Test
    void aWriteToABrokenPipeKillsWithSigpipe(@TempDir Path dir) throws Exception {
        brokenPipe("epipe-default", writeUntilEpipe(0, false), dir, 128 + 13);
    }

    @Test
    void aGuestThatIgnoresSigpipeGetsEpipeAndLives(@TempDir Path dir) throws Exception {
        brokenPipe("epipe-ignored", writeUntilEpipe(1, false), dir, 32);
    }

    @Test
    void aGuestThatBlocksSigpipeGetsEpipeAndLives(@TempDir Path dir) throws Exception {
        brokenPipe("epipe-blocked", writeUntilEpipe(0, true), dir, 32);
    }
}
