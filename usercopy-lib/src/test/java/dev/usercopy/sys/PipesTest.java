package dev.usercopy.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.HostFiles;
import dev.usercopy.uapi.Errno;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two guest tasks (a parent and its fork, each call on its own thread as
 * each guest process has its own tracer) over host pipes: a call that must
 * wait blocks only its own thread, goes on when the other task moves the
 * bytes, and ends with Linux's restart code when a signal is posted to its
 * task from another thread. What Linux does with that code (EINTR after a
 * handler without SA_RESTART, the call made again otherwise) is the
 * delivery's; the cases PipesOracleTest compares with the host kernel.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PipesTest extends SysScenario {
    static final int READ = 0;
    static final int WRITE = 1;
    static final int CLOSE = 3;
    static final int WRITEV = 20;
    static final int FCNTL = 72;
    static final int PIPE2 = 293;
    static final int SIGUSR1 = 10;
    static final int SIGUSR2 = 12;
    /** How long a call must stay blocked to count as waiting. */
    static final long SETTLE_MS = 300;

    private final java.util.List<Task> forks = new java.util.ArrayList<>();
    Task child;
    AddressSpace childSpace;
    private long childScratch = CHILD_SCRATCH;
    /** Where {@link #childBytes} puts the fork's own bytes: scratch pages the parent leaves alone. */
    static final long CHILD_SCRATCH = SCRATCH + 12 * PAGE;

    /** Forks the test's task as fork(2) would, with its descriptors as they are now: the second guest process. */
    Task forkTask() {
        childSpace = fork(as);
        child = task.forkChild(childSpace, files.copy());
        forks.add(child);
        return child;
    }

    /** Bytes in the fork's own memory; their guest address there. */
    long childBytes(byte[] b) {
        long at = childScratch;
        childScratch += (b.length + 7) & ~7;
        assertEquals(0, childSpace.copyToUser(at, b, 0, b.length));
        return at;
    }

    @AfterEach
    void closeForks() {
        for (Task t : forks) {
            t.releaseResources();
        }
        HostFiles.close(task.wakeFd()); // the scenario closes the rest of the test's task
    }

    /**
     * Syscall {@code nr} of {@code t}, on a thread of its own with a bound on
     * how long it may take: a call that waits when it should not fails the
     * test rather than hang it (a thread in a host wait cannot be stopped).
     */
    static long dispatch(Task t, int nr, long... args) {
        try {
            return result(start(t, nr, args));
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("syscall " + nr + " did not return", e);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Override
    long call(int nr, long... args) {
        return dispatch(task, nr, args);
    }

    /** Syscall {@code nr} of {@code t} on a thread of its own, as its tracer would serve it. */
    static CompletableFuture<Long> start(Task t, int nr, long... args) {
        CompletableFuture<Long> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                long[] a = java.util.Arrays.copyOf(args, 6);
                f.complete(Syscalls.dispatch(t, nr, a[0], a[1], a[2], a[3], a[4], a[5]));
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    static void assertWaits(CompletableFuture<Long> call, String what) throws InterruptedException {
        Thread.sleep(SETTLE_MS);
        assertFalse(call.isDone(), what + " returned " + (call.isDone() ? call.join() : null) + " instead of waiting");
    }

    static long result(CompletableFuture<Long> call) throws Exception {
        return call.get(10, TimeUnit.SECONDS);
    }

    private int[] pipe2(int flags) {
        long at = bytes(new byte[8]);
        assertEquals(0, call(PIPE2, at, flags));
        ByteBuffer b = ByteBuffer.wrap(guest(at, 8)).order(ByteOrder.LITTLE_ENDIAN);
        return new int[] {b.getInt(0), b.getInt(4)};
    }

    private static Signals.SigInfo user(int sig) {
        return new Signals.SigInfo(sig, Signals.SigInfo.SI_USER, 1, 0, 0, 0);
    }

    @Test
    void aReadOfAnEmptyPipeWaitsForTheOtherProcesssWrite() throws Exception {
        int[] p = pipe2(0);
        forkTask();
        Task parent = task;
        long buf = bytes(new byte[64]);
        CompletableFuture<Long> read = start(parent, READ, p[0], buf, 64);
        assertWaits(read, "a read of an empty pipe");
        assertEquals(5, dispatch(child, WRITE, p[1], childBytes("hello".getBytes()), 5));
        assertEquals(5, result(read));
        assertArrayEquals("hello".getBytes(), guest(buf, 5));
    }

    @Test
    void aSignalPostedFromAnotherThreadEndsAWaitingReadWithErestartsysAndLeavesThePipeAlone() throws Exception {
        int[] p = pipe2(0);
        forkTask();
        long buf = bytes(new byte[64]);
        CompletableFuture<Long> read = start(task, READ, p[0], buf, 64);
        assertWaits(read, "a read of an empty pipe");
        task.post(user(SIGUSR1));
        assertEquals(-Signals.ERESTARTSYS, result(read));
        // Made again after the delivery (SA_RESTART), it reads what comes.
        task.signals().dequeue();
        CompletableFuture<Long> again = start(task, READ, p[0], buf, 64);
        assertWaits(again, "the read made again");
        assertEquals(2, dispatch(child, WRITE, p[1], childBytes("hi".getBytes()), 2));
        assertEquals(2, result(again));
    }

    @Test
    void aBlockedSignalWakesTheTaskButDoesNotEndItsRead() throws Exception {
        int[] p = pipe2(0);
        forkTask();
        task.signals().setBlocked(Signals.bit(SIGUSR2));
        long buf = bytes(new byte[64]);
        CompletableFuture<Long> read = start(task, READ, p[0], buf, 64);
        assertWaits(read, "a read of an empty pipe");
        task.post(user(SIGUSR2));
        assertWaits(read, "a read with only a blocked signal pending");
        assertEquals(1, dispatch(child, WRITE, p[1], childBytes("x".getBytes()), 1));
        assertEquals(1, result(read));
    }

    @Test
    void bytesInThePipeAreReadThoughASignalIsPending() throws Exception {
        int[] p = pipe2(0);
        assertEquals(3, call(WRITE, p[1], bytes("abc".getBytes()), 3));
        task.post(user(SIGUSR1));
        assertEquals(3, call(READ, p[0], bytes(new byte[8]), 8), "Linux's pipe_read looks at signals only when it must wait");
        assertEquals(-Signals.ERESTARTSYS, call(READ, p[0], bytes(new byte[8]), 8), "and then it is interrupted at once");
    }

    @Test
    void theReaderGetsEndOfFileWhenTheLastWriterInEitherProcessCloses() throws Exception {
        int[] p = pipe2(0);
        Task forked = forkTask();
        {
            assertEquals(0, call(CLOSE, p[1]));
            long buf = bytes(new byte[8]);
            CompletableFuture<Long> read = start(task, READ, p[0], buf, 8);
            assertWaits(read, "a read while the fork still holds the write end");
            assertEquals(0, dispatch(forked, CLOSE, p[0]));
            assertWaits(read, "a read while the fork still holds the write end");
            assertEquals(0, dispatch(forked, CLOSE, p[1]));
            assertEquals(0, result(read), "end of file once the last write end is closed");
        }
    }

    @Test
    void aWriteLargerThanThePipeGoesOnAsTheOtherProcessReadsAndEveryByteArrivesInOrder() throws Exception {
        long seed = System.nanoTime();
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = 300_000; // more than a 64 KiB pipe holds
        long src = 0x800000;
        as.mmap(src, 80 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        byte[] data = new byte[n];
        rnd.nextBytes(data);
        assertEquals(0, as.copyToUser(src, data, 0, n));
        int[] p = pipe2(0);
        forkTask();
        long dst = 0xc00000;
        childSpace.mmap(dst, 80 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        CompletableFuture<Long> write = start(task, WRITE, p[1], src, n);
        assertWaits(write, "a write of more than the pipe holds, nobody reading");
        long got = 0;
        while (got < n) {
            long r = dispatch(child, READ, p[0], dst + got, Math.min(7000, n - got));
            assertTrue(r > 0, "read returned " + r + " after " + got + " (seed " + seed + ")");
            got += r;
        }
        assertEquals(n, result(write), "a blocking write returns when every byte is written (seed " + seed + ")");
        byte[] back = new byte[n];
        assertEquals(0, childSpace.copyFromUser(back, 0, dst, n));
        assertArrayEquals(data, back, "seed " + seed);
    }

    @Test
    void aWriteInterruptedAfterPartOfItReturnsThePartAndWithNothingWrittenErestartsys() throws Exception {
        int[] p = pipe2(0);
        long src = 0x800000;
        as.mmap(src, 64 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        int n = 100_000;
        CompletableFuture<Long> write = start(task, WRITE, p[1], src, n);
        assertWaits(write, "a write of more than the pipe holds");
        task.post(user(SIGUSR1));
        long r = result(write);
        assertTrue(r > 0 && r < n, "the count written before the signal, not an error: " + r);
        // The pipe is full now: a write that can move nothing is the restart code.
        assertEquals(-Signals.ERESTARTSYS, call(WRITE, p[1], src, 10));
    }

    @Test
    void writevGoesOnAcrossItsBuffersAfterAPartialWrite() throws Exception {
        int[] p = pipe2(0);
        forkTask();
        long a = 0x800000;
        as.mmap(a, 64 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        byte[] data = pattern(150_000, 3);
        assertEquals(0, as.copyToUser(a, data, 0, data.length));
        long iov = bytes(ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(0, a).putLong(8, 50_000).putLong(16, a + 50_000).putLong(24, 0).putLong(32, a + 50_000).putLong(40, 100_000).array());
        CompletableFuture<Long> write = start(task, WRITEV, p[1], iov, 3);
        assertWaits(write, "a writev of more than the pipe holds");
        long dst = 0xc00000;
        childSpace.mmap(dst, 64 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        long got = 0;
        while (got < data.length) {
            long r = dispatch(child, READ, p[0], dst + got, data.length - got);
            assertTrue(r > 0, "read " + r);
            got += r;
        }
        assertEquals(data.length, result(write));
        byte[] back = new byte[data.length];
        assertEquals(0, childSpace.copyFromUser(back, 0, dst, data.length));
        assertArrayEquals(data, back);
    }

    @Test
    void oNonblockAnswersEagainAtOnceAndClearingItMakesTheReadWaitAgain() throws Exception {
        int[] p = pipe2(0);
        forkTask();
        long buf = bytes(new byte[8]);
        assertEquals(0, call(FCNTL, p[0], HostFiles.F_SETFL, HostFiles.O_NONBLOCK));
        assertEquals(-Errno.EAGAIN.number(), call(READ, p[0], buf, 8));
        // The fork's descriptor shares the description, so its flag.
        assertEquals(HostFiles.O_NONBLOCK, dispatch(child, FCNTL, p[0], HostFiles.F_GETFL));
        assertEquals(-Errno.EAGAIN.number(), dispatch(child, READ, p[0], buf, 8));
        assertEquals(0, dispatch(child, FCNTL, p[0], HostFiles.F_SETFL, 0));
        CompletableFuture<Long> read = start(task, READ, p[0], buf, 8);
        assertWaits(read, "a read once O_NONBLOCK is cleared");
        task.post(user(SIGUSR1));
        assertEquals(-Signals.ERESTARTSYS, result(read));
    }

    @Test
    void aWriteToAPipeWithoutReadersIsEpipeAndPostsSigpipeEvenAfterAPartialCount() throws Exception {
        int[] p = pipe2(0);
        forkTask();
        long src = 0x800000;
        as.mmap(src, 64 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        task.signals().setBlocked(Signals.bit(Signals.SIGPIPE)); // pending, not interrupting: the write goes on waiting
        CompletableFuture<Long> write = start(task, WRITE, p[1], src, 100_000);
        assertWaits(write, "a write of more than the pipe holds");
        assertEquals(0, call(CLOSE, p[0]));
        assertEquals(0, dispatch(child, CLOSE, p[0]));
        long r = result(write);
        assertTrue(r > 0 && r < 100_000, "the part written before the readers went: " + r);
        assertTrue((task.signals().pending() & Signals.bit(Signals.SIGPIPE)) != 0, "SIGPIPE posted with the partial count, as pipe_write");
        task.signals().discard(Signals.SIGPIPE);
        assertEquals(-Errno.EPIPE.number(), call(WRITE, p[1], src, 1));
        Signals.SigInfo info = task.signals().dequeue();
        assertEquals(null, info, "blocked");
        task.signals().setBlocked(0);
        info = task.signals().dequeue();
        assertEquals(Signals.SIGPIPE, info.signo());
        assertEquals(Signals.SigInfo.SI_USER, info.code());
        assertEquals(task.pid(), info.pid(), "from the writer itself");
    }

    @Test
    void pollWaitsForTheOtherProcessAndASignalRestartsItThroughRestartSyscallWithItsDeadline() throws Exception {
        int[] p = pipe2(0);
        forkTask();
        long pf = bytes(PipesOracleTest.pollfd(p[0], PollTest.POLLIN));
        CompletableFuture<Long> poll = start(task, Poll.SYS_POLL, pf, 1, -1);
        assertWaits(poll, "a poll of an empty pipe");
        assertEquals(1, dispatch(child, WRITE, p[1], childBytes("x".getBytes()), 1));
        assertEquals(1, result(poll));
        assertEquals(1, call(READ, p[0], bytes(new byte[8]), 8));

        CompletableFuture<Long> timed = start(task, Poll.SYS_POLL, pf, 1, 1500);
        assertWaits(timed, "a poll with a timeout");
        long t0 = System.nanoTime();
        task.post(user(SIGUSR1));
        assertEquals(-Signals.ERESTART_RESTARTBLOCK, result(timed));
        task.signals().dequeue();
        long r = call(219); // restart_syscall, as the delivery makes the guest call it
        long waited = System.nanoTime() - t0;
        assertEquals(0, r, "timed out");
        assertTrue(waited < 1_400_000_000L, "restarted with what was left of its 1.5 s, not all of it: " + waited + " ns");
        assertEquals(-Errno.EINTR.number(), call(219), "nothing left to restart");
    }

    @Test
    void selectAndPselect6WaitForTheOtherProcessAndEndWithErestartnohand() throws Exception {
        int[] p = pipe2(0);
        forkTask();
        long rd = bytes(PipesOracleTest.set(p[0]));
        CompletableFuture<Long> select = start(task, Poll.SYS_SELECT, p[0] + 1, rd, 0, 0, 0);
        assertWaits(select, "a select of an empty pipe");
        assertEquals(1, dispatch(child, WRITE, p[1], childBytes("x".getBytes()), 1));
        assertEquals(1, result(select));
        assertEquals(1, call(READ, p[0], bytes(new byte[8]), 8));

        // pselect6 with SIGUSR1 blocked outside the call and not inside it: the classic race-free wait.
        task.signals().setBlocked(Signals.bit(SIGUSR1));
        long none = bytes(new byte[8]);
        long pack = bytes(ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, none).putLong(8, 8).array());
        long rd2 = bytes(PipesOracleTest.set(p[0]));
        long ts = bytes(PipesOracleTest.timeval(30, 0));
        CompletableFuture<Long> pselect = start(task, Poll.SYS_PSELECT6, p[0] + 1, rd2, 0, 0, ts, pack);
        assertWaits(pselect, "a pselect6 of an empty pipe");
        task.post(user(SIGUSR1));
        assertEquals(-Signals.ERESTARTNOHAND, result(pselect));
        assertEquals(PipesOracleTest.set(p[0])[0], guest(rd2, 1)[0], "the sets are left as they were when interrupted");
        long left = ByteBuffer.wrap(guest(ts, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertTrue(left >= 28 && left < 30, "the time left written back: " + left);
        assertEquals(0, task.signals().blocked(), "the call's mask stays for the delivery");
        assertEquals(Signals.bit(SIGUSR1), task.signals().maskToSave(), "the frame saves the mask from before the call");
    }

    @Test
    void aSleepEndsWhenASignalIsPostedWritesTheTimeLeftAndRestartSyscallSleepsOnlyTheRest() throws Exception {
        long req = bytes(PipesOracleTest.timeval(2, 0));
        long rem = bytes(new byte[16]);
        long t0 = System.nanoTime();
        CompletableFuture<Long> sleep = start(task, 35, req, rem);
        assertWaits(sleep, "nanosleep");
        task.post(user(SIGUSR1));
        assertEquals(-Signals.ERESTART_RESTARTBLOCK, result(sleep));
        ByteBuffer b = ByteBuffer.wrap(guest(rem, 16)).order(ByteOrder.LITTLE_ENDIAN);
        long left = b.getLong(0) * 1_000_000_000L + b.getLong(8);
        assertTrue(left > 0 && left < 2_000_000_000L, "rem: what was left, not the request: " + left);
        task.signals().dequeue();
        Thread.sleep(1000); // the restart comes late (a busy CPU): it still ends at the first deadline
        assertEquals(0, call(219));
        long slept = System.nanoTime() - t0;
        assertTrue(slept >= 2_000_000_000L && slept < 2_900_000_000L, "slept to the first deadline: " + slept + " ns");
    }
}
