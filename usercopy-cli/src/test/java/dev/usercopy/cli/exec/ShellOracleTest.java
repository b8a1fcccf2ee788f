package dev.usercopy.cli.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import dev.usercopy.cli.exec.Oracle.Invocation;
import dev.usercopy.cli.exec.Oracle.Stdin;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static dev.usercopy.cli.exec.Oracle.assertSameAsLinux;

/**
 * Issue 15's shell cases: {@code busybox sh} with pipelines, subshells, command substitution,
 * traps, here-documents, background jobs, scripts with functions, loops and redirections into
 * the {@code --rw} folder, run natively and under {@code usercopy exec} in the same folder:
 * stdout, stderr and exit status byte-identical, and each pins lines Linux prints.
 */
@Execution(ExecutionMode.CONCURRENT)
class ShellOracleTest {
    static final Path DIR = Oracle.WORK.resolve("shell");
    /** Where scripts may write (exec's --rw). */
    static final Path OUT = DIR.resolve("out");
    /** 1 MiB of seeded random bytes. */
    static final int DATA = 1 << 20;
    /** Each case takes at most a few seconds natively; a guest that hangs fails after this. */
    static final long TIMEOUT_SECONDS = 60;

    @BeforeAll
    static void files() throws IOException {
        Files.createDirectories(OUT);
        byte[] data = new byte[DATA];
        new SplittableRandom(15).nextBytes(data);
        Files.write(DIR.resolve("data.bin"), data);
        Files.writeString(DIR.resolve("words.txt"), "alpha 1 x\nbeta 2 y y\ngamma 3\n");
        BusyboxOracleTest.tree(DIR.resolve("tree"));
        Files.writeString(DIR.resolve("functions.sh"), """
                fib() {
                    if [ "$1" -lt 2 ]; then echo "$1"; return; fi
                    echo $(( $(fib $(($1 - 1))) + $(fib $(($1 - 2))) ))
                }
                echo "fib 8 = $(fib 8)"
                greet() { local who="$1"; echo "hello, $who"; return 3; }
                greet world
                echo "greet returned $?"
                count() { echo $#; }
                count a "b c" d
                """);
        Files.writeString(DIR.resolve("loops.sh"), """
                i=0
                while [ $i -lt 5 ]; do i=$((i + 1)); printf '%s ' $i; done; echo
                until [ $i -eq 0 ]; do i=$((i - 1)); done; echo "down to $i"
                for f in tree/*; do echo "entry $f"; done
                for w in one two three; do case $w in t*) echo "$w starts with t";; *) echo "$w does not";; esac; done
                while read -r word num rest; do echo "$num:$word:$rest"; done < words.txt
                seq 1 5 | while read n; do echo "piped $n"; done
                """);
        Files.writeString(DIR.resolve("redirect.sh"), """
                echo first > out/r.txt
                echo second >> out/r.txt
                ls no-such-file 2> out/r.err
                echo "ls said $?"
                wc -l < out/r.txt
                cat out/r.txt out/r.err
                { echo a; echo b >&2; } > out/r.grp 2>&1; cat out/r.grp
                exec 3> out/r.fd3; echo via fd 3 >&3; exec 3>&-; cat out/r.fd3
                sort -r out/r.txt > out/r.sorted; cat out/r.sorted
                tr a-z A-Z < out/r.txt | cat
                echo "to stderr" 1>&2
                echo nothing > /dev/null; echo "/dev/null took it: $?"
                exit 5
                """);
        Files.writeString(DIR.resolve("exit.sh"), "echo in script: $0 $1 $2\nshift\necho after shift: $1\nexit 9\n");
    }

    static Invocation sh(String script) {
        return new Invocation(List.of(BusyboxOracleTest.BUSYBOX, "sh", "-c", script), Stdin.empty(), Oracle.Stdout.PIPE, DIR,
                List.of("--rw", OUT.toString()), TIMEOUT_SECONDS);
    }

    static Invocation shArgs(String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(BusyboxOracleTest.BUSYBOX, "sh"));
        command.addAll(List.of(args));
        return new Invocation(command, Stdin.empty(), Oracle.Stdout.PIPE, DIR, List.of("--rw", OUT.toString()), TIMEOUT_SECONDS);
    }

    static Arguments of(Invocation inv, int status, String... lines) {
        return Arguments.of(inv, status, lines);
    }

    static Stream<Arguments> scripts() {
        return Stream.of(
                of(sh("seq 1 1000 | sort -rn | head -3"), 0, "1000", "999", "998"),
                of(sh("seq 1 1000 | sort -rn | wc -l"), 0, "1000"),
                of(sh("seq 1 100000 | sort -rn | head -1"), 0, "100000"),
                of(sh("echo $(echo nested)"), 0, "nested"),
                of(sh("echo \"$(echo $(echo two deep) levels)\""), 0, "two deep levels"),
                of(sh("( cd /; pwd ); pwd"), 0, "/", DIR.toString()),
                of(sh("for i in 1 2 3; do echo $i; done | tac"), 0, "3", "2", "1"),
                of(sh("trap 'echo caught' USR1; kill -USR1 $$; echo after"), 0, "caught", "after"),
                of(sh("trap 'echo bye' EXIT; echo working; exit 4"), 4, "working", "bye"),
                of(sh("trap 'echo term' TERM; kill $$; echo still here; trap - TERM; kill $$; echo not here"), 143, "term", "still here"),
                of(sh("x=$(cat data.bin | sha256sum); echo \"$x\"; y=$(sha256sum < data.bin); [ \"$x\" = \"$y\" ] && echo same"), 0, "same"),
                of(sh("cat <<EOF\nline one\nsum $((6 * 7))\n$(echo substituted)\nEOF\ncat <<'EOF'\nkept $((1 + 1))\nEOF"), 0,
                        "line one", "sum 42", "substituted", "kept $((1 + 1))"),
                of(sh("false || echo fallback; true && echo and; false && echo never; echo last $?"), 0, "fallback", "and", "last 1"),
                of(sh("false | true; echo $?; true | false; echo $?; set -o pipefail; false | true; echo $?; (exit 3) | (exit 0) | true; echo $?"), 0,
                        "0", "1", "3"),
                of(sh("! false; echo $?; ! true; echo $?"), 0, "0", "1"),
                of(sh("(exit 7); echo $?; (false); echo $?; sh -c 'exit 9'; echo $?; sh -c 'kill -9 $$'; echo $?"), 0,
                        "7", "1", "9", "137"),
                of(sh("sh -c 'sh -c \"echo deep; exit 3\"; echo inner $?'; echo outer $?"), 0, "deep", "inner 3", "outer 0"),
                of(shArgs("functions.sh"), 0, "fib 8 = 21", "hello, world", "greet returned 3", "3"),
                of(shArgs("loops.sh"), 0, "1 2 3 4 5 ", "down to 0", "entry tree/a", "two starts with t", "three starts with t", "2:beta:y y", "piped 5"),
                of(shArgs("redirect.sh"), 5, "ls said 1", "2", "first", "ls: no-such-file: No such file or directory", "a", "b", "via fd 3", "second",
                        "FIRST", "/dev/null took it: 0"),
                of(shArgs("exit.sh", "one", "two"), 9, "in script: exit.sh one two", "after shift: two"),
                of(sh("seq 1 20 | xargs echo; seq 1 7 | xargs -n 3 echo n3:"), 0, "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20", "n3: 7"),
                of(sh("find tree -type f | sort | xargs wc -l"), 0, "        3 total", "        2 tree/a/two.txt"),
                of(sh("find tree -name '*.txt' | sort | xargs -n 1 basename"), 0, "four.txt", "one.txt", "two.txt"),
                of(sh("(exit 3) & wait $!; echo \"job: $?\"; sleep 0.2 & sleep 0.1 & wait; echo \"all: $?\""), 0, "job: 3", "all: 0"),
                // whether wait prints "Terminated" depends on whether the shell reaped the job before wait ran, a matter of timing: not compared
                of(sh("sleep 5 & kill $!; wait $! 2>/dev/null; echo $?"), 0, "143"),
                of(sh("sleep 5 & pid=$!; kill -0 $pid && echo alive; kill -KILL $pid; wait $pid; echo $?; kill -0 $pid 2>/dev/null || echo gone"), 0,
                        "alive", "137", "gone"),
                of(sh("exec echo replaced; echo never"), 0, "replaced"),
                of(sh("exec 4< words.txt; read -r first <&4; read -r second <&4; echo \"$second / $first\"; exec 4<&-; read x <&4; echo $?"), 0,
                        "beta 2 y y / alpha 1 x"),
                of(sh("ulimit -n"), 0, Oracle.softNofile()),
                of(sh("x=$(seq 1 160000); echo ${#x}; echo \"$x\" | tail -1; y=$(cat data.bin | od -An -tx1 | head -c 1100000); echo ${#y}"), 0,
                        "160000", "1100000"),
                of(sh("yes | head -3; yes abc | head -c 100000 | wc -c"), 0, "y", "100000"),
                of(sh("echo \"a b\" | { read x y; echo \"$y $x\"; }; echo 'x y z' | (read a b; echo \"[$b]\")"), 0, "b a", "[y z]"),
                of(sh("ls no-such-file 2>&1 >/dev/null | sed 's/^/err: /'; cat no-such-file 2>&1 | wc -l"), 0,
                        "err: ls: no-such-file: No such file or directory", "1"),
                of(sh("echo $(( $(seq 1 100 | tr '\\n' '+') 0 ))"), 0, "5050"),
                of(sh("i=0; while [ $i -lt 30 ]; do i=$(( $(echo $i) + 1 )); done; echo $i"), 0, "30"),
                of(sh("kill -TERM $$; echo not here"), 143),
                of(sh("cat data.bin | cat | cat | sha256sum | cut -c1-16; head -c 300000 data.bin | wc -c"), 0, "300000"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scripts")
    void theShellDoesWhatItDoesOnLinux(Invocation inv, int status, String[] lines) {
        assertSameAsLinux(inv, status, lines);
    }
}
