package dev.usercopy.faultinjection;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The host side of {@link MmOracleTest}: {@code mm-oracle-helper.c}, compiled
 * with gcc, run as a child process whose top of user space mirrors the guest
 * address space (guest address {@code a} is host address {@code BASE + a},
 * and the guest's end is the host's {@code TASK_SIZE}), and the processes it
 * forks. Each process is a {@link Proc}: one request, one answer, over pipes
 * (the first process) or FIFOs (the ones forked).
 */
final class MmOracleHost implements AutoCloseable {
    /** x86-64 with 4-level page tables: the end of user space, Linux's TASK_SIZE_MAX. */
    static final long TASK_SIZE = 0x7ffffffff000L;
    private static final int PLACE_TRIES = 20;

    static final int OP_EXIT = 0, OP_PLACE = 1, OP_MMAP = 2, OP_MUNMAP = 3, OP_MPROTECT = 4, OP_MADVISE = 5, OP_MSYNC = 6,
            OP_COPY_FROM = 7, OP_COPY_TO = 8, OP_CLEAR = 9, OP_STRNCPY = 10, OP_NOP = 11, OP_FORK = 12, OP_RESET = 13;

    /** Pages to scan after an op, in the same round trip: {@code pages} from host address {@code addr}. */
    record Scan(long addr, long pages, boolean write) {
        static final Scan NONE = new Scan(0, 0, false);

        /** From the page before the op's result (an mmap's address), clipped to the region. */
        static Scan afterResult(long pages, boolean write) {
            return new Scan(-1, pages, write);
        }
    }

    /** A result ({@code -errno} on failure), the bytes that came with it, and the scan. */
    record Answer(long result, byte[] data, byte[] scan) {}

    private final Path dir;
    private final Path exe;
    private final long size;
    final long base;
    private Process root;
    private final List<Proc> procs = new ArrayList<>();
    private int forks;

    /** Compiles the helper into {@code dir} and starts a process whose [TASK_SIZE - size, TASK_SIZE) is free. */
    MmOracleHost(Path dir, long size) throws IOException, InterruptedException {
        this.dir = dir;
        this.size = size;
        this.base = TASK_SIZE - size;
        Path source = dir.resolve("mm-oracle-helper.c");
        try (InputStream in = MmOracleHost.class.getResourceAsStream("mm-oracle-helper.c")) {
            Files.write(source, in.readAllBytes());
        }
        exe = dir.resolve("mm-oracle-helper");
        Process cc = new ProcessBuilder("gcc", "-O1", "-std=gnu11", "-Wall", "-o", exe.toString(), source.toString())
                .redirectErrorStream(true).start();
        String ccOut = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!cc.waitFor(60, TimeUnit.SECONDS) || cc.exitValue() != 0) {
            throw new IllegalStateException("gcc could not build the MM oracle's helper:\n" + ccOut);
        }
        // The region sits where the stack might (ASLR puts its top up to 16 GiB below TASK_SIZE): start
        // again until the region is free.
        for (int i = 0; i < PLACE_TRIES; i++) {
            start();
            long placed = procs.getFirst().call(OP_PLACE, base, size).result();
            if (placed == 0) {
                return;
            }
            stop();
        }
        throw new IllegalStateException("the host's top of user space [0x" + Long.toHexString(base) + ", 0x"
                + Long.toHexString(TASK_SIZE) + ") was never free in " + PLACE_TRIES + " tries (ASLR off?)");
    }

    private void start() throws IOException {
        root = new ProcessBuilder(exe.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        procs.clear();
        procs.add(new Proc(root.getOutputStream(), root.getInputStream(), "helper"));
    }

    private void stop() {
        for (Proc p : procs.reversed()) {
            p.closeQuietly();
        }
        procs.clear();
        if (root != null) {
            root.destroyForcibly();
            try {
                root.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The guest address's host address: {@code base + a}; a negative one stays itself (a kernel address). */
    long host(long guest) {
        return guest < 0 ? guest : base + guest;
    }

    /** The first process (the one that mirrors the first address space). */
    Proc first() {
        return procs.getFirst();
    }

    /** Forks {@code parent}: the new process talks over two FIFOs in the work directory. */
    Proc fork(Proc parent) {
        int id = ++forks;
        Answer a = parent.call(OP_FORK, id, 0, 0, 0, 0, 0, dir.toString().getBytes(StandardCharsets.UTF_8), Scan.NONE);
        if (a.result() < 0) {
            throw new IllegalStateException("host fork failed: errno " + -a.result());
        }
        try {
            // The same order as the child: the command FIFO, then the answer FIFO.
            OutputStream cmd = Files.newOutputStream(dir.resolve(id + ".cmd"));
            InputStream rsp = Files.newInputStream(dir.resolve(id + ".rsp"));
            Files.delete(dir.resolve(id + ".cmd"));
            Files.delete(dir.resolve(id + ".rsp"));
            Proc p = new Proc(cmd, rsp, "fork " + id + " (pid " + a.result() + ")");
            procs.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Ends a forked process. */
    void exit(Proc p) {
        if (p == first()) {
            throw new IllegalArgumentException("the first process lives as long as the host");
        }
        p.call(OP_EXIT);
        p.closeQuietly();
        procs.remove(p);
    }

    /**
     * Ends every forked process, empties the region of the first and opens
     * {@code files} there (numbers 0, 1, ...): a fresh start for a sequence.
     */
    void reset(List<Path> files) {
        for (Proc p : List.copyOf(procs.subList(1, procs.size()))) {
            exit(p);
        }
        java.io.ByteArrayOutputStream names = new java.io.ByteArrayOutputStream();
        for (Path f : files) {
            names.writeBytes(f.toString().getBytes(StandardCharsets.UTF_8));
            names.write(0);
        }
        long r = first().call(OP_RESET, base, size, 0, 0, 0, 0, names.toByteArray(), Scan.NONE).result();
        if (r != 0) {
            throw new IllegalStateException("emptying the host region or opening " + files + " failed: errno " + -r);
        }
    }

    @Override
    public void close() {
        stop();
    }

    /** One host process and its two streams. */
    static final class Proc {
        private final OutputStream out;
        private final InputStream in;
        final String name;

        Proc(OutputStream out, InputStream in, String name) {
            this.out = out;
            this.in = in;
            this.name = name;
        }

        Answer call(int op, long... args) {
            return call(op, args.length > 0 ? args[0] : 0, args.length > 1 ? args[1] : 0, args.length > 2 ? args[2] : 0,
                    args.length > 3 ? args[3] : 0, args.length > 4 ? args[4] : 0, args.length > 5 ? args[5] : 0, new byte[0], Scan.NONE);
        }

        Answer call(int op, long a0, long a1, long a2, long a3, long a4, long a5, byte[] payload, Scan scan) {
            send(op, a0, a1, a2, a3, a4, a5, payload, scan);
            return receive();
        }

        /** Sends a request; {@link #receive} takes its answer, so the test can work in between. */
        void send(int op, long a0, long a1, long a2, long a3, long a4, long a5, byte[] payload, Scan scan) {
            ByteBuffer h = ByteBuffer.allocate(88).order(ByteOrder.LITTLE_ENDIAN);
            h.putLong(op).putLong(a0).putLong(a1).putLong(a2).putLong(a3).putLong(a4).putLong(a5)
                    .putLong(scan.addr()).putLong(scan.pages()).putLong(scan.write() ? 1 : 0).putLong(payload.length);
            try {
                out.write(h.array());
                out.write(payload);
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("talking to the MM oracle's helper (" + name + ")", e);
            }
        }

        Answer receive() {
            try {
                ByteBuffer r = ByteBuffer.wrap(in.readNBytes(24)).order(ByteOrder.LITTLE_ENDIAN);
                if (r.remaining() < 24) {
                    throw new IllegalStateException("the MM oracle's helper (" + name + ") ended");
                }
                long result = r.getLong();
                int len = Math.toIntExact(r.getLong());
                int scanLen = Math.toIntExact(r.getLong());
                byte[] data = in.readNBytes(len);
                byte[] scanned = in.readNBytes(scanLen);
                if (data.length != len || scanned.length != scanLen) {
                    throw new IllegalStateException("the MM oracle's helper (" + name + ") ended");
                }
                return new Answer(result, data, scanned);
            } catch (IOException e) {
                throw new UncheckedIOException("talking to the MM oracle's helper (" + name + ")", e);
            }
        }

        void closeQuietly() {
            try {
                out.close();
            } catch (IOException ignored) {
                // already gone
            }
            try {
                in.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }
}
