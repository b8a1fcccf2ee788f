package dev.usercopy.proc;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.usercopy.mm.MemoryManager;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JVM that ends, however it ends, takes its guests with it
 * ({@code PTRACE_O_EXITKILL}): no guest process, holding the machine's
 * frames, outlives it.
 */
@org.junit.jupiter.api.Timeout(value = 180, unit = java.util.concurrent.TimeUnit.SECONDS) // a tracer that hangs must not hang the suite
class GuestJvmExitTest {
    /** A child JVM: starts a guest that spins, prints its host pid, then exits or waits to be killed. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            MemoryManager mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(1L << 12));
            Guest g = Guest.start(mm, args[1], List.of("spin"), List.of(), Guest.Options.defaults());
            while (g.hostPid() == 0) {
                Thread.sleep(5);
            }
            Thread.sleep(200); // running its loop, past the setup
            System.out.println("pid=" + g.hostPid());
            System.out.flush();
            if (args[0].equals("exit")) {
                System.exit(0);
            }
            Thread.sleep(60_000);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"exit", "kill"})
    void aJvmThatEndsKillsItsGuests(String how) throws Exception {
        Path spin = NasmGuest.build("spin", "_start: jmp _start\n");
        Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx64m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), Child.class.getName(), how, spin.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        long pid;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream()))) {
            String line = out.readLine();
            assertTrue(line != null && line.startsWith("pid="), "the child JVM's guest: " + line);
            pid = Long.parseLong(line.substring(4));
            assertTrue(alive(pid), "the guest runs");
            if (how.equals("kill")) {
                jvm.destroyForcibly(); // SIGKILL: no shutdown hook, no finally
            }
            assertTrue(jvm.waitFor(30, TimeUnit.SECONDS), "the child JVM ended");
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (alive(pid) && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        boolean outlived = alive(pid);
        if (outlived) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly); // not left spinning
        }
        assertFalse(outlived, "guest " + pid + " outlived its JVM (" + how + ")");
    }

    /** Whether {@code pid} is a guest stub that has not ended (a zombie has). */
    private static boolean alive(long pid) throws IOException {
        Path proc = Path.of("/proc/" + pid);
        try {
            String stat = Files.readString(proc.resolve("stat"));
            String state = stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
            return !state.equals("Z") && !state.equals("X") && Files.readSymbolicLink(proc.resolve("exe")).toString().contains("usercopy-stub");
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
    }
}
