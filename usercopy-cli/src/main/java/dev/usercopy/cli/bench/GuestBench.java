package dev.usercopy.cli.bench;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import dev.usercopy.mm.MemoryManager;
import dev.usercopy.proc.Guest;

/**
 * Real programs as guests against the same programs run natively, in one
 * JVM: each round runs every case both ways in a shuffled order, and a row
 * reports the medians (and minimums) over the rounds. Both sides are started
 * from this JVM, the native one with {@link ProcessBuilder}, the guest with
 * {@link Guest#run}, so both pay for a process start. Per-call rows subtract
 * the same program with an empty loop, run the same way, so what is left is
 * the cost of the calls or pages alone.
 *
 * <p>The test programs are NASM (no libc), assembled here with nasm and ld.
 */
public final class GuestBench {
    /** One row: what, the unit, the median and minimum of each side. */
    public record Row(String what, String unit, double nativeMedian, double nativeMin, double guestMedian, double guestMin) {
        public double ratio() {
            return guestMedian / nativeMedian;
        }
    }

    static final int CALLS = 100_000;
    static final int TOUCH_PAGES = 16_384;
    static final long SHA_BYTES = 50L << 20;

    private final Path dir;
    private final int rounds;
    private final int faultAround;
    private final Path busybox;
    private final PrintStream progress;

    public GuestBench(Path dir, int rounds, int faultAround, Path busybox, PrintStream progress) {
        this.dir = dir;
        this.rounds = rounds;
        this.faultAround = faultAround;
        this.busybox = busybox;
        this.progress = progress;
    }

    private static final String EXIT = "mov eax, 60\nxor edi, edi\nsyscall\n";

    /** The programs: an empty one, a getppid loop, a first touch of TOUCH_PAGES pages of bss. */
    private Path[] programs() throws IOException, InterruptedException {
        return new Path[] {
            assemble("empty", "_start:\n" + EXIT),
            assemble("getppid", "_start: mov ebx, " + CALLS + "\n.l: mov eax, 110\nsyscall\ndec ebx\njnz .l\n" + EXIT),
            assemble("touch", "_start: lea rdi, [rel area]\nmov ecx, " + TOUCH_PAGES + "\n.l: mov byte [rdi], 1\nadd rdi, 4096\n"
                    + "dec ecx\njnz .l\n" + EXIT + "section .bss\nalign 4096\narea: resb " + TOUCH_PAGES * 4096L + "\n"),
        };
    }

    /** Forks in the rows of processes, and the pages a child writes in the copy-on-write row. */
    static final int FORKS = 20;
    static final int COW_FORKS = 4;
    static final long COW_BYTES = 16L << 20;
    /** The memory written before the forks, in MiB: how fork scales with what a process has. */
    static final int[] FORK_MIB = {1, 64, 1024};

    /**
     * A program that writes every page of {@code bytes} of anonymous memory,
     * then {@code forks} times forks a child that (when {@code childWrites})
     * writes every page again, and exits; the parent waits for each.
     */
    private Path forker(String name, long bytes, int forks, boolean childWrites) throws IOException, InterruptedException {
        String src = "_start: mov eax, 9\nxor edi, edi\nmov rsi, " + bytes + "\nmov edx, 3\nmov r10d, 0x22\nmov r8, -1\nxor r9d, r9d\nsyscall\n"
                + "mov rbx, rax\nmov rdi, rbx\nmov rcx, " + bytes / 4096 + "\n.t: mov byte [rdi], 1\nadd rdi, 4096\ndec rcx\njnz .t\n"
                + "mov r12d, " + forks + "\n.f: test r12d, r12d\njz .done\nmov eax, 57\nsyscall\ntest eax, eax\njnz .parent\n"
                + (childWrites ? "mov rdi, rbx\nmov rcx, " + bytes / 4096 + "\n.w: mov byte [rdi], 2\nadd rdi, 4096\ndec rcx\njnz .w\n" : "")
                + "mov eax, 60\nxor edi, edi\nsyscall\n"
                + ".parent: mov edi, eax\nxor esi, esi\nxor edx, edx\nxor r10d, r10d\nmov eax, 61\nsyscall\ndec r12d\njmp .f\n"
                + ".done: " + EXIT;
        return assemble(name, src);
    }

    private Path assemble(String name, String source) throws IOException, InterruptedException {
        Path asm = dir.resolve(name + ".asm");
        Path obj = dir.resolve(name + ".o");
        Path exe = dir.resolve(name);
        Files.writeString(asm, "BITS 64\nglobal _start\n" + source);
        exec(List.of("nasm", "-f", "elf64", "-o", obj.toString(), asm.toString()));
        exec(List.of("ld", "-static", "-o", exe.toString(), obj.toString()));
        return exe.toAbsolutePath();
    }

    private static void exec(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed (is nasm installed?):\n" + out);
        }
    }

    /** The host's dynamically linked true(1): what loading ld.so and libc costs a guest. */
    static final Path DYNAMIC_TRUE = Path.of("/usr/bin/true");

    /** A deterministic file of {@code bytes} bytes for sha256sum. */
    private Path dataFile(long bytes) throws IOException {
        Path f = dir.resolve("data-" + bytes);
        if (!Files.exists(f) || Files.size(f) != bytes) {
            Random r = new Random(42);
            byte[] chunk = new byte[1 << 20];
            try (var out = Files.newOutputStream(f)) {
                for (long done = 0; done < bytes; done += chunk.length) {
                    r.nextBytes(chunk);
                    out.write(chunk, 0, (int) Math.min(chunk.length, bytes - done));
                }
            }
        }
        return f;
    }

    private interface Case {
        long runNative() throws Exception;

        long runGuest() throws Exception;
    }

    /** A command run both ways, its output discarded: nanoseconds from start to exit. */
    private Case command(MemoryManager mm, List<String> argv) {
        return new Case() {
            @Override
            public long runNative() throws Exception {
                long t0 = System.nanoTime();
                Process p = new ProcessBuilder(argv).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
                int status = p.waitFor();
                long t = System.nanoTime() - t0;
                check(status, argv, "natively");
                return t;
            }

            @Override
            public long runGuest() throws Exception {
                long t0 = System.nanoTime();
                Guest.Result r = Guest.run(mm, argv.get(0), argv, List.of(), Guest.Options.defaults().withDiscardedOutput());
                long t = System.nanoTime() - t0;
                check(r.status(), argv, "as a guest: " + r);
                return t;
            }
        };
    }

    private static void check(int status, List<String> argv, String how) {
        if (status != 0) {
            throw new IllegalStateException(String.join(" ", argv) + " exited " + status + " " + how);
        }
    }

    /** Runs every case both ways {@code rounds} times, shuffled; times[case][side][round]. */
    private long[][][] measure(List<Case> cases) throws Exception {
        long[][][] t = new long[cases.size()][2][rounds];
        Random order = new Random(7);
        for (int r = -1; r < rounds; r++) { // round -1 warms up (JIT, page cache, the stub)
            List<int[]> runs = new ArrayList<>();
            for (int c = 0; c < cases.size(); c++) {
                runs.add(new int[] {c, 0});
                runs.add(new int[] {c, 1});
            }
            Collections.shuffle(runs, order);
            for (int[] run : runs) {
                Case c = cases.get(run[0]);
                long ns = run[1] == 0 ? c.runNative() : c.runGuest();
                if (r >= 0) {
                    t[run[0]][run[1]][r] = ns;
                }
            }
            if (progress != null) {
                progress.printf("round %d/%d%n", r + 1, rounds);
            }
        }
        return t;
    }

    public List<Row> run() throws Exception {
        Path[] p = programs();
        Path data = dataFile(SHA_BYTES);
        try (MemoryManager mm = new MemoryManager(MemoryManager.Config.defaults().withFaultAround(faultAround))) {
            List<Case> cases = new ArrayList<>(List.of(
                    command(mm, List.of(p[0].toString())),
                    command(mm, List.of(p[1].toString())),
                    command(mm, List.of(p[2].toString())),
                    command(mm, List.of(busybox.toString(), "true")),
                    command(mm, List.of(busybox.toString(), "sha256sum", data.toString())),
                    command(mm, List.of(busybox.toString(), "sh", "-c", "seq 1 100000 | sort -rn | head -1"))));
            for (int mib : FORK_MIB) {
                cases.add(command(mm, List.of(forker("fork0-" + mib, (long) mib << 20, 0, false).toString())));
                cases.add(command(mm, List.of(forker("fork-" + mib, (long) mib << 20, FORKS, false).toString())));
            }
            cases.add(command(mm, List.of(forker("cow-base", COW_BYTES, COW_FORKS, false).toString())));
            cases.add(command(mm, List.of(forker("cow", COW_BYTES, COW_FORKS, true).toString())));
            boolean dynamic = java.nio.file.Files.isExecutable(DYNAMIC_TRUE);
            if (dynamic) {
                cases.add(command(mm, List.of(DYNAMIC_TRUE.toString())));
            }
            long[][][] t = measure(cases);
            List<Row> rows = new ArrayList<>();
            rows.add(perOp("getppid round trip", "us", t[1], t[0], CALLS, 1e3));
            rows.add(perOp("first touch of a page, fault-around " + faultAround, "us", t[2], t[0], TOUCH_PAGES, 1e3));
            rows.add(whole("busybox true, start to exit", t[3]));
            rows.add(whole("busybox sha256sum of 50 MiB", t[4]));
            rows.add(whole("sh -c 'seq 1 100000 | sort -rn | head -1'", t[5]));
            int c = 6;
            for (int mib : FORK_MIB) {
                rows.add(perOp("fork + exit + wait, " + mib + " MiB written", "us", t[c + 1], t[c], FORKS, 1e3));
                c += 2;
            }
            rows.add(perOp("copy-on-write break, first write after fork", "us", t[c + 1], t[c], (int) (COW_FORKS * (COW_BYTES / 4096)), 1e3));
            if (dynamic) {
                rows.add(whole(DYNAMIC_TRUE + " (dynamically linked: ld.so maps libc), start to exit", t[c + 2]));
            }
            return rows;
        }
    }

    /** (case - empty) / n for each side, in {@code scale} ns. */
    private Row perOp(String what, String unit, long[][] loop, long[][] empty, int n, double scale) {
        double[] nat = new double[rounds];
        double[] gst = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            nat[r] = (loop[0][r] - median(empty[0])) / (double) n / scale;
            gst[r] = (loop[1][r] - median(empty[1])) / (double) n / scale;
        }
        return new Row(what + " (" + unit + ")", unit, median(nat), min(nat), median(gst), min(gst));
    }

    private Row whole(String what, long[][] t) {
        double[] nat = Arrays.stream(t[0]).mapToDouble(v -> v / 1e6).toArray();
        double[] gst = Arrays.stream(t[1]).mapToDouble(v -> v / 1e6).toArray();
        return new Row(what + " (ms)", "ms", median(nat), min(nat), median(gst), min(gst));
    }

    private static double median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    public static void print(List<Row> rows, int rounds, PrintStream out) {
        out.printf("%-48s %12s %12s %8s   %s%n", "what", "native", "guest", "guest/native", "(minimums: native, guest)");
        for (Row r : rows) {
            out.printf(Locale.ROOT, "%-48s %12.2f %12.2f %8.2fx     (%.2f, %.2f)%n", r.what(), r.nativeMedian(), r.guestMedian(), r.ratio(),
                    r.nativeMin(), r.guestMin());
        }
        out.printf("medians of %d rounds, each running every case natively and as a guest in a shuffled order, in one JVM;%n", rounds);
        out.println("per-call and per-page rows subtract the same program with no loop, run the same way");
    }

    /** The rows as JSON, for docs/perf. */
    public static String json(List<Row> rows, int rounds) {
        StringBuilder sb = new StringBuilder("{\n  \"rounds\": " + rounds + ",\n  \"rows\": [\n");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            sb.append(String.format(Locale.ROOT, "    {\"what\": \"%s\", \"unit\": \"%s\", \"native_median\": %.4f, \"native_min\": %.4f, "
                    + "\"guest_median\": %.4f, \"guest_min\": %.4f, \"ratio\": %.3f}%s%n", r.what(), r.unit(), r.nativeMedian(), r.nativeMin(),
                    r.guestMedian(), r.guestMin(), r.ratio(), i + 1 < rows.size() ? "," : ""));
        }
        return sb.append("  ]\n}\n").toString();
    }

    /** Where busybox is: the first of PATH's. */
    public static Path findBusybox() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path p = Path.of(d, "busybox");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return Path.of("/bin/busybox");
    }
}
