package dev.usercopy.cli.exec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Linux as the oracle: a program runs natively (a child of this JVM) and as a guest of
 * {@code usercopy exec} (a child JVM running the command line, whose child is the traced
 * program), with the same arguments, working directory, environment and stdin; stdout, stderr
 * and the exit status (128 + signal when killed, as a shell reports it) must be byte-identical.
 */
final class Oracle {
    /**
     * Tests run two at a time in one JVM: a process started while another
     * thread holds a file open for writing inherits that descriptor until its
     * exec, and an exec of that file meanwhile fails with ETXTBSY (it did,
     * once, on the native side of an oracle). Starts take the read side,
     * writes of files that will be executed the write side.
     */
    private static final java.util.concurrent.locks.ReentrantReadWriteLock SPAWN = new java.util.concurrent.locks.ReentrantReadWriteLock();

    /** Something that writes files. */
    interface Writes {
        void run() throws IOException;
    }

    /** Starts {@code pb}, never while an executable is being written. */
    static Process start(ProcessBuilder pb) throws IOException {
        SPAWN.readLock().lock();
        try {
            return pb.start();
        } finally {
            SPAWN.readLock().unlock();
        }
    }

    /** Runs {@code w}, which writes files some test will execute, while no process is being started. */
    static void writingExecutables(Writes w) throws IOException {
        SPAWN.writeLock().lock();
        try {
            w.run();
        } finally {
            SPAWN.writeLock().unlock();
        }
    }

    /** Where the tests keep their files: beneath usercopy-cli/target. */
    static final Path WORK = Path.of("usercopy-cli/target/guest-oracle").toAbsolutePath();

    /** The environment of every run, native or guest: fixed, so that it is the same for both. */
    static final Map<String, String> ENV;
    static {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/bin:/bin");
        env.put("HOME", "/root");
        env.put("LC_ALL", "C");
        env.put("TZ", "UTC");
        ENV = Map.copyOf(env);
    }

    private static final long TIMEOUT_SECONDS = 120;

    private Oracle() {
    }

    /** What the program reads on fd 0. */
    sealed interface Stdin {
        /** A pipe, closed at once: EOF. */
        record Empty() implements Stdin {
        }

        /** A pipe holding these bytes, then EOF. */
        record Bytes(byte[] bytes) implements Stdin {
        }

        /** A regular file (seekable: read(2) and pread(2) behave as on a file). */
        record File(Path path) implements Stdin {
        }

        static Stdin empty() {
            return new Empty();
        }

        static Stdin bytes(byte[] b) {
            return new Bytes(b);
        }

        static Stdin text(String s) {
            return new Bytes(s.getBytes(StandardCharsets.UTF_8));
        }

        static Stdin file(Path p) {
            return new File(p);
        }
    }

    /** What fd 1 is: a pipe this JVM reads, or a regular file (Linux writes differ between them). */
    enum Stdout { PIPE, FILE }

    /**
     * One program run: the command (argv), its input and output, where it runs, exec's options,
     * and how long each run (native, guest) may take before the test fails.
     */
    record Invocation(List<String> command, Stdin stdin, Stdout stdout, Path dir, List<String> execOptions, long timeoutSeconds) {
        Invocation(List<String> command, Stdin stdin, Stdout stdout, Path dir, List<String> execOptions) {
            this(command, stdin, stdout, dir, execOptions, TIMEOUT_SECONDS);
        }

        static Invocation of(String... command) {
            return new Invocation(List.of(command), Stdin.empty(), Stdout.PIPE, WORK, List.of());
        }

        Invocation stdin(Stdin in) {
            return new Invocation(command, in, stdout, dir, execOptions, timeoutSeconds);
        }

        Invocation stdout(Stdout out) {
            return new Invocation(command, stdin, out, dir, execOptions, timeoutSeconds);
        }

        Invocation in(Path directory) {
            return new Invocation(command, stdin, stdout, directory, execOptions, timeoutSeconds);
        }

        Invocation exec(String... options) {
            return new Invocation(command, stdin, stdout, dir, List.of(options), timeoutSeconds);
        }

        @Override
        public String toString() {
            return String.join(" ", command);
        }
    }

    record Result(int exit, byte[] out, byte[] err) {
        String outText() {
            return new String(out, StandardCharsets.UTF_8);
        }

        String errText() {
            return new String(err, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout (" + out.length + " bytes)\n" + show(out) + "\n--- stderr (" + err.length + " bytes)\n" + show(err);
        }
    }

    /** Whether `usercopy exec` exists in this build (it lands on main beside these tests). */
    static boolean execLanded() {
        try {
            Class.forName("dev.usercopy.cli.ExecCommand", false, Oracle.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /**
     * Runs {@code inv} natively, checks that Linux says what the test expects (exit status and
     * whole lines of stdout), then runs it as a guest and asserts the two agree. Returns Linux's
     * result.
     */
    static Result assertSameAsLinux(Invocation inv, int exit, String... lines) {
        return assertSameAsLinux(inv, null, exit, lines);
    }

    /** The same, with a difference the runtime is known to have (null: none). */
    static Result assertSameAsLinux(Invocation inv, Known known, int exit, String... lines) {
        Result linux = runNative(inv);
        assertLinuxSays(linux, exit, lines);
        Result guest = runGuest(inv);
        assertAgree(inv.toString(), linux, guest, known);
        return linux;
    }

    /**
     * A difference from Linux that the runtime has now and guest-findings.md names: the guest's
     * first line that differs (stdout, else stderr; as the failure message escapes it) contains
     * {@code guestLine}. The output before it must still agree, and once the runtime answers as
     * Linux does the test fails, so that the entry goes.
     */
    record Known(String finding, String guestLine) {
    }

    static void assertAgree(String what, Result linux, Result guest) {
        assertAgree(what, linux, guest, null);
    }

    static void assertAgree(String what, Result linux, Result guest, Known known) {
        boolean same = linux.exit() == guest.exit() && Arrays.equals(linux.out(), guest.out()) && Arrays.equals(linux.err(), guest.err());
        if (known != null) {
            if (same) {
                fail(what + ": known difference \"" + known.finding() + "\" is gone (the guest now agrees with Linux): remove it");
            }
            String first = firstDifferingGuestLine(linux, guest);
            if (first.contains(known.guestLine())) {
                return;
            }
        }
        if (same) {
            return;
        }
        StringBuilder why = new StringBuilder(what).append(": the guest does not behave as on Linux\n");
        if (known != null) {
            why.append("(known difference \"").append(known.finding()).append("\" expected a first differing guest line with \"")
                    .append(known.guestLine()).append("\")\n");
        }
        if (linux.exit() != guest.exit()) {
            why.append("exit status: Linux ").append(linux.exit()).append(", guest ").append(guest.exit()).append('\n');
        }
        firstDifference(why, "stdout", linux.out(), guest.out());
        firstDifference(why, "stderr", linux.err(), guest.err());
        why.append("\n=== Linux\n").append(linux).append("\n=== guest\n").append(guest);
        fail(why.toString());
    }

    /** The guest's first line that differs from Linux's, escaped: stdout's, else stderr's, else "". */
    static String firstDifferingGuestLine(Result linux, Result guest) {
        for (byte[][] pair : List.of(new byte[][] {linux.out(), guest.out()}, new byte[][] {linux.err(), guest.err()})) {
            List<String> a = new String(pair[0], StandardCharsets.ISO_8859_1).lines().toList();
            List<String> b = new String(pair[1], StandardCharsets.ISO_8859_1).lines().toList();
            for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
                String x = i < a.size() ? a.get(i) : null;
                String y = i < b.size() ? b.get(i) : null;
                if (x == null || !x.equals(y)) {
                    return y == null ? "<end>" : escape(y, 300);
                }
            }
        }
        return "";
    }

    private static void firstDifference(StringBuilder why, String stream, byte[] linux, byte[] guest) {
        if (Arrays.equals(linux, guest)) {
            return;
        }
        List<String> a = new String(linux, StandardCharsets.ISO_8859_1).lines().toList();
        List<String> b = new String(guest, StandardCharsets.ISO_8859_1).lines().toList();
        int i = 0;
        while (i < a.size() && i < b.size() && a.get(i).equals(b.get(i))) {
            i++;
        }
        why.append(stream).append(" differs first at line ").append(i + 1).append(":\n  Linux: ")
                .append(i < a.size() ? escape(a.get(i), 300) : "<end>").append("\n  guest: ")
                .append(i < b.size() ? escape(b.get(i), 300) : "<end>").append('\n');
    }

    static Result runNative(Invocation inv) {
        return run(inv.command(), inv);
    }

    /** The command line that runs {@code command} under `usercopy exec` in a JVM of its own. */
    static List<String> guestCommand(List<String> execOptions, List<String> command) {
        List<String> c = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx256m",
                "-XX:ErrorFile=" + WORK.resolve("hs_err_pid%p.log"),
                // As ./usercopy says it: the soft limit the user's programs get, before java raises its own.
                "-Dusercopy.rlimit.nofile=" + softNofile(),
                "-cp", System.getProperty("java.class.path"),
                "dev.usercopy.cli.Main", "exec"));
        c.addAll(execOptions);
        c.add("--");
        c.addAll(command);
        return c;
    }

    /** The soft RLIMIT_NOFILE a native child of this JVM starts with: this JVM's own. */
    static String softNofile() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    return line.substring("Max open files".length()).trim().split("\\s+")[0];
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no open files line in /proc/self/limits");
    }

    static Result runGuest(Invocation inv) {
        Assumptions.assumeTrue(execLanded(), "usercopy exec has not landed in this build");
        return run(guestCommand(inv.execOptions(), inv.command()), inv);
    }

    private static Result run(List<String> command, Invocation inv) {
        try {
            Files.createDirectories(WORK);
            ProcessBuilder pb = new ProcessBuilder(command).directory(inv.dir().toFile());
            pb.environment().clear();
            pb.environment().putAll(ENV);
            Path outFile = null;
            if (inv.stdout() == Stdout.FILE) {
                outFile = Files.createTempFile(WORK, "stdout", ".txt");
                pb.redirectOutput(outFile.toFile());
            }
            if (inv.stdin() instanceof Stdin.File(Path path)) {
                pb.redirectInput(path.toFile());
            }
            Process p = start(pb);
            CompletableFuture<byte[]> out = outFile == null ? drain(p.getInputStream()) : CompletableFuture.completedFuture(new byte[0]);
            CompletableFuture<byte[]> err = drain(p.getErrorStream());
            feed(p, inv.stdin());
            if (!p.waitFor(inv.timeoutSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                fail(inv + ": still running after " + inv.timeoutSeconds() + " s (" + String.join(" ", command) + ")");
            }
            byte[] outBytes = outFile == null ? out.join() : Files.readAllBytes(outFile);
            if (outFile != null) {
                Files.delete(outFile);
            }
            return new Result(p.exitValue(), outBytes, err.join());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Writes the input in one write(2) (a pipe holds 64 KiB), then closes: the reader sees EOF. */
    private static void feed(Process p, Stdin in) throws IOException {
        OutputStream stdin = p.getOutputStream();
        try (stdin) {
            if (in instanceof Stdin.Bytes(byte[] bytes)) {
                stdin.write(bytes);
            }
        } catch (IOException e) {
            // The program exited without reading it all: what it did is in its output.
        }
    }

    static CompletableFuture<byte[]> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, Thread::startVirtualThread);
    }

    static String show(byte[] bytes) {
        return escape(new String(bytes, StandardCharsets.ISO_8859_1), 6000);
    }

    /** Printable as it is; other bytes as \xNN; newlines kept; cut after {@code limit} characters. */
    static String escape(String s, int limit) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < limit; i++) {
            char c = s.charAt(i);
            if (c == '\n' || (c >= 0x20 && c < 0x7f)) {
                b.append(c);
            } else {
                b.append(String.format("\\x%02x", (int) c));
            }
        }
        if (b.length() >= limit) {
            b.append("... (cut)");
        }
        return b.toString();
    }

    /** A pipeline of programs, each stdout into the next one's stdin; the last one's output is read. */
    static List<Result> pipeline(List<List<String>> commands) {
        try {
            Files.createDirectories(WORK);
            List<ProcessBuilder> builders = new ArrayList<>();
            for (List<String> c : commands) {
                ProcessBuilder pb = new ProcessBuilder(c).directory(WORK.toFile());
                pb.environment().clear();
                pb.environment().putAll(ENV);
                builders.add(pb);
            }
            List<Process> ps;
            SPAWN.readLock().lock();
            try {
                ps = ProcessBuilder.startPipeline(builders);
            } finally {
                SPAWN.readLock().unlock();
            }
            ps.getFirst().getOutputStream().close();
            List<CompletableFuture<byte[]>> errs = ps.stream().map(p -> drain(p.getErrorStream())).toList();
            CompletableFuture<byte[]> out = drain(ps.getLast().getInputStream());
            List<Result> results = new ArrayList<>();
            for (int i = 0; i < ps.size(); i++) {
                Process p = ps.get(i);
                if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    ps.forEach(Process::destroyForcibly);
                    fail(commands + ": still running after " + TIMEOUT_SECONDS + " s");
                }
                results.add(new Result(p.exitValue(), i == ps.size() - 1 ? out.join() : new byte[0], errs.get(i).join()));
            }
            return results;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** What the native run must show, so that a guest program that stopped testing anything fails. */
    static void assertLinuxSays(Result linux, int exit, String... lines) {
        assertEquals(exit, linux.exit(), () -> "Linux's exit status\n" + linux);
        List<String> out = linux.outText().lines().toList();
        for (String line : lines) {
            if (!out.contains(line)) {
                fail("Linux's output has no line \"" + line + "\"\n" + linux);
            }
        }
    }
}
