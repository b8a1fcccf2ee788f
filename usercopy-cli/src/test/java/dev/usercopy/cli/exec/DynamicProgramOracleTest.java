package dev.usercopy.cli.exec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.usercopy.cli.exec.Oracle.Invocation;

/**
 * Dynamically linked programs (the host's own, and C guests built here): the program's
 * interpreter ({@code PT_INTERP}, ld.so) is loaded beside it as Linux's ELF loader does, and
 * the C library's start-up (the loader's mmaps of libc, its futex calls) is served. Each case
 * runs natively and under {@code usercopy exec}: stdout, stderr and status byte-identical, with
 * lines of Linux's answer pinned so that a case that stopped exercising its point fails.
 */
@Execution(ExecutionMode.CONCURRENT)
class DynamicProgramOracleTest {
    static Invocation run(String... command) {
        return new Invocation(List.of(command), Oracle.Stdin.empty(), Oracle.Stdout.PIPE, Oracle.WORK, List.of());
    }

    static Stream<Arguments> auxv() {
        return Stream.of(
                Arguments.of(GuestPrograms.c("auxv-dynamic", "auxv").toString(), new String[] {"AT_ENTRY is _start: 1",
                        "AT_PHDR is the program's headers: 1", "AT_BASE is 0: 0", "AT_BASE is where ld.so was loaded: 1",
                        "AT_BASE page-aligned: 1"}),
                Arguments.of(GuestPrograms.c("auxv-static", "auxv", "-static").toString(), new String[] {"AT_ENTRY is _start: 1",
                        "AT_PHDR is the program's headers: 1", "AT_BASE is 0: 1"}),
                Arguments.of(GuestPrograms.c("auxv-static-pie", "auxv", "-static-pie").toString(), new String[] {"AT_ENTRY is _start: 1",
                        "AT_PHDR is the program's headers: 1", "AT_BASE is 0: 1"}));
    }

    /** The auxiliary vector against what the loader reports, for a dynamic, a static and a static-pie build. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("auxv")
    void theAuxiliaryVectorDescribesTheLoadedProgram(String program, String[] lines) {
        Oracle.assertSameAsLinux(run(program), 0, lines);
    }

    static Stream<Arguments> futexes() {
        return Stream.of(Arguments.of("futex-dynamic", new String[0]), Arguments.of("futex-static", new String[] {"-static"}));
    }

    /** futex's errors in Linux's order, its timeouts, a signal ending a wait, and a wake across processes in shared memory. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("futexes")
    void futexWaitAndWake(String name, String[] flags) {
        Oracle.assertSameAsLinux(run(GuestPrograms.c(name, "futex", flags).toString()), 0, "wake, private, nobody waits = 0",
                "wait, value differs = -1 EAGAIN", "wait, misaligned = -1 EINVAL", "wait, NULL word = -1 EFAULT",
                "wait, bad timeout = -1 EINVAL", "wait, bad timeout and misaligned = -1 EINVAL", "wait, timeout unreadable = -1 EFAULT",
                "wait, times out = -1 ETIMEDOUT", "wait_bitset, bitset 0 = -1 EINVAL",
                "wait_bitset, absolute monotonic deadline passes = -1 ETIMEDOUT",
                "wake with FUTEX_CLOCK_REALTIME = -1 ENOSYS", "wait, a handled SIGALRM comes = -1 EINTR", "word after the wake = 1",
                "the waker saw one process woken or none waiting: 1");
    }

    /**
     * A program replaced under the same name runs as the new file: its page cache is the file's
     * by device and inode, not by a path the next file takes (cp, then rm and cp; then mv over).
     */
    @Test
    void aProgramReplacedUnderItsNameRunsAsTheNewFile() throws java.io.IOException {
        Path dir = Oracle.WORK.resolve("replaced");
        RootTrees.delete(dir);
        Files.createDirectories(dir);
        String script = "cp /usr/bin/true p; ./p; echo true: $?; rm p; cp /usr/bin/false p; ./p; echo false: $?;"
                + " cp /usr/bin/true q; mv q p; ./p; echo true again: $?";
        Oracle.assertSameAsLinux(new Invocation(List.of("/bin/busybox", "sh", "-c", script), Oracle.Stdin.empty(), Oracle.Stdout.PIPE, dir,
                List.of("--rw", dir.toString())), 0, "true: 0", "false: 1", "true again: 0");
    }

    /** The socket calls on descriptors that are no sockets, each errno in Linux's order of checks. */
    @Test
    void socketCallsOnDescriptorsThatAreNoSockets() {
        Oracle.assertSameAsLinux(run(GuestPrograms.c("sockets", "sockets").toString()), 0, "getpeername(pipe) = -1 ENOTSOCK",
                "connect(closed, NULL, 16) = -1 EBADF", "connect(pipe, NULL, 16) = -1 EFAULT", "connect(pipe, addr, 129) = -1 EINVAL",
                "sendto(closed, kernel address) = -1 EFAULT", "recvmmsg(closed, unreadable timeout) = -1 EFAULT");
    }

    static Stream<Arguments> hostPrograms() {
        return Stream.of(
                Arguments.of(List.of("/usr/bin/sort", "-r", "/etc/passwd"), ""),
                Arguments.of(List.of("/usr/bin/ls", "/usr/share"), ""),
                Arguments.of(List.of("/usr/bin/bash", "-c", "for i in 3 1 2; do echo $i; done | /usr/bin/sort | /usr/bin/tr 123 abc; echo ${BASH_VERSINFO[0]}"), ""),
                Arguments.of(List.of("/usr/bin/sha256sum", "/etc/passwd"), ""),
                Arguments.of(List.of("/usr/bin/python3", "-c", "import json, hashlib; print(json.dumps({'h': hashlib.sha256(b'x').hexdigest()[:8]}))"), "python3"),
                Arguments.of(List.of("/usr/bin/perl", "-e", "print join(',', map { $_ * 2 } 1..5), qq{\\n}"), "perl"));
    }

    /** The host's own dynamically linked programs, as a shell script finds them in PATH. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("hostPrograms")
    void theHostsDynamicallyLinkedPrograms(List<String> command, String optional) {
        Assumptions.assumeTrue(Files.isExecutable(Path.of(command.getFirst())), command.getFirst() + " is not installed here");
        Oracle.assertSameAsLinux(run(command.toArray(String[]::new)), 0);
    }
}
