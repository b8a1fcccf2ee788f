package dev.usercopy.cli.exec;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import dev.usercopy.cli.exec.Oracle.Invocation;
import dev.usercopy.cli.exec.Oracle.Result;
import dev.usercopy.cli.exec.Oracle.Stdin;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static dev.usercopy.cli.exec.Oracle.assertSameAsLinux;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Unmodified busybox (Debian's busybox-static: ./usercopy test and .ci/run install it) applets
 * run natively and under {@code usercopy exec} in the same folder with the same files:
 * stdout, stderr and exit status byte-identical. The files are made here, deterministically.
 */
@Execution(ExecutionMode.CONCURRENT)
class BusyboxOracleTest {
    static final String BUSYBOX = "/bin/busybox";
    static final Path DIR = Oracle.WORK.resolve("busybox");
    /** 50 MiB: what sha256sum and md5sum read, once each. */
    static final int BIG = 50 << 20;

    @BeforeAll
    static void files() throws IOException {
        assertTrue(Files.isExecutable(Path.of(BUSYBOX)), BUSYBOX + " is missing: apt-get install busybox-static");
        Files.createDirectories(DIR);
        Path big = DIR.resolve("big.bin");
        if (!Files.exists(big) || Files.size(big) != BIG) {
            SplittableRandom random = new SplittableRandom(14);
            byte[] chunk = new byte[1 << 20];
            try (OutputStream out = Files.newOutputStream(big)) {
                for (int i = 0; i < BIG / chunk.length; i++) {
                    random.nextBytes(chunk);
                    out.write(chunk);
                }
            }
        }
        Files.write(DIR.resolve("small.bin"), head(big, 300));
        Files.writeString(DIR.resolve("text.txt"), text());
        List<String> sorted = new ArrayList<>(text().lines().map(l -> l.split(" ")[0]).toList());
        sorted.sort(null);
        Files.writeString(DIR.resolve("sorted.txt"), String.join("\n", sorted) + "\n");
        tree(DIR.resolve("tree"));
    }

    private static byte[] head(Path p, int n) throws IOException {
        try (var in = Files.newInputStream(p)) {
            return in.readNBytes(n);
        }
    }

    /** 2000 lines of words and numbers, the same every run. */
    static String text() {
        String[] words = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda"};
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            b.append(words[(i * 7) % words.length]).append(' ').append((i * 7919) % 1009).append(' ')
                    .append(words[(i / 3) % words.length]).append(i % 13 == 0 ? " alpha" : "").append('\n');
        }
        return b.toString();
    }

    /** A small tree with files, empty and nested folders and symlinks (one pointing nowhere). */
    static void tree(Path root) throws IOException {
        if (Files.exists(root)) {
            return;
        }
        Files.createDirectories(root.resolve("a/b/c"));
        Files.createDirectories(root.resolve("empty"));
        Files.writeString(root.resolve("one.txt"), "one\n");
        Files.writeString(root.resolve("a/two.txt"), "two\ntwo\n");
        Files.writeString(root.resolve("a/b/three.dat"), "3".repeat(3000));
        Files.writeString(root.resolve("a/b/c/four.txt"), "");
        Files.createSymbolicLink(root.resolve("link-to-a"), Path.of("a"));
        Files.createSymbolicLink(root.resolve("dangling"), Path.of("nowhere"));
        for (Path p : List.of(root, root.resolve("a"), root.resolve("a/b"), root.resolve("a/b/c"), root.resolve("empty"),
                root.resolve("one.txt"), root.resolve("a/two.txt"), root.resolve("a/b/three.dat"), root.resolve("a/b/c/four.txt"))) {
            Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.fromMillis(1_700_000_000_000L));
        }
    }

    static Invocation busybox(String... args) {
        List<String> command = new ArrayList<>();
        command.add(BUSYBOX);
        command.addAll(List.of(args));
        return new Invocation(command, Stdin.empty(), Oracle.Stdout.PIPE, DIR, List.of());
    }

    static Stream<Arguments> applets() {
        return Stream.of(
                Arguments.of(busybox("echo", "hello", "  world", "-"), 0),
                Arguments.of(busybox("cat", "text.txt", "one-more-time-from-stdin", "-").stdin(Stdin.text("stdin\n")), 1),
                Arguments.of(busybox("cat", "text.txt"), 0),
                Arguments.of(busybox("wc", "text.txt", "big.bin"), 0),
                Arguments.of(busybox("wc", "-l").stdin(Stdin.text(text())), 0),
                Arguments.of(busybox("ls", "-l", "tree"), 0),
                Arguments.of(busybox("ls", "-lR", "tree"), 0),
                Arguments.of(busybox("ls", "-la", "tree/a"), 0),
                Arguments.of(busybox("find", "tree"), 0),
                Arguments.of(busybox("find", "tree", "-name", "*.txt", "-type", "f"), 0),
                Arguments.of(busybox("sort", "text.txt"), 0),
                Arguments.of(busybox("sort", "-n", "-r", "-k", "2", "text.txt"), 0),
                Arguments.of(busybox("uniq", "-c", "sorted.txt"), 0),
                Arguments.of(busybox("grep", "-n", "alpha", "text.txt"), 0),
                Arguments.of(busybox("grep", "-c", "^beta", "text.txt"), 0),
                Arguments.of(busybox("grep", "nothing-matches-this", "text.txt"), 1),
                Arguments.of(busybox("sed", "-e", "s/alpha/ALPHA/g", "-e", "s/[0-9][0-9]*/<&>/", "text.txt"), 0),
                Arguments.of(busybox("awk", "{ s += $2; n[$1]++ } END { print s, NR; for (w in n) c++; print c }", "text.txt"), 0),
                Arguments.of(busybox("od", "-A", "x", "-t", "x1", "small.bin"), 0),
                Arguments.of(busybox("od", "-c", "small.bin"), 0),
                Arguments.of(busybox("tr", "a-z", "A-Z").stdin(Stdin.text(text())), 0),
                Arguments.of(busybox("hexdump", "-C", "small.bin"), 0),
                Arguments.of(busybox("head", "-n", "7", "text.txt"), 0),
                Arguments.of(busybox("tail", "-n", "7", "text.txt"), 0),
                Arguments.of(busybox("tail", "-c", "64", "big.bin"), 0),
                Arguments.of(busybox("cut", "-d", " ", "-f", "2,3", "text.txt"), 0),
                Arguments.of(busybox("cut", "-c", "1-5", "text.txt"), 0),
                Arguments.of(busybox("date", "+%Y"), 0),
                Arguments.of(busybox("id"), 0),
                Arguments.of(busybox("uname", "-a"), 0),
                Arguments.of(busybox("true"), 0),
                Arguments.of(busybox("false"), 1),
                Arguments.of(busybox("pwd"), 0),
                Arguments.of(busybox("env"), 0),
                Arguments.of(busybox("cat", "no-such-file"), 1),
                Arguments.of(busybox("ls", "no-such-file", "tree/one.txt"), 1),
                Arguments.of(busybox("sh", "-c", "x=6; y=7; echo $((x * y)); for w in a b c; do printf '%s-' \"$w\"; done; echo;"
                        + " test -d tree && echo tree is a folder; cd tree/a; pwd; set -- p q r; echo $# \"$2\"; echo to stderr >&2;"
                        + " read line < two.txt; echo \"read: $line\"; exit 7"), 7));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("applets")
    void appletsPrintWhatTheyPrintNatively(Invocation inv, int status) {
        assertSameAsLinux(inv, status);
    }

    @Test
    void sha256sumOf50MiB() {
        Result linux = assertSameAsLinux(busybox("sha256sum", "big.bin"), 0);
        assertTrue(linux.outText().endsWith("  big.bin\n"), linux::toString);
    }

    @Test
    void md5sumOf50MiB() {
        assertSameAsLinux(busybox("md5sum", "big.bin"), 0);
    }

    /**
     * `seq 100000 | head -n 3`: head exits after three lines, and seq's next write to the pipe
     * kills it with SIGPIPE (141), natively and as a guest (whose host write gets EPIPE: the
     * guest must see the signal, not the JVM's ignored one).
     */
    @Test
    void seqIntoHeadDiesOfSigpipe() {
        List<String> seq = List.of(BUSYBOX, "seq", "100000");
        List<String> head = List.of(BUSYBOX, "head", "-n", "3");
        List<Result> linux = Oracle.pipeline(List.of(seq, head));
        assertEquals(141, linux.get(0).exit(), linux::toString);
        assertEquals("1\n2\n3\n", linux.get(1).outText());
        org.junit.jupiter.api.Assumptions.assumeTrue(Oracle.execLanded(), "usercopy exec has not landed in this build");
        List<Result> guests = Oracle.pipeline(List.of(Oracle.guestCommand(List.of(), seq), Oracle.guestCommand(List.of(), head)));
        Oracle.assertAgree("seq 100000 (guest)", linux.get(0), guests.get(0));
        Oracle.assertAgree("head -n 3 (guest)", linux.get(1), guests.get(1));
    }

    /** A bigger stdin than a pipe holds, through a guest that reads it all. */
    @Test
    void sha256sumOfStdin() {
        byte[] data = new byte[300_000];
        new SplittableRandom(7).nextBytes(data);
        assertSameAsLinux(busybox("sha256sum").stdin(Stdin.bytes(data)), 0);
    }
}
