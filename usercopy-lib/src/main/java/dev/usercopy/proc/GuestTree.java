package dev.usercopy.proc;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import dev.usercopy.mm.MemoryManager;

/**
 * The guest processes one {@link Guest} started: the first one and every
 * process it forked, each with its own {@link Tracer} thread. What they
 * share: the machine, the options, the host root, and the counts a
 * {@link Guest.Result} sums. The tree ends when the last tracer does.
 */
final class GuestTree {
    final MemoryManager mm;
    final Guest.Options options;
    final Path root;
    final AtomicLong syscalls = new AtomicLong();
    final AtomicLong unknownSyscalls = new AtomicLong();
    final AtomicLong guestFaults = new AtomicLong();
    final AtomicLong kernelFaults = new AtomicLong();
    final AtomicLong injected = new AtomicLong();
    final AtomicLong processes = new AtomicLong();
    private final List<Tracer> live = new ArrayList<>();
    private boolean killed;

    GuestTree(MemoryManager mm, Guest.Options options, Path root) {
        this.mm = mm;
        this.options = options;
        this.root = root;
    }

    /** Starts {@code t}'s thread; false when the tree was killed (then it never runs). */
    synchronized boolean start(Tracer t) {
        if (killed) {
            return false;
        }
        live.add(t);
        processes.incrementAndGet();
        Thread.ofPlatform().name("guest-tracer-" + t.name()).daemon(true).start(t);
        return true;
    }

    /** {@code t} has ended: its child reaped, its task released. */
    synchronized void ended(Tracer t) {
        live.remove(t);
        notifyAll();
    }

    /** Kills every process of the tree (SIGKILL). */
    void kill() {
        List<Tracer> all;
        synchronized (this) {
            killed = true;
            all = List.copyOf(live);
        }
        for (Tracer t : all) {
            t.kill();
        }
    }

    /** Waits until every tracer of the tree has ended. */
    synchronized void awaitAll() throws InterruptedException {
        while (!live.isEmpty()) {
            wait();
        }
    }
}
