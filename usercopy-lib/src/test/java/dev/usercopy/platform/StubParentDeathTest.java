package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A stub never outlives the thread that spawned it, even before its tracer
 * set PTRACE_O_EXITKILL: a JVM killed in that window must not leave a stopped,
 * untraced host process behind (the fork bomb's SIGKILL test met one).
 */
class StubParentDeathTest {
    /** Waits, from this thread, for the end of a child of this process: its wait status, or fails after 20 s. */
    private static int endOf(int pid) throws Exception {
        CompletableFuture<Integer> status = new CompletableFuture<>();
        Thread.ofPlatform().daemon(true).start(() -> {
            try (Arena arena = Arena.ofConfined()) {
                status.complete(new Ptrace.Tracee(pid, arena).waitStatus());
            } catch (Throwable t) {
                status.completeExceptionally(t);
            }
        });
        try {
            return status.get(20, TimeUnit.SECONDS);
        } catch (TimeoutException stillThere) {
            Ptrace.kill(pid, Ptrace.SIGKILL);
            fail("the stub " + pid + " is still there 20 s after its spawner's end");
            throw stillThere;
        }
    }

    @Test
    void aStubStoppedForATracerThatEndsBeforeExitkillIsKilled() throws Exception {
        CompletableFuture<Integer> spawned = new CompletableFuture<>();
        Thread spawner = Thread.ofPlatform().start(() -> {
            try (Arena arena = Arena.ofConfined()) {
                int pid = Ptrace.spawn(GuestStub.path(), 0, GuestStub.FRAME_FD);
                int st = new Ptrace.Tracee(pid, arena).waitStatus();
                if (!Ptrace.stopped(st) || Ptrace.stopSig(st) != Ptrace.SIGSTOP) {
                    throw new AssertionError("the stub did not stop for its tracer: 0x" + Integer.toHexString(st));
                }
                spawned.complete(pid); // and the tracer thread ends with no option set
            } catch (Throwable t) {
                spawned.completeExceptionally(t);
            }
        });
        int pid;
        try {
            pid = spawned.get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError(e.getCause());
        }
        spawner.join();
        int st = endOf(pid);
        assertTrue(Ptrace.signaled(st), "the stub ended by a signal: 0x" + Integer.toHexString(st));
        assertEquals(Ptrace.SIGKILL, Ptrace.termSig(st));
    }

    @Test
    void aStubWhoseSpawnerIsNotItsParentEndsWithoutStopping() throws Exception {
        int pid = Ptrace.spawn(GuestStub.path(), 0, GuestStub.FRAME_FD, 1); // as if reparented to init: the spawner is gone
        int st = endOf(pid);
        assertTrue(Ptrace.exited(st), "the stub exited: 0x" + Integer.toHexString(st));
        assertEquals(127, Ptrace.exitCode(st));
    }
}
