package dev.usercopy.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sleeps sleep, an interrupt ends them as a signal would, and the CPU clocks are the guest's own. */
class TimeSyscallsTest {
    private static final long PAGE = 4096;

    private static long buffer(SysFixture f) {
        return f.call(9, 0, PAGE, 3, 0x22, -1, 0);
    }

    private static void put(SysFixture f, long addr, long... values) {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        assertEquals(0, f.space.copyToUser(addr, b.array(), 0, b.capacity()));
    }

    private static long get(SysFixture f, long addr) {
        byte[] b = new byte[8];
        assertEquals(0, f.space.copyFromUser(b, 0, addr, 8));
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    @Test
    void nanosleepSleepsAtLeastWhatItWasAsked() {
        try (SysFixture f = new SysFixture()) {
            long buf = buffer(f);
            put(f, buf, 0, 30_000_000);
            long t0 = System.nanoTime();
            assertEquals(0, f.call(35, buf, 0));
            assertTrue(System.nanoTime() - t0 >= 30_000_000, "slept " + (System.nanoTime() - t0) + " ns");
            // An absolute deadline on CLOCK_MONOTONIC 30 ms from now.
            assertEquals(0, f.call(228, 1, buf + 64));
            long sec = get(f, buf + 64);
            long nsec = get(f, buf + 72) + 30_000_000;
            put(f, buf + 128, sec + nsec / 1_000_000_000, nsec % 1_000_000_000);
            t0 = System.nanoTime();
            assertEquals(0, f.call(230, 1, 1, buf + 128, 0));
            assertTrue(System.nanoTime() - t0 >= 25_000_000, "slept " + (System.nanoTime() - t0) + " ns");
        }
    }

    @Test
    void anInterruptEndsASleepWithItsRestartCodeAndTheTimeLeft() throws Exception {
        try (SysFixture f = new SysFixture()) {
            long buf = buffer(f);
            put(f, buf, 10, 0);
            put(f, buf + 16, -1, -1);
            Thread sleeper = Thread.currentThread();
            Thread waker = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
                sleeper.interrupt();
            });
            long t0 = System.nanoTime();
            long r = f.call(35, buf, buf + 16);
            boolean stillInterrupted = Thread.interrupted();
            waker.join();
            assertEquals(-Signals.ERESTART_RESTARTBLOCK, r, "EINTR once a handler runs, else restart_syscall: the delivery's choice");
            assertTrue(stillInterrupted, "the interrupt is left for the caller to see");
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "ended early");
            long left = get(f, buf + 16) * 1_000_000_000L + get(f, buf + 24);
            assertTrue(left > 5_000_000_000L && left < 10_000_000_000L, "rem holds what was left: " + left);
        }
    }

    @Test
    void theCpuClocksAreTheChildsWhenThereIsOne() throws Exception {
        // A child that burns CPU for a while, then waits: its CPU clock is what the guest's reads.
        Process child = new ProcessBuilder("sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; exec sleep 30").start();
        try {
            long pid = child.pid();
            Path stat = Path.of("/proc/" + pid + "/schedstat");
            // Wait until it sleeps: its CPU time stops moving.
            long last = -1;
            for (int i = 0; i < 200; i++) {
                long now = Long.parseLong(Files.readAllLines(stat).getFirst().split(" ")[0]);
                if (now == last && now > 50_000_000L) {
                    break;
                }
                last = now;
                Thread.sleep(100);
            }
            try (SysFixture f = new SysFixture(); SysFixture withChild = new SysFixture((int) pid)) {
                long buf = buffer(withChild);
                assertEquals(0, withChild.call(228, 2, buf));
                long guest = get(withChild, buf) * 1_000_000_000L + get(withChild, buf + 8);
                long host = Long.parseLong(Files.readAllLines(stat).getFirst().split(" ")[0]);
                assertTrue(Math.abs(guest - host) < 5_000_000L, "CLOCK_PROCESS_CPUTIME_ID " + guest + " ns, the child's schedstat " + host + " ns");
                assertEquals(0, withChild.call(228, 3, buf), "CLOCK_THREAD_CPUTIME_ID");
                assertEquals(0, withChild.call(228, -6, buf), "the CPU clock of pid 0 is the caller's");
                assertEquals(-Errno.EINVAL.number(), withChild.call(228, ~7 << 3 | 2, buf), "another pid's CPU clock");
                long fbuf = buffer(f);
                assertEquals(0, f.call(228, 2, fbuf), "without a child: the serving JVM's");
            }
        } finally {
            child.destroyForcibly();
            child.waitFor();
        }
    }
}
