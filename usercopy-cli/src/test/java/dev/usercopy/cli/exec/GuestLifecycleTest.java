package dev.usercopy.cli.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code usercopy exec} as a process among others: a guest killed from outside (SIGKILL) ends
 * the command with 137, as a shell reports it, and leaves no zombie; a JVM killed under its guest
 * takes the guest with it (PTRACE_O_EXITKILL), so no traced program runs on untraced.
 */
class GuestLifecycleTest {
    /** A guest that runs (no syscall) until killed. */
    static List<String> spinner() {
        return List.of(GuestPrograms.get("crash").toString(), "spin");
    }

    /** busybox sleeping far longer than the test waits: the tracer serves its clock_nanosleep. */
    static final List<String> SLEEPER = List.of("/bin/busybox", "sleep", "600");

    @Test
    void aGuestKilledFromOutsideEndsExecWith137() throws Exception {
        assertKilledGuestEndsExec(spinner());
    }

    /**
     * The same while the tracer serves a long syscall: Linux kills a sleeping process at once.
     * (guest-findings.md, 11: the tracer slept on, then reported 127; a served sleep now looks
     * every 100 ms whether its guest still lives.)
     */
    @Test
    void aGuestKilledDuringAServedSleepEndsExecWith137() throws Exception {
        assertKilledGuestEndsExec(SLEEPER);
    }

    private static void assertKilledGuestEndsExec(List<String> command) throws Exception {
        Process jvm = startExec(command);
        try {
            ProcessHandle guest = guestOf(jvm);
            guest.destroyForcibly();
            assertTrue(jvm.waitFor(20, TimeUnit.SECONDS), "exec still running 20 s after its guest was killed");
            assertEquals(137, jvm.exitValue(), "exec's status");
            assertFalse(running(guest.pid()), "the guest is gone");
        } finally {
            jvm.destroyForcibly();
        }
    }

    @Test
    void aJvmKilledUnderItsGuestTakesTheGuestAlong() throws Exception {
        Process jvm = startExec(spinner());
        ProcessHandle guest = guestOf(jvm);
        jvm.destroyForcibly();
        jvm.waitFor();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (running(guest.pid()) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        boolean alive = running(guest.pid());
        if (alive) {
            guest.destroyForcibly();
        }
        assertFalse(alive, "the guest outlived its JVM");
    }

    /** exec of {@code command}, returned once the JVM has a child (the stub, soon the guest) and a moment has passed. */
    private static Process startExec(List<String> command) throws IOException, InterruptedException {
        Assumptions.assumeTrue(Oracle.execLanded(), "usercopy exec has not landed in this build");
        ProcessBuilder pb = new ProcessBuilder(Oracle.guestCommand(List.of(), command)).directory(Path.of("/").toFile());
        pb.environment().clear();
        pb.environment().putAll(Oracle.ENV);
        Process jvm = Oracle.start(pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (jvm.toHandle().children().findAny().isEmpty()) {
            assertTrue(jvm.isAlive() && System.nanoTime() < deadline, "exec has no child after 60 s or ended");
            Thread.sleep(20);
        }
        Thread.sleep(1000);
        return jvm;
    }

    /** Whether the process exists and has not ended (a zombie whose parent is gone has ended). */
    private static boolean running(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    /** The JVM's child: the traced guest program. */
    private static ProcessHandle guestOf(Process jvm) {
        List<ProcessHandle> children = jvm.toHandle().children().toList();
        assertEquals(1, children.size(), () -> "exec's children: " + children);
        return children.getFirst();
    }
}
