package dev.usercopy.proc;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.usercopy.mm.MemoryManager;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A guest's signal handler sees the frame the host kernel would have built:
 * the oracle program of SignalDeliveryTest, built static, runs natively and
 * as a guest, and reports the same frames (on the stack, on an alternate
 * stack, with SS_AUTODISARM), handler registers, masks and siginfo.
 */
@org.junit.jupiter.api.Timeout(value = 180, unit = TimeUnit.SECONDS)
class GuestSignalFrameTest {
    @Test
    void aHandlerInAGuestSeesTheFrameItSeesNatively(@TempDir Path dir) throws Exception {
        Path exe = compileStatic("sigframe_dump.c", dir);

        Process p = new ProcessBuilder(exe.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String host = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "native run");

        Path out = dir.resolve("out");
        Path err = dir.resolve("err");
        try (MemoryManager mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(1L << 14))) {
            Guest.Result r = Guest.run(mm, exe.toString(), List.of("sigframe_dump"), List.of(),
                    Guest.Options.defaults().withOutput(out, err));
            assertEquals(0, r.status(), "guest status; stderr: " + Files.readString(err) + " " + r);
        }
        assertEquals(withoutFaultWords(host), withoutFaultWords(Files.readString(out)));
    }

    /**
     * sigfault.c: a SIGSEGV handler that reads si_addr of its own fault and
     * returns to make the write again; a handler that cannot be given a frame
     * (rsp at an unmapped page): death by SIGSEGV; the same on an alternate
     * stack: the handler runs there. Output and status as natively.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"addr", "badstack", "altstack"})
    void faultsAndBadStacksGoAsNatively(String mode, @TempDir Path dir) throws Exception {
        Path exe = compileStatic("sigfault.c", dir);
        Process p = new ProcessBuilder(exe.toString(), mode).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String host = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "native run");
        Path out = dir.resolve("out");
        Path err = dir.resolve("err");
        try (MemoryManager mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(1L << 14))) {
            Guest.Result r = Guest.run(mm, exe.toString(), List.of("sigfault", mode), List.of(),
                    Guest.Options.defaults().withOutput(out, err));
            assertEquals(p.exitValue(), r.status(), mode + ": status; stderr: " + Files.readString(err));
        }
        assertEquals(host, Files.readString(out), mode);
    }

    private static Path compileStatic(String name, Path dir) throws Exception {
        Path src = dir.resolve(name);
        try (InputStream in = GuestSignalFrameTest.class.getResourceAsStream("/dev/usercopy/sys/" + name)) {
            Files.copy(in, src);
        }
        Path exe = dir.resolve(name.replace(".c", ""));
        Process cc = new ProcessBuilder("gcc", "-static", "-O1", "-o", exe.toString(), src.toString()).redirectErrorStream(true).start();
        String ccOut = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(cc.waitFor(60, TimeUnit.SECONDS) && cc.exitValue() == 0, "gcc -static: " + ccOut);
        return exe;
    }

    /** trapno, err and cr2 of a kill are what the thread's last fault left: the JVM's, natively. */
    private static String withoutFaultWords(String s) {
        return s.lines().filter(l -> !l.matches(".*\\.sc_(trapno|err|cr2)=.*")).reduce("", (a, b) -> a + b + "\n");
    }
}
