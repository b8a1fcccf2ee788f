package dev.usercopy.proc;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.uapi.Errno;

/**
 * An unmodified static Linux program run as a guest: natively, in a child
 * process whose memory is the machine's frames, with every syscall it makes
 * served by this kernel in Java (gVisor's ptrace platform, on the JVM). Each
 * guest has its own address space and its own tracer thread; {@link #start}
 * returns at once, {@link #waitFor} gives the exit status.
 *
 * <pre>{@code
 * try (MemoryManager mm = new MemoryManager()) {
 *     Guest g = Guest.start(mm, "/bin/busybox", List.of("busybox", "echo", "hi"), List.of(), Guest.Options.defaults());
 *     int status = g.waitFor().status();
 * }
 * }</pre>
 */
public final class Guest {
    /**
     * How a guest runs: the host directory that is its {@code /}, the one
     * beneath which it may write (or null), its working directory (a host
     * path, beneath root), where {@code --trace} lines go (or null), what
     * to look at in its address space before it is closed (or null), and
     * whether its standard output and error go to /dev/null rather than to
     * this process's own (a file of the host: {@code stdout}, {@code stderr},
     * or null for this process's).
     *
     * @param root the host directory the guest sees as {@code /}; nothing outside it is reachable
     * @param rw the host directory beneath which the guest may create and write files, or null for none
     * @param cwd the guest's first working directory, a host path beneath {@code root} (else {@code /})
     * @param trace where strace-like lines of each syscall go, or null for none
     * @param atExit called with the first process's address space as it ends, before the space is
     *        closed, on that process's tracer thread; or null
     * @param stdout the host file the guest's standard output goes to, or null for this process's
     * @param stderr the host file the guest's standard error goes to, or null for this process's
     * @param processEnds told of each process of the tree as it ends, on that process's tracer
     *        thread (so from several threads at once in a tree); or null
     */
    public record Options(Path root, Path rw, Path cwd, PrintStream trace, Consumer<AddressSpace> atExit, Path stdout, Path stderr,
            Consumer<ProcessEnd> processEnds) {
        /**
         * Checks the options.
         *
         * @throws NullPointerException if {@code root} or {@code cwd} is null
         */
        public Options {
            Objects.requireNonNull(root, "root");
            Objects.requireNonNull(cwd, "cwd");
        }

        /** {@return root {@code /}, nothing writable but the standard streams, the JVM's working directory, no trace} */
        public static Options defaults() {
            return new Options(Path.of("/"), null, Path.of("").toAbsolutePath(), null, null, null, null, null);
        }

        /**
         * In a copy: changes the host directory the guest sees as {@code /}.
         *
         * @param p the host directory the guest sees as {@code /}
         * @return a copy of these options with that root; {@code cwd} is not changed
         */
        public Options withRoot(Path p) {
            return new Options(p, rw, cwd, trace, atExit, stdout, stderr, processEnds);
        }

        /**
         * In a copy: changes the host directory beneath which the guest may write.
         *
         * @param p the host directory beneath which the guest may write, or null for none
         * @return a copy of these options with that directory
         */
        public Options withRw(Path p) {
            return new Options(root, p, cwd, trace, atExit, stdout, stderr, processEnds);
        }

        /**
         * In a copy: changes the guest's first working directory.
         *
         * @param p the guest's first working directory, a host path beneath the root (else the guest starts at {@code /})
         * @return a copy of these options with that directory
         */
        public Options withCwd(Path p) {
            return new Options(root, rw, p, trace, atExit, stdout, stderr, processEnds);
        }

        /**
         * In a copy: traces each syscall, signal and process end, as strace would.
         *
         * @param out where a line per syscall, signal and process end goes, or null for none
         * @return a copy of these options with that trace
         */
        public Options withTrace(PrintStream out) {
            return new Options(root, rw, cwd, out, atExit, stdout, stderr, processEnds);
        }

        /**
         * In a copy: looks at the first process's memory as it ends.
         *
         * @param c called with the first process's address space as it ends, before the space is closed,
         *        on its tracer thread; or null
         * @return a copy of these options with that callback
         */
        public Options withAtExit(Consumer<AddressSpace> c) {
            return new Options(root, rw, cwd, trace, c, stdout, stderr, processEnds);
        }

        /**
         * Tells {@code c} of each process of the tree as it ends (for {@code exec --tree}).
         *
         * @param c called on the ending process's tracer thread, so from several threads in a tree; or null
         * @return a copy of these options with that callback
         */
        public Options withProcessEnds(Consumer<ProcessEnd> c) {
            return new Options(root, rw, cwd, trace, atExit, stdout, stderr, c);
        }

        /** {@return a copy of these options with standard output and error to /dev/null} */
        public Options withDiscardedOutput() {
            return withOutput(Path.of("/dev/null"), Path.of("/dev/null"));
        }

        /**
         * Standard output and error to host files.
         *
         * @param out the host file for standard output, or null for this process's
         * @param err the host file for standard error, or null for this process's
         * @return a copy of these options with those files
         */
        public Options withOutput(Path out, Path err) {
            return new Options(root, rw, cwd, trace, atExit, out, err, processEnds);
        }
    }

    /**
     * How a guest ended: its status as a shell shows it (the exit code, or
     * 128 + the signal that killed it), and what it cost: syscalls served,
     * the ones answered ENOSYS, faults of the guest process resolved by the
     * fault path, faults the kernel's own copies took, host calls injected
     * into the child to keep its mappings in step, and the host mappings its
     * memory used at the end. {@code error} says why a guest that could not
     * run did not (null otherwise).
     *
     * @param status the exit code 0 to 255, or 128 + the signal number that killed the first process
     * @param syscalls syscalls served, over the whole tree
     * @param unknownSyscalls of those, the ones answered ENOSYS
     * @param guestFaults page faults of the guest processes the fault path resolved
     * @param kernelFaults faults the kernel's own copies to and from guest memory took
     * @param injected host calls injected into the child processes to keep their mappings in step
     * @param childVmas host mappings the first process's memory used at its end
     * @param error why the guest could not run, or null
     */
    public record Result(int status, long syscalls, long unknownSyscalls, long guestFaults, long kernelFaults, long injected,
            long childVmas, String error) {}

    /**
     * One process of a guest's tree at its end: its guest pid and parent's,
     * its program's guest path, how it ended (as {@link Result#status}), the
     * syscalls it made, and its memory then: present pages, the ones it still
     * shared copy-on-write (or through a shared mapping), and its
     * copy-on-write breaks.
     *
     * @param pid the process's guest pid (the first process is 1)
     * @param ppid its parent's guest pid, 0 for the first process
     * @param exe its program's guest path
     * @param status the exit code 0 to 255, or 128 + the signal number that killed it
     * @param syscalls syscalls it made
     * @param frames its present pages at the end
     * @param sharedFrames of those, pages shared copy-on-write or through a shared mapping
     * @param cowBreaks write faults that gave one of its pages a frame of its own
     */
    public record ProcessEnd(int pid, int ppid, String exe, int status, long syscalls, long frames, long sharedFrames, long cowBreaks) {}

    private final GuestTree tree;
    private final Tracer tracer;

    private Guest(GuestTree tree, Tracer tracer) {
        this.tree = tree;
        this.tracer = tracer;
    }

    /**
     * Starts {@code program} (a guest path: with a slash, from the guest's
     * working directory; without, searched in the guest's {@code PATH}) with
     * {@code argv} and {@code envp}. ENOENT, EACCES or ENOEXEC as execve
     * would answer, before any process exists.
     *
     * @param mm the machine whose frames the guest's memory is
     * @param program the program, as execvp takes it
     * @param argv the arguments, {@code argv[0]} included, encoded as UTF-8
     * @param envp the environment, {@code NAME=value} strings, encoded as UTF-8
     * @param options how it runs
     * @return the running guest
     */
    public static Guest start(MemoryManager mm, String program, List<String> argv, List<String> envp, Options options) {
        return startRaw(mm, program, utf8(argv), utf8(envp), options);
    }

    private static List<byte[]> utf8(List<String> strings) {
        return strings.stream().map(x -> x.getBytes(java.nio.charset.StandardCharsets.UTF_8)).toList();
    }

    /**
     * {@link #start} with the arguments and environment as the bytes Linux
     * passes (any bytes but NUL, in no particular encoding), as a command
     * line reads them from {@code /proc/self/cmdline}. EINVAL when one holds a NUL.
     *
     * @param mm the machine whose frames the guest's memory is
     * @param program the program, as execvp takes it
     * @param argv the arguments, {@code argv[0]} included
     * @param envp the environment, {@code NAME=value} strings
     * @param options how it runs
     * @return the running guest
     */
    public static Guest startRaw(MemoryManager mm, String program, List<byte[]> argv, List<byte[]> envp, Options options) {
        Path root;
        try {
            root = options.root().toRealPath();
        } catch (IOException e) {
            throw new ErrnoException(Errno.ENOENT, 0, 0, "root " + options.root() + ": " + e.getMessage());
        }
        String guestCwd = guestPath(root, options.cwd());
        String guestProgram = findProgram(root, guestCwd, program, envp);
        Path host = hostPath(root, guestProgram);
        ElfImage elf;
        try {
            elf = ElfImage.read(host);
        } catch (IOException e) {
            throw new ErrnoException(Errno.EACCES, 0, 0, program + ": " + e.getMessage());
        }
        for (List<byte[]> strings : List.of(argv, envp)) {
            for (byte[] b : strings) {
                for (byte x : b) {
                    if (x == 0) {
                        throw new ErrnoException(Errno.EINVAL, 0, b.length, "an argument or environment string holds a NUL byte");
                    }
                }
            }
        }
        GuestTree tree = new GuestTree(mm, options, root);
        Tracer first = new Tracer(tree, new Tracer.Program(elf, guestProgram, program, List.copyOf(argv), List.copyOf(envp), guestCwd));
        tree.start(first);
        return new Guest(tree, first);
    }

    /**
     * {@link #start}, then {@link #waitFor}.
     *
     * @param mm the machine whose frames the guest's memory is
     * @param program the program, as execvp takes it
     * @param argv the arguments, {@code argv[0]} included
     * @param envp the environment, {@code NAME=value} strings
     * @param options how it runs
     * @return how it ended
     * @throws InterruptedException if this thread is interrupted while waiting; the guest runs on
     */
    public static Result run(MemoryManager mm, String program, List<String> argv, List<String> envp, Options options)
            throws InterruptedException {
        return start(mm, program, argv, envp, options).waitFor();
    }

    /**
     * Waits for the guest to end: its first process, and with it every
     * process of its tree (as the processes of a PID namespace die with its
     * init); their frames are back with the machine when this returns.
     *
     * @return how it ended
     * @throws InterruptedException if this thread is interrupted while waiting; the guest runs on
     */
    public Result waitFor() throws InterruptedException {
        tree.awaitAll();
        return tracer.result();
    }

    /** Kills the guest and every process it started (SIGKILL), from any thread; {@link #waitFor} then reports 137. */
    public void kill() {
        tree.kill();
    }

    /** {@return the host pid of the guest's first process, once it has one (else 0): for tests that kill it from outside} */
    public int hostPid() {
        return tracer.pid();
    }

    /** The guest path of the host directory {@code dir}: "/" and below when beneath root, else "/". */
    static String guestPath(Path root, Path dir) {
        try {
            Path real = dir.toRealPath();
            if (real.startsWith(root)) {
                String rel = root.relativize(real).toString();
                return rel.isEmpty() ? "/" : "/" + rel;
            }
        } catch (IOException e) {
            // a working directory that is gone: start at the root
        }
        return "/";
    }

    /** The host file of guest path {@code guest}, which must resolve beneath root (symlinks included). */
    static Path hostPath(Path root, String guest) {
        Path candidate = root.resolve(guest.substring(1)).normalize();
        try {
            Path real = candidate.toRealPath();
            if (!real.startsWith(root)) {
                throw new ErrnoException(Errno.ENOENT, 0, 0, guest + " resolves outside the guest's root");
            }
            if (!Files.isRegularFile(real)) {
                throw new ErrnoException(Errno.EACCES, 0, 0, guest + " is not a regular file");
            }
            if (!Files.isExecutable(real)) {
                throw new ErrnoException(Errno.EACCES, 0, 0, guest + " is not executable");
            }
            return real;
        } catch (IOException e) {
            throw new ErrnoException(Errno.ENOENT, 0, 0, guest + ": no such file");
        }
    }

    /** The absolute guest path execvp would run for {@code program}. */
    private static String findProgram(Path root, String cwd, String program, List<byte[]> envp) {
        if (program.isEmpty()) {
            throw new ErrnoException(Errno.ENOENT, 0, 0, "empty program name");
        }
        if (program.contains("/")) {
            return program.startsWith("/") ? program : (cwd.equals("/") ? "/" : cwd + "/") + program;
        }
        String path = envp.stream().map(e -> new String(e, java.nio.charset.StandardCharsets.ISO_8859_1))
                .filter(e -> e.startsWith("PATH=")).map(e -> e.substring(5)).findFirst()
                .orElse("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : path.split(":", -1)) {
            String d = dir.isEmpty() ? cwd : dir.startsWith("/") ? dir : (cwd.equals("/") ? "/" : cwd + "/") + dir;
            String candidate = (d.endsWith("/") ? d : d + "/") + program;
            try {
                hostPath(root, candidate);
                return candidate;
            } catch (ErrnoException e) {
                // try the next
            }
        }
        throw new ErrnoException(Errno.ENOENT, 0, 0, program + ": not found in PATH " + path);
    }
}
