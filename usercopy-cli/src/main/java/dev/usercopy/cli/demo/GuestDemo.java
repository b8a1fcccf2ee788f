package dev.usercopy.cli.demo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import dev.usercopy.mm.MemoryManager;
import dev.usercopy.proc.Guest;

/**
 * The demo's guest-process sections: an unmodified static busybox run as a
 * guest (natively, in a traced child process whose memory is this machine's
 * frames, its syscalls served here), alone and as a shell's tree of
 * processes. Each is run natively first; the guest's output, captured in a
 * file, must be the same bytes, and every frame must come back after.
 */
final class GuestDemo {
    /** Where the demo finds a static busybox (Debian's busybox-static). */
    static final Path BUSYBOX = Path.of("/bin/busybox");

    private final Report r;

    GuestDemo(Report report) {
        this.r = report;
    }

    /** What one command printed natively and as a guest, and what the guest run cost. */
    private record Run(String expected, String got, Guest.Result result, List<Guest.ProcessEnd> ends, boolean framesBack) {}

    /** Something to do in the run's scratch folder before the command runs. */
    private interface Prepare {
        void in(Path dir) throws IOException;
    }

    /** One program, {@code busybox sort -u}, with its syscall and fault counts. */
    void realProgram() {
        r.section("real-program", "A real program as a guest: busybox, its syscalls served by this kernel");
        run(dir -> Files.writeString(dir.resolve("words"), "pear\napple\nfig\napple\n"), List.of("sort", "-u", "words"), "sort -u words", run -> {
            Guest.Result res = run.result();
            r.say("%d syscalls served in Java (%d answered ENOSYS); %d page faults of the program resolved by the fault path,",
                    res.syscalls(), res.unknownSyscalls(), res.guestFaults());
            r.say("  %d more taken by the kernel's own copies; %d host calls injected to keep its mappings in step, %d mappings at exit",
                    res.kernelFaults(), res.injected(), res.childVmas());
            r.value("syscalls", res.syscalls());
            r.value("guestFaults", res.guestFaults());
            r.check("exit status", 0, res.status());
            r.check("output, byte for byte what busybox prints natively (" + run.got().length() + " bytes)", true,
                    run.expected().equals(run.got()));
            r.check("frames back with the machine after it exits", true, run.framesBack());
        });
    }

    /**
     * A shell script as a tree of guest processes: busybox sh forks, execs,
     * waits and pipes, every process with its own copy-on-write fork of the
     * address space and its own tracer thread.
     */
    void processes() {
        r.section("processes", "Guest processes: a shell pipeline of forks, execs, pipes and waits");
        String script = "seq 1 1000 | sort -rn | head -3; echo $(echo nested) $((6 * 7)); (exit 3) || echo subshell said $?";
        run(dir -> { }, List.of("sh", "-c", script), "sh -c '" + script + "'", run -> {
            long cow = run.ends().stream().mapToLong(Guest.ProcessEnd::cowBreaks).sum();
            r.say("%d guest processes, each a copy-on-write fork with its own host process and tracer thread;", run.ends().size());
            r.say("  %d copy-on-write breaks in all, %d syscalls served", cow, run.result().syscalls());
            r.value("processes", run.ends().size());
            r.value("cowBreaks", cow);
            r.check("exit status", 0, run.result().status());
            r.check("output, byte for byte what the script prints natively (" + run.got().length() + " bytes)", true,
                    run.expected().equals(run.got()));
            r.check("more than one process ran", true, run.ends().size() > 1);
            r.check("frames back with the machine after the whole tree exits", true, run.framesBack());
        });
    }

    /**
     * Runs {@code busybox ARGS} natively and then as a guest, in a scratch
     * folder that {@code prepare} fills and that is deleted after; prints the
     * guest's command and output, then hands the run to {@code report}.
     */
    private void run(Prepare prepare, List<String> args, String shown, Consumer<Run> report) {
        if (!Files.isExecutable(BUSYBOX)) {
            r.say("%s is missing (apt-get install -y busybox-static): skipped", BUSYBOX);
            return;
        }
        Path dir = null;
        try {
            dir = Files.createTempDirectory("usercopy-demo");
            prepare.in(dir);
            List<String> command = new ArrayList<>(List.of(BUSYBOX.toString()));
            command.addAll(args);
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            String expected = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor();
            Path out = dir.resolve("out");
            List<String> argv = new ArrayList<>(List.of("busybox"));
            argv.addAll(args);
            List<Guest.ProcessEnd> ends = Collections.synchronizedList(new ArrayList<>());
            try (MemoryManager mm = new MemoryManager(MemoryManager.Config.defaults().withFaultAround(16))) {
                long used = mm.stats().usedFrames();
                Guest.Result res = Guest.run(mm, BUSYBOX.toString(), argv, List.of(),
                        Guest.Options.defaults().withOutput(out, out).withProcessEnds(ends::add).withCwd(dir));
                String got = Files.readString(out);
                r.say("$ usercopy exec -- busybox %s", shown);
                for (String line : got.split("\n")) {
                    r.say("  %s", line);
                }
                report.accept(new Run(expected, got, res, List.copyOf(ends), used == mm.stats().usedFrames()));
                mm.checkInvariants();
            }
        } catch (IOException e) {
            r.check("busybox " + shown + " ran: " + e.getMessage(), true, false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (dir != null) {
                deleteTree(dir);
            }
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temporary folder left behind: nothing the demo's claims depend on
        }
    }
}
