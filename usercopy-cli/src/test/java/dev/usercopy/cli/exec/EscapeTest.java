package dev.usercopy.cli.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import dev.usercopy.cli.exec.Oracle.Invocation;
import dev.usercopy.cli.exec.Oracle.Known;
import dev.usercopy.cli.exec.Oracle.Result;
import dev.usercopy.cli.exec.Oracle.Stdin;
import dev.usercopy.cli.exec.Oracle.Stdout;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The security boundary of {@code usercopy exec}: a guest sees the files beneath --root as a
 * chrooted process would (no {@code ..}, symlink or absolute path leads out) and writes only
 * beneath --rw (elsewhere EROFS, as on a read-only mount). Linux is the oracle here too: the same
 * program, chrooted into a read-only bind mount of the same tree. Whatever the guest does, the
 * host outside --rw does not change.
 */
@Execution(ExecutionMode.CONCURRENT)
class EscapeTest {
    static final Path DIR = Oracle.WORK.resolve("escape");
    static Path shared;

    @BeforeAll
    static void tree() {
        shared = RootTrees.make(DIR.resolve("shared"));
    }

    static Stream<Arguments> readOnly() {
        return Stream.of(
                args("/data", "cat", "../../etc/shadow"),
                args("/data", "cat", "../../../secret.txt"),
                args("/data", "cat", "/etc/passwd"),
                args("/data", "cat", "out-abs"),
                args("/data", "cat", "out-rel"),
                args("/data", "cat", "up/secret.txt"),
                args("/data", "cat", "/../../secret.txt"),
                args("/data", "ls", "-l", "/"),
                args("/data", "ls", "-lR", "/data", "/rw"),
                args("/data", "ls", "up", "up/.."),
                args("/data", "ls", "/proc"),
                args("/data", "readlink", "out-rel", "up"),
                args("/data", "pwd"),
                args("/", "id"),
                args("/", "find", "/", "-name", "*.txt"),
                args("/rw", "cat", "evil-rel", "evil-abs"),
                args("/rw", "ls", "evil-dir/"),
                args("/data", "sh", "-c", "cd up; pwd; cd ..; pwd; cd /..; pwd; cd /data/up/data; pwd; echo $PWD"));
    }

    static Arguments args(String dir, String... busybox) {
        return Arguments.of(dir, List.of(busybox));
    }

    /** Reading: what a chroot shows. */
    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("readOnly")
    void aGuestSeesTheRootAsAChrootedProcessDoes(String dir, List<String> busybox) {
        Map<String, String> before = RootTrees.snapshot(shared.getParent());
        List<String> command = new ArrayList<>(List.of("/bin/busybox"));
        command.addAll(busybox);
        assertSameAsChroot(shared, false, dir, command);
        assertEquals(before, RootTrees.snapshot(shared.getParent()), "the host changed");
    }

    /** The read-only file syscalls in a root: guest paths for getcwd, the root's entries for getdents64. */
    @Test
    void fileSyscallsInARootAnswerAsInAChroot() {
        Map<String, String> before = RootTrees.snapshot(shared.getParent());
        assertSameAsChroot(shared, false, "/data", List.of("/bin/files", "files", "no /proc"));
        assertEquals(before, RootTrees.snapshot(shared.getParent()), "the host changed");
    }

    /** Each way of changing a file, outside --rw: EROFS as on a read-only mount, and nothing changes. */
    @Test
    void everyChangeOutsideRwIsRefused() {
        Path root = RootTrees.make(DIR.resolve("fsops-ro"));
        TreeMap<String, String> before = RootTrees.snapshot(root.getParent());
        Result guest = guest(root, false, "/data", List.of("/bin/fsops", "."));
        assertEquals(0, guest.exit(), guest::toString);
        for (String line : guest.outText().lines().toList()) {
            if (line.contains("O_TRUNC") || line.contains("O_WRONLY") || line.contains("O_RDWR") || line.contains("O_CREAT")
                    || line.matches("(truncate|mkdir|symlink|chmod|rename|rmdir|unlink).*")) {
                assertTrue(line.endsWith("EROFS") || line.endsWith("EACCES"), "refused: " + line + "\n" + guest);
            }
        }
        assertEquals(before, RootTrees.snapshot(root.getParent()), "the host changed");
        Path oracle = RootTrees.make(DIR.resolve("fsops-ro-linux"));
        Assumptions.assumeTrue(RootTrees.chrootOracleWorks(), "no mount namespace here: Linux's answer cannot be had");
        Result linux = Oracle.runNative(chrootInvocation(oracle, false, "/data", List.of("/bin/fsops", ".")));
        Oracle.assertAgree("fsops in /data", linux, guest);
    }

    /** Beneath --rw, the same calls do what they do on Linux, to the same files. */
    @Test
    void changesBeneathRwAreLinuxs() {
        Path root = RootTrees.make(DIR.resolve("fsops-rw"));
        Map<String, String> outside = outsideRw(root);
        Result guest = guest(root, true, "/rw", List.of("/bin/fsops", "."));
        assertEquals(outside, outsideRw(root), "the host changed outside --rw");
        Assumptions.assumeTrue(RootTrees.chrootOracleWorks(), "no mount namespace here: Linux's answer cannot be had");
        Path oracle = RootTrees.make(DIR.resolve("fsops-rw-linux"));
        Result linux = Oracle.runNative(chrootInvocation(oracle, true, "/rw", List.of("/bin/fsops", ".")));
        Oracle.assertAgree("fsops in /rw", linux, guest);
        assertEquals(RootTrees.snapshot(oracle.resolve("rw")), RootTrees.snapshot(root.resolve("rw")), "/rw afterwards");
    }

    static Stream<Arguments> writes() {
        return Stream.of(
                args("/data", "touch", "new"),
                args("/data", "rm", "file.txt"),
                args("/data", "mkdir", "d"),
                args("/data", "ln", "-s", "x", "l"),
                args("/data", "chmod", "777", "file.txt"),
                args("/data", "mv", "file.txt", "moved"),
                args("/data", "sh", "-c", "echo x > file.txt"),
                args("/data", "sh", "-c", "echo x >> out-rel"),
                args("/data", "sh", "-c", "echo x > /rw/../data/file.txt"),
                args("/rw", "sh", "-c", "echo x >> evil-abs"),
                args("/rw", "sh", "-c", "echo x > evil-rel"),
                args("/rw", "sh", "-c", "echo x > evil-dir/new"),
                args("/rw", "touch", "evil-dir/new"),
                args("/rw", "cp", "/data/file.txt", "copy"),
                args("/rw", "sh", "-c", "echo x >> file.txt; echo y > new"),
                args("/rw", "mv", "file.txt", "/data/"),
                args("/rw", "ln", "file.txt", "/data/hard"),
                args("/rw", "rm", "-r", "sub"));
    }

    /** busybox changing files: refused outside --rw, done beneath it, as Linux does it; the rest of the host unchanged. */
    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("writes")
    void busyboxWritesOnlyBeneathRw(String dir, List<String> busybox) {
        String name = String.join("_", busybox).replaceAll("[^A-Za-z0-9_.-]", "");
        Path root = RootTrees.make(DIR.resolve("w-" + name));
        Map<String, String> outside = outsideRw(root);
        List<String> command = new ArrayList<>(List.of("/bin/busybox"));
        command.addAll(busybox);
        Result guest = guest(root, true, dir, command);
        assertEquals(outside, outsideRw(root), "the host changed outside --rw\n" + guest);
        assertEquals(RootTrees.SECRET, read(root.getParent().resolve("secret.txt")));
        Assumptions.assumeTrue(RootTrees.chrootOracleWorks(), "no mount namespace here: Linux's answer cannot be had");
        Path oracle = RootTrees.make(DIR.resolve("w-" + name + "-linux"));
        Result linux = Oracle.runNative(chrootInvocation(oracle, true, dir, command));
        boolean linkat = busybox.getFirst().equals("ln") && !busybox.contains("-s");
        Known known = linkat ? new Known("7: linkat is ENOSYS", "Function not implemented") : null;
        Oracle.assertAgree(dir + ": " + String.join(" ", busybox), linux, guest, known);
        assertEquals(RootTrees.snapshot(oracle.resolve("rw")), RootTrees.snapshot(root.resolve("rw")), "/rw afterwards");
    }

    /** The hostile guest inside a root, then at the stub's page: errnos, a live process, no JVM trouble. */
    @Test
    void aHostileGuestGetsErrnosAndTheJvmStaysUp() throws IOException {
        Path root = RootTrees.make(DIR.resolve("hostile"));
        Files.write(root.resolve("data/input.bin"), new byte[4096]);
        TreeMap<String, String> before = RootTrees.snapshot(root.getParent());
        Invocation inv = new Invocation(List.of("/bin/hostile", "stub"), Stdin.file(root.resolve("data/input.bin")), Stdout.PIPE,
                root.resolve("data"), List.of("--root", root.toString()));
        Result guest = Oracle.runGuest(inv);
        assertEquals(0, guest.exit(), guest::toString);
        assertEquals("", guest.errText(), "nothing on stderr (no Java exception, no JVM error)");
        List<String> lines = guest.outText().lines().toList();
        assertTrue(lines.contains("getppid works after = 1"), guest::toString);
        assertEquals("alive", lines.getLast(), guest::toString);
        for (String line : lines) {
            if (line.startsWith("read(0, P, 16)") || line.startsWith("write(1, P, 16)") || line.startsWith("stat(., P)")) {
                assertTrue(line.endsWith("EFAULT"), line);
            }
        }
        assertEquals(before, RootTrees.snapshot(root.getParent()), "the host changed");
    }

    static Result guest(Path root, boolean rw, String dir, List<String> command) {
        return Oracle.runGuest(guestInvocation(root, rw, dir, command));
    }

    static Invocation guestInvocation(Path root, boolean rw, String dir, List<String> command) {
        List<String> options = new ArrayList<>(List.of("--root", root.toString()));
        if (rw) {
            options.addAll(List.of("--rw", root.resolve("rw").toString()));
        }
        return new Invocation(command, Stdin.empty(), Stdout.PIPE, root.resolve(dir.substring(1)), options);
    }

    static Invocation chrootInvocation(Path root, boolean rw, String dir, List<String> command) {
        return new Invocation(RootTrees.chrooted(root, rw, dir, command), Stdin.empty(), Stdout.PIPE, root.getParent(), List.of());
    }

    static void assertSameAsChroot(Path root, boolean rw, String dir, List<String> command) {
        Assumptions.assumeTrue(RootTrees.chrootOracleWorks(), "no mount namespace here: Linux's answer cannot be had");
        Result linux = Oracle.runNative(chrootInvocation(root, rw, dir, command));
        Result guest = guest(root, rw, dir, command);
        Oracle.assertAgree(dir + ": " + String.join(" ", command), linux, guest);
    }

    /** The host around the tree and the tree itself, except what is beneath rw. */
    static Map<String, String> outsideRw(Path root) {
        TreeMap<String, String> all = RootTrees.snapshot(root.getParent());
        all.keySet().removeIf(k -> k.startsWith("root/rw/"));
        return all;
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void theSecretIsReallyThereForAnEscapeToFind() {
        assertTrue(Files.isRegularFile(shared.getParent().resolve("secret.txt")));
        assertTrue(Files.isRegularFile(shared.resolve("data").resolve(Path.of("../../secret.txt")).normalize()), "out-rel resolves on the host");
        assertFalse(Files.exists(shared.resolve("secret.txt")));
    }
}
