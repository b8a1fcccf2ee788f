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
    private final List<Tracer> live = new ArrayList<>();
    private boolean killed;
    /**
     * Processes ready for the next forks: spawned ahead (spawning the stub
     * and setting it up is most of a fork's cost, so it is done while the
     * guest runs, not while its fork waits), or left by a guest that ended.
     */
    private final java.util.ArrayDeque<Tracer> spares = new java.util.ArrayDeque<>();
    /** The spares a tree keeps at most: a pipeline's few processes at a time. */
    static final int SPARES = 2;

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
        Thread.ofPlatform().name("guest-tracer-" + t.name()).daemon(true).start(t);
        return true;
    }

    /** {@code t} has ended: its child reaped, its task released. */
    synchronized void ended(Tracer t) {
        live.remove(t);
        notifyAll();
    }

    /** The spare process, if one is ready or on its way; null when none (the caller starts its own). */
    synchronized Tracer takeSpare() {
        return spares.pollLast();
    }

    /** Starts a spare for the next fork, unless there is one or the tree is ending. */
    void replenish() {
        Tracer t;
        synchronized (this) {
            if (!spares.isEmpty() || killed) {
                return;
            }
            t = new Tracer(this);
            spares.add(t);
        }
        if (!start(t)) {
            synchronized (this) {
                spares.remove(t);
            }
        }
    }

    /** A process whose guest ended, ready for another: kept when the tree has room for a spare. */
    synchronized boolean offerSpare(Tracer t) {
        if (killed || spares.size() >= SPARES) {
            return false;
        }
        spares.add(t);
        return true;
    }

    /** The tree is ending: its spares go without running anything more. */
    void dismissSpare() {
        List<Tracer> all;
        synchronized (this) {
            killed = true;
            all = List.copyOf(spares);
            spares.clear();
        }
        for (Tracer t : all) {
            t.job.complete(null);
        }
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
        dismissSpare();
    }

    /** Waits until every tracer of the tree has ended. */
    synchronized void awaitAll() throws InterruptedException {
        while (!live.isEmpty()) {
            wait();
        }
    }
}
