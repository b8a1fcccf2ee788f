package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.usercopy.platform.Posix.SA_SIGINFO;
import static dev.usercopy.platform.Posix.SIGBUS;
import static dev.usercopy.platform.Posix.SIGSEGV;

/**
 * Installs the native usercopy fault handler for SIGSEGV and SIGBUS in front
 * of the JVM's own, with glibc {@code sigaction} (not libjsig, under which an
 * unrelated crash hangs instead of writing hs_err).
 *
 * <p>The handler keeps the JVM's mask and flags and passes every fault it does
 * not own to the JVM's handler with the kernel's arguments, so implicit null
 * checks, stack banging, safepoint polls and crash reports work unchanged.
 *
 * <p>Uninstalling while a usercopy runs on another thread turns a guest fault
 * in that copy into a JVM crash: only uninstall once copies have stopped.
 */
public final class FaultHandler {
    private FaultHandler() {}

    private static final int[] SIGNALS = {SIGSEGV, SIGBUS};

    /** The dispositions we replaced, index-matched with SIGNALS; null while not installed. */
    private static MemorySegment[] saved;

    /** Fault counts since the library was loaded. */
    public record Stats(long segvFixups, long busFixups, long passedOn) {
        public long fixups() {
            return segvFixups + busFixups;
        }
    }

    /** Installs the handler; does nothing if it is installed already. Thread-safe. */
    public static synchronized void install() {
        if (saved != null) {
            return;
        }
        MemorySegment ours = LibUsercopy.SIGNAL_HANDLER;
        MemorySegment[] previous = new MemorySegment[SIGNALS.length];
        try (Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < SIGNALS.length; i++) {
                int sig = SIGNALS[i];
                MemorySegment old = Arena.ofAuto().allocate(sigaction.$LAYOUT);
                Posix.sigaction(sig, MemorySegment.NULL, old);
                previous[i] = old;
                if (sigaction.sa_sigaction(old).equals(ours)) {
                    continue; // another loader of this very library got here first
                }
                // Chain first: from the moment ours is live, unowned faults must reach the JVM.
                LibUsercopy.setChain(sig, sigaction.sa_sigaction(old));
                MemorySegment act = arena.allocate(sigaction.$LAYOUT);
                act.copyFrom(old);
                sigaction.sa_sigaction(act, ours);
                sigaction.sa_flags(act, sigaction.sa_flags(old) | SA_SIGINFO);
                Posix.sigaction(sig, act, MemorySegment.NULL);
            }
        }
        saved = previous;
    }

    /**
     * Restores the dispositions {@link #install} replaced. Returns false, and
     * leaves things as they are, if someone else has installed a handler over
     * ours since (restoring would cut theirs off). Thread-safe.
     */
    public static synchronized boolean uninstall() {
        if (saved == null) {
            return true;
        }
        MemorySegment ours = LibUsercopy.SIGNAL_HANDLER;
        try (Arena arena = Arena.ofConfined()) {
            for (int sig : SIGNALS) {
                MemorySegment current = arena.allocate(sigaction.$LAYOUT);
                Posix.sigaction(sig, MemorySegment.NULL, current);
                if (!sigaction.sa_sigaction(current).equals(ours)) {
                    return false;
                }
            }
        }
        for (int i = 0; i < SIGNALS.length; i++) {
            Posix.sigaction(SIGNALS[i], saved[i], MemorySegment.NULL);
        }
        saved = null;
        return true;
    }

    public static synchronized boolean isInstalled() {
        return saved != null;
    }

    /** The address of the native handler, for comparison with a queried disposition. */
    public static long handlerAddress() {
        return LibUsercopy.SIGNAL_HANDLER.address();
    }

    public static Stats stats() {
        return new Stats(LibUsercopy.counter(0), LibUsercopy.counter(1), LibUsercopy.counter(2));
    }
}
