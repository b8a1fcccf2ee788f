package dev.usercopy.platform;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.usercopy.platform.Posix.SA_SIGINFO;
import static dev.usercopy.platform.Posix.SIGBUS;
import static dev.usercopy.platform.Posix.SIGSEGV;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Installing and uninstalling the handler: idempotent, exactly reversible,
 * consistent under concurrent calls. Other test classes share this JVM and
 * need the handler, so every test leaves it installed; no copy runs while it
 * is uninstalled (that would crash the JVM, as FaultHandler documents).
 */
@Timeout(60)
class FaultHandlerInstallTest {
    private static final int[] SIGNALS = {SIGSEGV, SIGBUS};
    private static final long SEED = Long.getLong("usercopy.seed", System.nanoTime());

    /**
     * The bytes of glibc's 128-byte sigset_t the kernel keeps (_NSIG / 8). glibc's
     * sigaction copies all 128 from a kernel struct of which the kernel filled
     * only these, so the rest of a queried sa_mask is stack garbage.
     */
    private static final int KERNEL_SIGSET_BYTES = 8;

    /** A signal's disposition as sigaction reports it; the mask as hex so records compare by value. */
    record Disposition(long handler, int flags, String mask) {
        static Disposition of(int sig) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = arena.allocate(sigaction.$LAYOUT);
                Posix.sigaction(sig, MemorySegment.NULL, s);
                return new Disposition(sigaction.sa_sigaction(s).address(), sigaction.sa_flags(s),
                        HexFormat.of().formatHex(sigaction.sa_mask(s).asSlice(0, KERNEL_SIGSET_BYTES).toArray(JAVA_BYTE)));
            }
        }
    }

    private static long ours() {
        return FaultHandler.handlerAddress();
    }

    private static long chain(int sig) {
        return LibUsercopy.chain(sig).address();
    }

    private static String name(int sig) {
        return sig == SIGSEGV ? "SIGSEGV" : "SIGBUS";
    }

    @AfterEach
    void leaveTheHandlerInstalled() {
        FaultHandler.install();
        for (int sig : SIGNALS) {
            assertEquals(ours(), Disposition.of(sig).handler(), name(sig) + " handler left installed");
        }
    }

    /** Faults on both guards are fixed up with exact counts, and the counters show it. */
    private static void assertCopiesAreFixedUp() {
        for (GuardedRegion.Guard guard : GuardedRegion.Guard.values()) {
            try (GuardedRegion r = GuardedRegion.create(1, guard)) {
                FaultHandler.Stats before = FaultHandler.stats();
                byte[] buf = new byte[100];
                assertEquals(60, UserCopy.copyFromUser(buf, 0, r.boundary() - 40, 100), guard + " from user");
                assertEquals(70, UserCopy.copyToUser(UserCopy.Form.FLAT, r.boundary() - 30, buf, 0, 100), guard + " to user");
                FaultHandler.Stats after = FaultHandler.stats();
                long grew = guard == GuardedRegion.Guard.SEGV
                        ? after.segvFixups() - before.segvFixups()
                        : after.busFixups() - before.busFixups();
                assertTrue(grew >= 2, guard + " fixups grew by " + grew + " for two faulting copies");
            }
        }
    }

    @Test
    void installingTwiceKeepsOurHandlerInFrontChainedToTheJvms() {
        FaultHandler.install();
        Disposition[] once = {Disposition.of(SIGSEGV), Disposition.of(SIGBUS)};
        long[] chainOnce = {chain(SIGSEGV), chain(SIGBUS)};

        FaultHandler.install();

        assertTrue(FaultHandler.isInstalled());
        for (int i = 0; i < SIGNALS.length; i++) {
            int sig = SIGNALS[i];
            assertEquals(ours(), once[i].handler(), name(sig) + ": ours after the first install");
            assertEquals(once[i], Disposition.of(sig), name(sig) + ": a second install changed the disposition");
            assertEquals(chainOnce[i], chain(sig), name(sig) + ": a second install changed the chain");
            assertNotEquals(ours(), chain(sig), name(sig) + ": chained to itself");
            assertTrue(Long.compareUnsigned(chain(sig), 1) > 0, name(sig) + ": chained to SIG_DFL/SIG_IGN, not the JVM");
        }
        assertCopiesAreFixedUp();

        // One uninstall undoes both installs: the second saved nothing of its own.
        try {
            assertTrue(FaultHandler.uninstall(), "uninstall");
            for (int i = 0; i < SIGNALS.length; i++) {
                assertEquals(chainOnce[i], Disposition.of(SIGNALS[i]).handler(),
                        name(SIGNALS[i]) + ": the JVM's handler is back after one uninstall");
            }
        } finally {
            FaultHandler.install();
        }
    }

    @Test
    void uninstallRestoresTheJvmsDispositionExactlyAndReinstallWorks() {
        FaultHandler.install();
        Disposition[] installed = {Disposition.of(SIGSEGV), Disposition.of(SIGBUS)};
        long[] previous = {chain(SIGSEGV), chain(SIGBUS)};
        Disposition[] restored = new Disposition[SIGNALS.length];
        try {
            assertTrue(FaultHandler.uninstall(), "uninstall");
            assertFalse(FaultHandler.isInstalled(), "isInstalled after uninstall");
            for (int i = 0; i < SIGNALS.length; i++) {
                int sig = SIGNALS[i];
                restored[i] = Disposition.of(sig);
                assertEquals(previous[i], restored[i].handler(), name(sig) + ": the handler we chained to is back");
                assertNotEquals(ours(), restored[i].handler(), name(sig) + ": ours is still installed");
                // Install only adds SA_SIGINFO (the JVM's handler has it already) and keeps the mask.
                assertEquals(installed[i].flags(), restored[i].flags() | SA_SIGINFO, name(sig) + ": flags");
                assertEquals(installed[i].mask(), restored[i].mask(), name(sig) + ": mask");
            }

            FaultHandler.install();
            for (int i = 0; i < SIGNALS.length; i++) {
                int sig = SIGNALS[i];
                assertEquals(installed[i], Disposition.of(sig), name(sig) + ": reinstalled disposition");
                assertEquals(previous[i], chain(sig), name(sig) + ": reinstalled chain");
            }
            assertCopiesAreFixedUp();

            assertTrue(FaultHandler.uninstall(), "second uninstall");
            for (int i = 0; i < SIGNALS.length; i++) {
                assertEquals(restored[i], Disposition.of(SIGNALS[i]), name(SIGNALS[i]) + ": second round trip");
            }
        } finally {
            FaultHandler.install();
        }
        assertCopiesAreFixedUp();
    }

    @ParameterizedTest(name = "someone else's handler on signal {0}")
    @ValueSource(ints = {SIGSEGV, SIGBUS})
    void uninstallRefusesToCutOffAHandlerInstalledOverOurs(int sig) {
        FaultHandler.install();
        int other = sig == SIGSEGV ? SIGBUS : SIGSEGV;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment oursAction = arena.allocate(sigaction.$LAYOUT);
            Posix.sigaction(sig, MemorySegment.NULL, oursAction);
            // "Someone else": the JVM's own handler, so faults meanwhile are handled as without us.
            MemorySegment theirs = arena.allocate(sigaction.$LAYOUT);
            theirs.copyFrom(oursAction);
            sigaction.sa_sigaction(theirs, LibUsercopy.chain(sig));
            Posix.sigaction(sig, theirs, MemorySegment.NULL);
            Disposition theirsInstalled = Disposition.of(sig);
            Disposition otherBefore = Disposition.of(other);
            try {
                assertFalse(FaultHandler.uninstall(), "uninstall over someone else's " + name(sig) + " handler");
                assertTrue(FaultHandler.isInstalled(), "isInstalled after a refused uninstall");
                assertEquals(theirsInstalled, Disposition.of(sig), name(sig) + ": their handler was touched");
                assertEquals(otherBefore, Disposition.of(other), name(other) + ": restored although uninstall refused");
                assertEquals(ours(), otherBefore.handler(), name(other) + ": ours");
            } finally {
                Posix.sigaction(sig, oursAction, MemorySegment.NULL);
            }
        }
        assertCopiesAreFixedUp();
    }

    @Test
    void concurrentInstallAndUninstallEndConsistentAndInstallThenFixesFaults() throws Exception {
        FaultHandler.install();
        long[] jvms = {chain(SIGSEGV), chain(SIGBUS)};
        Disposition[] installed = {Disposition.of(SIGSEGV), Disposition.of(SIGBUS)};
        int threads = 8;
        int callsPerThread = 2_000;
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                SplittableRandom rnd = new SplittableRandom(SEED + t);
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < callsPerThread; i++) {
                        if (rnd.nextBoolean()) {
                            FaultHandler.install();
                        } else {
                            assertTrue(FaultHandler.uninstall(), "uninstall refused with nobody else installing");
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }

            boolean isInstalled = FaultHandler.isInstalled();
            for (int i = 0; i < SIGNALS.length; i++) {
                int sig = SIGNALS[i];
                Disposition now = Disposition.of(sig);
                String where = name(sig) + " (seed " + SEED + ", isInstalled " + isInstalled + ")";
                if (isInstalled) {
                    assertEquals(installed[i], now, where + ": disposition");
                } else {
                    assertEquals(jvms[i], now.handler(), where + ": handler");
                    assertEquals(installed[i].flags(), now.flags() | SA_SIGINFO, where + ": flags");
                    assertEquals(installed[i].mask(), now.mask(), where + ": mask");
                }
                assertEquals(jvms[i], chain(sig), where + ": chain");
            }
        } finally {
            pool.shutdownNow();
            FaultHandler.install();
        }
        for (int i = 0; i < SIGNALS.length; i++) {
            assertEquals(installed[i], Disposition.of(SIGNALS[i]), name(SIGNALS[i]) + " after the final install");
            assertEquals(jvms[i], chain(SIGNALS[i]), name(SIGNALS[i]) + " chain after the final install");
        }
        assertCopiesAreFixedUp();
    }
}
