package dev.usercopy.cli.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A fork bomb, {@code bomb(){ bomb|bomb& };bomb}, in a guest: its tree is bounded by the per-guest process
 * limit (a fork past it is EAGAIN, as past RLIMIT_NPROC), it ends when the tree's init ends (as a
 * PID namespace does) or when {@code usercopy exec}'s JVM is killed, and it leaves no host
 * process behind. Never run natively: nothing would bound it on the host (root ignores
 * RLIMIT_NPROC). The exec JVM is started in a session of its own ({@code setsid}), so every host
 * process of the tree, stubs included, is found by its session in /proc, even once reparented.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ForkBombTest {
    /** Processes.DEFAULT_LIMIT: the processes a guest tree may have at once, zombies included. */
    static final int TREE_LIMIT = 256;
    /** Host processes the test allows past the limit: stubs of ended guest processes not reaped yet. */
    static final int SLACK = 8;
    /**
     * The bomb, named: busybox's sh refuses {@code :} as a function name ("bad function name", on
     * Linux too), so the literal text would test only a syntax error. The init waits for
     * its stdin to close, so that the bomb runs as long as the test wants.
     */
    static final String BOMB = "bomb(){ bomb|bomb& };bomb; read x; echo init ends";

    private static Process start(Path out, Path err) throws IOException {
        List<String> command = new ArrayList<>(List.of("setsid"));
        command.addAll(Oracle.guestCommand(List.of(), List.of(BusyboxOracleTest.BUSYBOX, "sh", "-c", BOMB)));
        ProcessBuilder pb = new ProcessBuilder(command).directory(Oracle.WORK.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().clear();
        pb.environment().putAll(Oracle.ENV);
        return Oracle.start(pb);
    }

    /** The pids of the host processes in session {@code sid}, zombies included. */
    static List<Long> inSession(long sid) {
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(x -> x.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
                String stat;
                try {
                    stat = Files.readString(p.resolve("stat"));
                } catch (IOException gone) {
                    continue;
                }
                // pid (comm) state ppid pgrp session ...: comm may hold anything, so count from its ')'
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                if (Long.parseLong(f[3]) == sid) {
                    pids.add(Long.parseLong(p.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return pids;
    }

    /** Waits up to {@code seconds} for session {@code sid} to have no process; fails naming what is left. */
    static void assertSessionEmpties(long sid, int seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<Long> left = inSession(sid);
        while (!left.isEmpty() && System.nanoTime() < end) {
            Thread.sleep(100);
            left = inSession(sid);
        }
        if (!left.isEmpty()) {
            List<String> shown = new ArrayList<>();
            for (long pid : left.subList(0, Math.min(10, left.size()))) {
                try {
                    shown.add(pid + ": " + Files.readString(Path.of("/proc/" + pid + "/stat")).trim());
                } catch (IOException gone) {
                    shown.add(pid + ": gone");
                }
            }
            for (long pid : left) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
            fail(left.size() + " host processes of the guest tree still there " + seconds + " s after it ended:\n" + String.join("\n", shown));
        }
    }

    /** Samples the session's size for {@code millis}; returns the most seen at once. */
    private static int most(long sid, long millis) throws InterruptedException {
        int most = 0;
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < end) {
            most = Math.max(most, inSession(sid).size());
            Thread.sleep(50);
        }
        return most;
    }

    /** The exec JVM's session: its own pid, once setsid has run (in place: it is no group leader). */
    private static long sessionOf(Process p) throws IOException, InterruptedException {
        long sid = -1;
        for (int i = 0; i < 100 && sid != p.pid(); i++) {
            String stat = Files.readString(Path.of("/proc/" + p.pid() + "/stat"));
            sid = Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[3]);
            if (sid != p.pid()) {
                Thread.sleep(50);
            }
        }
        assertEquals(p.pid(), sid, "setsid should have made the exec JVM a session leader in place");
        return sid;
    }

    /** What a test does with a running bomb: its exec JVM, the JVM's session, and the files of its stdout and stderr. */
    private interface WhileItRuns {
        void test(Process p, long sid, Path out, Path err) throws Exception;
    }

    /** Starts the bomb, runs {@code body}, then kills whatever of its session is left and deletes its files. */
    private static void withBomb(WhileItRuns body) throws Exception {
        Assumptions.assumeTrue(Oracle.execLanded(), "usercopy exec has not landed in this build");
        Files.createDirectories(Oracle.WORK);
        Path out = Files.createTempFile(Oracle.WORK, "bomb", ".out");
        Path err = Files.createTempFile(Oracle.WORK, "bomb", ".err");
        Process p = start(out, err);
        long sid = sessionOf(p);
        try {
            body.test(p, sid, out, err);
        } finally {
            p.destroyForcibly();
            p.waitFor();
            for (long pid : inSession(sid)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
    }

    @Test
    void aForkBombStaysWithinTheTreesLimitAndEndsWithItsInit() throws Exception {
        withBomb((p, sid, out, err) -> {
            int most = most(sid, 8000);
            assertTrue(p.isAlive(), () -> "exec ended before its init read stdin: " + read(out) + read(err));
            p.getOutputStream().close(); // the init's read sees EOF, the init ends, and with it the tree
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                fail("exec still running 60 s after its init's stdin closed (" + inSession(sid).size() + " host processes in its session)");
            }
            String errText = read(err);
            // the JVM, the tree's processes, and a few whose guest slot is free but whose host stub its tracer is still reaping
            assertTrue(most <= TREE_LIMIT + 1 + SLACK, "the tree had " + (most - 1) + " host processes at once, past its limit of " + TREE_LIMIT);
            assertTrue(errText.contains("can't fork: Resource temporarily unavailable"),
                    () -> "the tree never met its limit (EAGAIN); stderr begins:\n" + errText.substring(0, Math.min(2000, errText.length())));
            assertTrue(read(out).contains("init ends"), () -> "the init did not run to its end: " + read(out));
            assertSessionEmpties(sid, 10);
            try (Stream<Path> files = Files.list(Oracle.WORK)) {
                assertEquals(List.of(), files.filter(f -> f.getFileName().toString().startsWith("hs_err_pid" + p.pid())).toList(), "the exec JVM crashed");
            }
        });
    }

    @Test
    void killingTheExecJvmMidBombLeavesNoHostProcess() throws Exception {
        withBomb((p, sid, out, err) -> {
            int most = most(sid, 5000);
            assertTrue(p.isAlive(), () -> "exec ended before its init read stdin: " + read(out) + read(err));
            assertTrue(most > 10, "the bomb never forked: at most " + most + " host processes; stderr:\n" + read(err));
            p.destroyForcibly(); // SIGKILL: no shutdown hook runs; each stub must die with its tracer
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the exec JVM survived SIGKILL");
            assertSessionEmpties(sid, 10);
        });
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, java.nio.charset.StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "(" + e + ")";
        }
    }
}
