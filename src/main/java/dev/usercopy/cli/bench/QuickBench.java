package dev.usercopy.cli.bench;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.HostMapping;
import dev.usercopy.platform.Posix;
import dev.usercopy.platform.UserCopy;

import static dev.usercopy.platform.libc_h.PROT_NONE;

/**
 * A quick look at the main numbers without JMH: each row against a
 * baseline measured right before it. Plain loops with a short warm-up and
 * the best of a few rounds, on a shared machine: for a feel, not for
 * publishing (./usercopy bench runs the JMH suite for that).
 */
public final class QuickBench {
    private static final long PAGE = AddressSpace.PAGE;
    /** How long one timed round of a copy loop runs. */
    private static final long ROUND_NS = 60_000_000;
    private static final int ROUNDS = 3;
    /** Pages of the first-touch and copy-on-write rows (16 MiB, as FirstTouchBench). */
    private static final int TOUCH_PAGES = 4096;
    /** Guest memory written before the fork row. */
    private static final long FORK_BYTES = 256L << 20;

    public record Row(String what, double ours, String baselineName, double baseline, String unit, boolean higherIsBetter) {
        /** How many times better ours is than the baseline (above 1: better). */
        double advantage() {
            return higherIsBetter ? ours / baseline : baseline / ours;
        }
    }

    private final Progress progress;
    private final List<Row> rows = new ArrayList<>();

    public QuickBench(Progress progress) {
        this.progress = progress;
    }

    /** The steps {@link #run} reports to the progress bar. */
    public static final int STEPS = 8;

    public List<Row> run() {
        copyRows(64 << 10);
        copyRows(1 << 20);
        efaultRow();
        firstTouchRow();
        forkAndCowRows();
        return rows;
    }

    private void copyRows(int size) {
        String label = size >= (1 << 20) ? (size >> 20) + " MiB" : (size >> 10) + " KiB";
        try (HostMapping src = HostMapping.anonymous(size); Arena arena = Arena.ofConfined()) {
            src.segment().fill((byte) 7);
            MemorySegment dst = arena.allocate(size, 64);
            MemorySegment srcSeg = src.segment();
            long address = src.address();
            progress.step("copy " + label + ": MemorySegment.copy");
            double base = bytesPerNs(size, () -> MemorySegment.copy(srcSeg, 0, dst, 0, size));
            progress.step("copy " + label + ": flat, aligned and adaptive");
            double flat = bytesPerNs(size, () -> check(UserCopy.copyFromUser(UserCopy.Form.FLAT, dst, address)));
            double aligned = bytesPerNs(size, () -> check(UserCopy.copyFromUser(UserCopy.Form.ALIGNED, dst, address)));
            double adaptive = bytesPerNs(size, () -> check(UserCopy.copyFromUser(UserCopy.Form.ADAPTIVE, dst, address)));
            rows.add(new Row("copy_from_user " + label + ", flat (GB/s)", flat, "MemorySegment.copy", base, "GB/s", true));
            rows.add(new Row("copy_from_user " + label + ", aligned (GB/s)", aligned, "MemorySegment.copy", base, "GB/s", true));
            rows.add(new Row("copy_from_user " + label + ", adaptive (GB/s)", adaptive, "MemorySegment.copy", base, "GB/s", true));
        }
    }

    private void efaultRow() {
        progress.step("EFAULT round trip");
        try (HostMapping m = HostMapping.anonymous(2 * PAGE); Arena arena = Arena.ofConfined()) {
            m.protect(PAGE, PAGE, PROT_NONE);
            MemorySegment dst = arena.allocate(64);
            long good = m.address();
            long bad = m.address() + PAGE;
            double ok = nsPerOp(() -> check(UserCopy.copyFromUser(UserCopy.Form.FLAT, dst, good)));
            double fault = nsPerOp(() -> {
                if (UserCopy.copyFromUser(UserCopy.Form.FLAT, dst, bad) != 64) {
                    throw new IllegalStateException("a copy from a PROT_NONE page did not fault");
                }
            });
            rows.add(new Row("64-byte copy that faults (EFAULT), ns", fault, "the same copy, no fault", ok, "ns", false));
        }
    }

    private void firstTouchRow() {
        progress.step("first touch, guest and host");
        byte[] one = {1};
        double guest = Double.MAX_VALUE;
        double host = Double.MAX_VALUE;
        try (MemoryManager mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(4L * TOUCH_PAGES).withAddressSpaceSize(1L << 30));
                AddressSpace as = mm.newAddressSpace()) {
            for (int round = 0; round < ROUNDS + 1; round++) {
                long t0 = System.nanoTime();
                long a = as.mmap(0, TOUCH_PAGES * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
                for (int i = 0; i < TOUCH_PAGES; i++) {
                    check(as.copyToUser(a + i * PAGE, one, 0, 1));
                }
                as.munmap(a, TOUCH_PAGES * PAGE);
                guest = Math.min(guest, (System.nanoTime() - t0) / (double) TOUCH_PAGES);

                t0 = System.nanoTime();
                try (HostMapping m = HostMapping.anonymous(TOUCH_PAGES * PAGE)) {
                    MemorySegment s = m.segment();
                    for (int i = 0; i < TOUCH_PAGES; i++) {
                        s.set(ValueLayout.JAVA_BYTE, i * PAGE, (byte) 1);
                    }
                }
                host = Math.min(host, (System.nanoTime() - t0) / (double) TOUCH_PAGES);
            }
        }
        rows.add(new Row("first touch per page, guest, fault-around 16 (us)", guest / 1000, "host kernel's first touch", host / 1000, "us", false));
    }

    private void forkAndCowRows() {
        progress.step("fork with " + (FORK_BYTES >> 20) + " MiB written, guest and host");
        try (MemoryManager mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(FORK_BYTES / PAGE + 4L * TOUCH_PAGES + 1024)
                .withAddressSpaceSize(2L << 30));
                AddressSpace parent = mm.newAddressSpace()) {
            long a = parent.mmap(0, FORK_BYTES, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
            byte[] chunk = new byte[1 << 20];
            Arrays.fill(chunk, (byte) 7);
            for (long off = 0; off < FORK_BYTES; off += chunk.length) {
                check(parent.copyToUser(a + off, chunk, 0, chunk.length));
            }
            double guestFork = Double.MAX_VALUE;
            double hostFork = Double.MAX_VALUE;
            for (int round = 0; round < ROUNDS; round++) {
                long t0 = System.nanoTime();
                AddressSpace child = parent.fork();
                guestFork = Math.min(guestFork, System.nanoTime() - t0);
                child.close();
                t0 = System.nanoTime();
                Posix.forkAndReap();
                hostFork = Math.min(hostFork, System.nanoTime() - t0);
            }
            rows.add(new Row("fork, " + (FORK_BYTES >> 20) + " MiB written (ms)", guestFork / 1e6, "host fork(2) of this JVM", hostFork / 1e6, "ms", false));

            progress.step("copy-on-write break");
            byte[] one = {1};
            double cow = Double.MAX_VALUE;
            double fresh = Double.MAX_VALUE;
            try (AddressSpace scratch = mm.newAddressSpace()) {
                for (int round = 0; round < ROUNDS; round++) {
                    try (AddressSpace child = parent.fork()) {
                        long t0 = System.nanoTime();
                        for (int i = 0; i < TOUCH_PAGES; i++) {
                            check(child.copyToUser(a + i * PAGE, one, 0, 1));
                        }
                        cow = Math.min(cow, (System.nanoTime() - t0) / (double) TOUCH_PAGES);
                    }
                    long t0 = System.nanoTime();
                    long s = scratch.mmap(0, TOUCH_PAGES * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
                    for (int i = 0; i < TOUCH_PAGES; i++) {
                        check(scratch.copyToUser(s + i * PAGE, one, 0, 1));
                    }
                    scratch.munmap(s, TOUCH_PAGES * PAGE);
                    fresh = Math.min(fresh, (System.nanoTime() - t0) / (double) TOUCH_PAGES);
                }
            }
            rows.add(new Row("copy-on-write break per page (us)", cow / 1000, "first touch of a fresh guest page", fresh / 1000, "us", false));
        }
    }

    /** Best of {@link #ROUNDS} timed rounds, after one round of warm-up. */
    private static double bytesPerNs(long size, Runnable copy) {
        double best = 0;
        for (int round = 0; round < ROUNDS + 1; round++) {
            long n = 0;
            long t0 = System.nanoTime();
            long t;
            do {
                for (int i = 0; i < 16; i++) {
                    copy.run();
                }
                n += 16;
                t = System.nanoTime() - t0;
            } while (t < ROUND_NS);
            if (round > 0) {
                best = Math.max(best, n * (double) size / t);
            }
        }
        return best; // bytes per ns is GB/s
    }

    private static double nsPerOp(Runnable op) {
        return 1.0 / bytesPerNs(1, op);
    }

    private static void check(long notCopied) {
        if (notCopied != 0) {
            throw new IllegalStateException("a copy that should not fault left " + notCopied + " bytes");
        }
    }

    /** The results as a table. */
    public static void print(List<Row> rows, PrintStream out) {
        out.printf("%-50s %10s   %-34s %10s   %s%n", "what", "usercopy", "baseline (same run)", "", "usercopy vs baseline");
        for (Row r : rows) {
            double x = r.advantage() >= 1 ? r.advantage() : 1 / r.advantage();
            out.printf("%-50s %10s   %-34s %10s   %s%n", r.what(), format(r.ours()), r.baselineName(), format(r.baseline()),
                    format(x) + "x " + (r.advantage() >= 1 ? "faster" : "slower"));
        }
        out.println("a quick look (best of " + ROUNDS + " short rounds, no JMH) on a shared machine; ./usercopy bench for measurements");
    }

    private static String format(double v) {
        return v >= 100 ? String.format("%.0f", v) : v >= 10 ? String.format("%.1f", v) : String.format("%.2f", v);
    }

    /** Where the steps are reported: a bar on a terminal, nothing otherwise. */
    public interface Progress {
        void step(String what);

        void done();
    }

    /** A one-line bar redrawn in place on stderr. */
    public static Progress bar(PrintStream err, int steps) {
        return new Progress() {
            private int done;

            @Override
            public void step(String what) {
                int width = 24;
                int filled = width * done / steps;
                err.printf("\r[%s%s] %d/%d %-50s", "#".repeat(filled), ".".repeat(width - filled), done + 1, steps, what);
                err.flush();
                done++;
            }

            @Override
            public void done() {
                err.print("\r" + " ".repeat(90) + "\r");
                err.flush();
            }
        };
    }

    public static Progress none() {
        return new Progress() {
            @Override
            public void step(String what) {}

            @Override
            public void done() {}
        };
    }
}
