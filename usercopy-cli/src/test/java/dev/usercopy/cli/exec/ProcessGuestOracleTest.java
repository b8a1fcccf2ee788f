package dev.usercopy.cli.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import dev.usercopy.cli.exec.Oracle.Invocation;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static dev.usercopy.cli.exec.Oracle.assertSameAsLinux;

/**
 * Guest processes (issue 15) with our NASM guests fork.asm, signals.asm, pipes.asm, exec.asm
 * and args.asm: each case runs natively and under {@code usercopy exec}, and stdout, stderr and
 * the exit status must be byte-identical. The guests print comparisons, never pids. Each case
 * also pins lines of what Linux answers, so that a guest that stopped exercising its case fails.
 */
@Execution(ExecutionMode.CONCURRENT)
class ProcessGuestOracleTest {
    /** The files exec.asm runs: see its header. */
    static final Path EXEC_DIR = Oracle.WORK.resolve("exec-files");
    /** Each case takes at most a few seconds natively; a guest that hangs fails after this. */
    static final long TIMEOUT_SECONDS = 60;

    @BeforeAll
    static void execFiles() throws IOException {
        String args = GuestPrograms.get("args").toString();
        RootTrees.delete(EXEC_DIR);
        Files.createDirectories(EXEC_DIR);
        file("noelf", "echo this is no ELF\n", true);
        file("noperm", "#!" + args + "\n", false);
        file("script1", "#!" + args + " one  two  \n", true);
        file("script2", "#!  " + args + "\n", true);
        file("nested", "#!" + EXEC_DIR.resolve("script1") + " x\n", true);
        file("badinterp", "#!/no/such/interpreter\n", true);
    }

    private static void file(String name, String text, boolean executable) throws IOException {
        Path p = EXEC_DIR.resolve(name);
        Oracle.writingExecutables(() -> {
            Files.writeString(p, text);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
        });
    }

    static Invocation guest(String name, String mode, String... more) {
        List<String> command = new ArrayList<>(List.of(GuestPrograms.get(name).toString(), mode));
        command.addAll(List.of(more));
        return new Invocation(command, Oracle.Stdin.empty(), Oracle.Stdout.PIPE, Oracle.WORK, List.of(), TIMEOUT_SECONDS);
    }

    static Arguments of(Invocation inv, int status, String... lines) {
        return Arguments.of(inv, status, lines);
    }

    static Stream<Arguments> forks() {
        String args = GuestPrograms.get("args").toString();
        return Stream.of(
                of(guest("fork", "cow"), 0, "child: .data byte = 73", "child: .bss byte = 73", "child: page untouched before the fork = 0",
                        "child: 64 anonymous pages sum = 4160", "child: .data byte after its write = 67", "  status as a shell shows it = 3",
                        "parent: .data byte = 80", "parent: .bss byte = 80", "parent: page untouched before the fork = 80",
                        "parent: 64 anonymous pages sum = 5120"),
                of(guest("fork", "vfork", args), 0, "parent after vfork: the child's write is seen = 86", "  the child's getppid was the parent = 1",
                        "  status as a shell shows it = 7", "argv[1] = from a vfork child", "  status as a shell shows it = 12"),
                of(guest("fork", "clone"), 0, "  the parent's token after the fork-like child's write = 1",
                        "  the parent's token after the vfork-like child's write = 3"),
                of(guest("fork", "many"), 0, "children reaped = 100", "sum of their exit codes = 5050", "wait4 after the last child = -10 ECHILD"),
                of(guest("fork", "wnohang"), 0, "wait4(child, WNOHANG) while it runs = 0", "  status token untouched = 0x5555", "  raw status = 0x300",
                        "  raw status = 0x9", "kill(reaped child, 0) = -3 ESRCH", "wait4(-1, WNOHANG) without children = -10 ECHILD",
                        "wait4(-1, WNOWAIT) [not a wait4 option] = -22 EINVAL"),
                of(guest("fork", "waitid"), 0, "waitid(P_ALL, WEXITED | WNOHANG) while the child runs = 0", "  si_pid = 0", "  si_signo = 17",
                        "  si_status = 5", "waitid(reaped child) = -10 ECHILD", "waitid(options 0) = -22 EINVAL", "  si_code = 2", "  si_status = 15"),
                of(guest("fork", "sigchld"), 0, "rt_sigsuspend(empty) = -4 EINTR", "  handler calls = 1", "  si_status = 6", "  mask after rt_sigsuspend = 0x10000"),
                of(guest("fork", "ids"), 0, "gettid == getpid = 1", "child: getppid == the parent's getpid = 1", "child: setpgid(0, 0) = 0",
                        "child: getpgrp == getpid = 1", "child: setsid() as a group leader = -1 EPERM", "child: getpgid(grandchild) == its pid = 1",
                        "grandchild: getpgid(0) == getpid = 1", "second grandchild: setsid() == getpid = 1",
                        "second grandchild: setpgid(0, its parent's group in another session) = -1 EPERM",
                        "child: setpgid(reaped grandchild, 0) = -3 ESRCH", "fork's result is the child's getpid = 1", "getpgid(reaped child) = -3 ESRCH"),
                of(guest("fork", "first"), 0, "setsid() == getpid = 1", "getpgid(0) == getpid = 1", "setpgid(0, 0) as a session leader = -1 EPERM"),
                of(guest("fork", "orphan"), 0, "wait4(-1) gave another process (the orphan) = 1", "  status as a shell shows it = 42",
                        "wait4(-1) then = -10 ECHILD"),
                of(guest("fork", "killpg"), 0, "setpgid(0, 0) = 0", "kill(0, SIGUSR1) = 0", "  handler calls before unblocking = 0",
                        "  handler calls after unblocking = 1", "  status as a shell shows it = 21", "  status as a shell shows it = 140"));
    }

    static Stream<Arguments> signals() {
        return Stream.of(
                of(guest("signals", "segv-maperr"), 0, "  si_signo = 11", "  si_code = 1", "  si_addr = 0x100123"),
                of(guest("signals", "segv-accerr"), 0, "  si_code = 2", "  si_addr is the .rodata byte written = 1"),
                of(guest("signals", "segv-resume"), 0, "  uc rip is the faulting instruction = 1", "  mask in the handler = 0x400", "  uc_sigmask = 0x0",
                        "  rax as the handler set it = 77", "  rbx, rbp, r12-r15 kept = 1", "  mask after rt_sigreturn = 0x0"),
                of(guest("signals", "segv-context"), 0, "  trapno = 14", "  err = 4", "  cr2 = 0x100008", "  err = 7", "both faults seen"),
                of(guest("signals", "segv-in-handler"), 139, "SIGSEGV handler, about to fault again"),
                of(guest("signals", "badstack-kill"), 139, "kill(self, SIGUSR1) with rsp unmapped"),
                of(guest("signals", "badstack-fault"), 139, "a fault with rsp unmapped"),
                of(guest("signals", "badstack-altstack"), 0, "SIGSEGV handler", "  si_addr = 0x0"),
                of(guest("signals", "no-restorer"), 139, "rt_sigaction(SIGUSR1, handler, no SA_RESTORER) = 0"),
                of(guest("signals", "mask"), 0, "rt_sigpending = 0x200", "  handler calls when it returned = 1", "  mask = 0xfffffffffffbfeff",
                        "rt_sigaction(SIGKILL, handler) = -22 EINVAL", "rt_sigsuspend(empty) with SIGUSR1 pending = -4 EINTR", "  handler calls = 2",
                        "  mask after it = 0x200"),
                of(guest("signals", "altstack"), 0, "  old ss_flags = 2", "sigaltstack(1024 bytes) = -12 ENOMEM", "  the handler ran on the alternate stack = 1",
                        "  ss_flags in it = 1", "  sigaltstack(change) in it = -1 EPERM", "  the handler ran on the alternate stack = 0",
                        "  (rsp + 8) % 16 at its entry = 0"),
                of(guest("signals", "resethand"), 138, "SIGUSR1 handler", "  handler now [0: SIG_DFL] = 0"),
                of(guest("signals", "ignore"), 143, "kill(self, SIGUSR1) = 0", "kill(self, 65) = -22 EINVAL"),
                of(guest("signals", "siginfo"), 0, "  si_code = 0", "  si_code = -6", "  si_pid is the sender = 1", "tgkill(0, self, SIGUSR1) = -22 EINVAL"));
    }

    static Stream<Arguments> pipes() {
        return Stream.of(
                of(guest("pipes", "epipe-ignored"), 0, "write(pipe, 1) while the reader lives = 1", "write(pipe, 1) after the reader exited = -32 EPIPE"),
                of(guest("pipes", "epipe-handled"), 0, "write(pipe, 1) after the reader exited = -32 EPIPE", "  handler calls = 1", "  si_signo = 13",
                        "  si_code = 0", "  si_pid is the writer = 1"),
                of(guest("pipes", "epipe-default"), 141, "write(pipe, 1) after the reader exited, SIGPIPE's default action"),
                of(guest("pipes", "eintr"), 0, "SIGUSR1 handler", "read(empty pipe) = -4 EINTR", "read(empty pipe) again = 4", "read(pipe without writers) = 0"),
                of(guest("pipes", "restart"), 0, "SIGUSR1 handler", "read(empty pipe) = 4", "  handler calls = 1"),
                of(guest("pipes", "alarm"), 0, "alarm(1) again [the seconds left of the first] = 1", "SIGALRM handler", "read(empty pipe) = -4 EINTR"),
                of(guest("pipes", "nanosleep"), 0, "nanosleep(2 s) [a signal after 300 ms] = -4 EINTR", "  seconds left = 1"),
                of(guest("pipes", "nonblock"), 0, "  F_GETFL(write end) = 0x801", "  F_GETPIPE_SZ = 65536", "read(empty) = -11 EAGAIN", "  bytes it took = 65536",
                        "write(256) with 100 bytes free = -11 EAGAIN", "write(256) then = 256", "  bytes read = 61596", "pipe(NULL) = -14 EFAULT"),
                of(guest("pipes", "poll"), 0, "poll(empty read end, 50 ms) = 0", "  read end revents = 0x1", "  revents = 0x11", "  revents = 0x10",
                        "  revents = 0xc"),
                of(guest("pipes", "dup2"), 0, "read(pipe) = 26", "this went through the pipe", "dup2(99, 1) = -9 EBADF"));
    }

    static Stream<Arguments> execs() {
        String args = GuestPrograms.get("args").toString();
        String dir = EXEC_DIR.toString();
        return Stream.of(
                of(guest("exec", "errors", args, dir), 0, "execve(/no/such/program) = -2 ENOENT", "execve(a folder) = -13 EACCES",
                        "execve(NULL) = -14 EFAULT", "execve(args, argv[1] = 0x1) = -14 EFAULT", "execve(executable text without #!) = -8 ENOEXEC",
                        "execve(a script without the execute bit) = -13 EACCES", "execve(a script whose interpreter is missing) = -2 ENOENT"),
                of(guest("exec", "e2big", args, dir), 0, "execve(a string of 131072 bytes) = -7 E2BIG", "execve(60 strings of 131071 bytes) = -7 E2BIG",
                        "execve(1048000 empty strings) = -7 E2BIG", "argv[1] strlen = 131071", "  status as a shell shows it = 12"),
                of(guest("exec", "e2big-edge", args, dir, Long.toString(edge(args))), 0, "argv of " + edge(args) + " bytes in 16 strings",
                        "argc = 16", "  status as a shell shows it = 26", "argv of " + (edge(args) + 1) + " bytes in 16 strings", "execve = -7 E2BIG",
                        "  status as a shell shows it = 127"),
                of(guest("exec", "script", args, dir), 0, "argv[1] = one  two", "argv[2] = " + dir + "/script1", "argv[3] = x y", "argv[4] = last",
                        "argv[1] = " + dir + "/script2", "argv[4] = " + dir + "/nested", "readlink(/proc/self/exe) = " + args.length(), args),
                of(guest("exec", "run", args, dir), 0, "F_GETFD(fd 3) = -9 EBADF", "F_GETFD(fd 4) = 0", "F_GETFD(fd 5) = -9 EBADF",
                        "SIGUSR1's action [0 default, 1 ignored, 2 a handler] = 0", "SIGUSR2's action = 1", "blocked = 0x4000", "env: B=2", args),
                of(guest("exec", "replace", args, dir), 12, "argv[1] = x y", "env: LC_ALL=C", args));
    }

    /**
     * The most argv bytes (strings with their NULs, no environment) execve takes for {@code file}
     * with 16 strings: Linux's limit, a quarter of the soft stack limit (at most 6 MiB, at least
     * 128 KiB), less a pointer a string, less the file name and its NUL.
     */
    static long edge(String file) {
        long stack = Long.MAX_VALUE;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max stack size")) {
                    String soft = line.substring("Max stack size".length()).trim().split("\\s+")[0];
                    stack = soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        long limit = Math.max(Math.min(stack / 4, 6L << 20), 128L << 10);
        return limit - 8 * 16 - (file.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forks")
    void forkWaitAndIds(Invocation inv, int status, String[] lines) {
        assertSameAsLinux(inv, status, lines);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("signals")
    void signalDelivery(Invocation inv, int status, String[] lines) {
        assertSameAsLinux(inv, status, lines);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pipes")
    void pipesAndInterruptedCalls(Invocation inv, int status, String[] lines) {
        assertSameAsLinux(inv, status, lines);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("execs")
    void execve(Invocation inv, int status, String[] lines) {
        assertSameAsLinux(inv, status, lines);
    }
}
