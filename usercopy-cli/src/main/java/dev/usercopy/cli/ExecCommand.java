package dev.usercopy.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.usercopy.cli.guest.MapsView;
import dev.usercopy.cli.guest.PageMap;
import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.Grant;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.proc.Guest;
import dev.usercopy.uapi.Errno;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "exec", mixinStandardHelpOptions = true,
        header = "Run an unmodified static Linux program with its syscalls served by this kernel.",
        description = {"Runs PROGRAM natively in a traced child process whose memory is this kernel's frames; every syscall it",
                "makes is served in Java through the user-access API. PROGRAM is found as execvp finds it: with a slash from the",
                "working directory, else in PATH; both beneath --root. The guest inherits the environment, the working directory",
                "and standard input, output and error. It may read files beneath --root and write only its standard streams and",
                "files beneath --rw. Example: ./usercopy exec -- busybox sha256sum FILE"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"N:the guest's own exit status, or 128 + the signal that killed it",
                "126:PROGRAM is not a static x86-64 executable or may not be run", "127:PROGRAM was not found"})
final class ExecCommand implements Callable<Integer> {
    private final Io io;

    @Option(names = "--root", paramLabel = "DIR", defaultValue = "/", description = "The directory the guest sees as / (default: ${DEFAULT-VALUE}).")
    Path root;

    @Option(names = "--rw", paramLabel = "DIR", description = "A directory beneath --root whose files the guest may create and write.")
    Path rw;

    @Option(names = "--trace", description = "Print each syscall to stderr, strace-like, with the faults the kernel's copies took.")
    boolean trace;

    @Option(names = "--maps", description = "At exit, print the guest's grants and page map to stderr.")
    boolean maps;

    @Option(names = "--tree", description = "At exit, print the guest's process tree to stderr: each process's program, status, "
            + "syscalls, and its frames, shared frames and copy-on-write breaks when it ended.")
    boolean tree;

    @Mixin
    GuestOptions options;

    @Parameters(paramLabel = "PROGRAM", arity = "1..*", description = "The program and its arguments.")
    List<String> command;

    ExecCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() throws InterruptedException {
        MemoryManager.Config config = MemoryManager.Config.defaults().withFaultAround(options.faultAround());
        Guest.Options opts = Guest.Options.defaults().withRoot(root).withRw(rw).withTrace(trace ? io.err() : null);
        if (maps) {
            opts = opts.withAtExit(space -> {
                io.err().println("--- grants at exit");
                MapsView.lines(space, s -> "guest").forEach(io.err()::println);
                io.err().println("--- pages at exit");
                for (Grant g : space.grants()) {
                    PageMap.render(space, g.start() * AddressSpace.PAGE, g.end() - g.start()).forEach(io.err()::println);
                }
            });
        }
        List<Guest.ProcessEnd> ends = java.util.Collections.synchronizedList(new ArrayList<>());
        if (tree) {
            opts = opts.withProcessEnds(ends::add);
        }
        try (MemoryManager mm = new MemoryManager(config)) {
            Guest.Result r;
            try {
                r = Guest.startRaw(mm, command.get(0), rawCommand(command), environment(), opts).waitFor();
            } catch (ErrnoException e) {
                io.err().println("usercopy: exec " + command.get(0) + ": " + e.errno().description() + " (" + e.errno() + "): " + e.reason());
                return e.errno() == Errno.ENOENT ? 127 : 126;
            }
            if (r.error() != null) {
                io.err().println("usercopy: " + r.error());
            }
            if (tree) {
                io.err().println("--- process tree");
                treeLines(List.copyOf(ends)).forEach(io.err()::println);
            }
            if (trace) {
                io.err().printf("usercopy: exit status %d; %d syscalls (%d ENOSYS), %d guest faults, %d kernel-copy faults, "
                        + "%d host calls injected, %d host mappings at exit%n", r.status(), r.syscalls(), r.unknownSyscalls(),
                        r.guestFaults(), r.kernelFaults(), r.injected(), r.childVmas());
            }
            return r.status();
        }
    }

    /** The processes as a tree, children under their parent in pid order; an orphan under init, as it was reparented. */
    static List<String> treeLines(List<Guest.ProcessEnd> ends) {
        Map<Integer, List<Guest.ProcessEnd>> byParent = new java.util.TreeMap<>();
        java.util.Set<Integer> pids = new java.util.HashSet<>();
        for (Guest.ProcessEnd e : ends) {
            pids.add(e.pid());
        }
        for (Guest.ProcessEnd e : ends) {
            int parent = e.pid() == 1 ? 0 : pids.contains(e.ppid()) ? e.ppid() : 1;
            byParent.computeIfAbsent(parent, k -> new ArrayList<>()).add(e);
        }
        byParent.values().forEach(l -> l.sort(java.util.Comparator.comparingInt(Guest.ProcessEnd::pid)));
        List<String> out = new ArrayList<>();
        addTree(byParent, 0, "", out);
        return out;
    }

    private static void addTree(Map<Integer, List<Guest.ProcessEnd>> byParent, int parent, String indent, List<String> out) {
        for (Guest.ProcessEnd e : byParent.getOrDefault(parent, List.of())) {
            out.add(String.format("%spid %d  %s  status %d  %d syscalls  %d frames (%d shared)  %d CoW breaks", indent, e.pid(), e.exe(),
                    e.status(), e.syscalls(), e.frames(), e.sharedFrames(), e.cowBreaks()));
            addTree(byParent, e.pid(), indent + "  ", out);
        }
    }

    /** The environment as this process got it, bytes and order (what /proc/self/environ says). */
    static List<byte[]> environment() {
        try {
            return nulSeparated(Files.readAllBytes(Path.of("/proc/self/environ")));
        } catch (IOException e) {
            List<byte[]> env = new ArrayList<>();
            for (Map.Entry<String, String> e2 : System.getenv().entrySet()) {
                env.add((e2.getKey() + "=" + e2.getValue()).getBytes(StandardCharsets.UTF_8));
            }
            return env;
        }
    }

    /**
     * The program and its arguments as the bytes this process was given:
     * the java launcher decodes its arguments in the locale's charset (ASCII
     * in the C locale), which would turn a byte it cannot decode into U+FFFD.
     * They are read back from /proc/self/cmdline, after the {@code --} that
     * follows {@code exec}; without one, or when they do not match what was
     * parsed, the parsed strings, in UTF-8.
     */
    static List<byte[]> rawCommand(List<String> parsed) {
        try {
            List<byte[]> args = nulSeparatedKeepingEmpty(Files.readAllBytes(Path.of("/proc/self/cmdline")));
            int exec = -1;
            for (int i = 0; i < args.size(); i++) {
                if (exec < 0 && new String(args.get(i), StandardCharsets.ISO_8859_1).equals("exec")) {
                    exec = i;
                } else if (exec >= 0 && new String(args.get(i), StandardCharsets.ISO_8859_1).equals("--")) {
                    List<byte[]> raw = args.subList(i + 1, args.size());
                    if (raw.size() == parsed.size()) {
                        return List.copyOf(raw);
                    }
                    break;
                }
            }
        } catch (IOException e) {
            // no /proc: the parsed strings
        }
        return parsed.stream().map(a -> a.getBytes(StandardCharsets.UTF_8)).toList();
    }

    private static List<byte[]> nulSeparated(byte[] raw) {
        List<byte[]> out = new ArrayList<>();
        for (byte[] b : nulSeparatedKeepingEmpty(raw)) {
            if (b.length > 0) {
                out.add(b);
            }
        }
        return out;
    }

    private static List<byte[]> nulSeparatedKeepingEmpty(byte[] raw) {
        List<byte[]> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == 0) {
                out.add(java.util.Arrays.copyOfRange(raw, start, i));
                start = i + 1;
            }
        }
        return out;
    }
}
