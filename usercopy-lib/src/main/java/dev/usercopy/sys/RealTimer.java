package dev.usercopy.sys;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import dev.usercopy.uapi.Errno;

/**
 * A process's real-time interval timer (ITIMER_REAL): alarm, setitimer
 * and getitimer of it. At expiry the process gets SIGALRM (si_code
 * SI_KERNEL, as Linux's it_real_fn sends it), then again every interval.
 * A fork's child starts without one; an execve keeps it; the process's end
 * cancels it. ITIMER_VIRTUAL and ITIMER_PROF (CPU-time timers) are not
 * kept here: ENOSYS, so a program can tell.
 */
final class RealTimer {
    static final int ITIMER_REAL = 0;
    static final int ITIMER_VIRTUAL = 1;
    static final int ITIMER_PROF = 2;
    static final int SIGALRM = 14;
    private static final long NANOS = 1_000_000_000L;
    /** One daemon thread fires every guest's timers: a firing only posts a signal. */
    private static final ScheduledThreadPoolExecutor CLOCK = clock();

    private final Task task;
    private ScheduledFuture<?> next;
    /** System.nanoTime() of the next expiry; meaningless while {@link #next} is null. */
    private long expiry;
    private long interval;

    RealTimer(Task task) {
        this.task = task;
    }

    private static ScheduledThreadPoolExecutor clock() {
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "guest-itimer");
            t.setDaemon(true);
            return t;
        });
        e.setRemoveOnCancelPolicy(true);
        return e;
    }

    static void register(Syscalls.Registry r) {
        r.add(37, "alarm", "u", RealTimer::alarm);
        r.add(38, "setitimer", "dpp", RealTimer::setitimer);
        r.add(36, "getitimer", "dp", RealTimer::getitimer);
    }

    /** {value, interval} in nanoseconds: what is left to the next expiry (0: disarmed) and the period. */
    synchronized long[] get() {
        long left = next == null ? 0 : Math.max(1, expiry - System.nanoTime());
        return new long[] {next == null ? 0 : left, interval};
    }

    /** Arms the timer to fire in {@code value} ns, then every {@code interval} ns (value 0: disarms); the old setting. */
    synchronized long[] set(long value, long interval) {
        long[] old = get();
        if (next != null) {
            next.cancel(false);
            next = null;
        }
        this.interval = value == 0 ? 0 : interval;
        if (value > 0) {
            schedule(value);
        }
        return old;
    }

    private void schedule(long delay) {
        expiry = System.nanoTime() + delay;
        next = CLOCK.schedule(this::fire, delay, TimeUnit.NANOSECONDS);
    }

    private void fire() {
        synchronized (this) {
            if (interval > 0) {
                schedule(interval);
            } else {
                next = null;
            }
        }
        task.post(Signals.SigInfo.kernel(SIGALRM));
    }

    /** The process ended: nothing fires any more. */
    synchronized void cancel() {
        set(0, 0);
    }

    /** alarm(seconds): the timer set to fire once (0 disarms); the seconds that were left, rounded to nearest, at least 1 if armed. */
    private static long alarm(Task t) {
        long secs = Integer.toUnsignedLong(t.intArg(0));
        long[] old = t.realTimer().set(secs * NANOS, 0);
        if (old[0] == 0) {
            return 0;
        }
        long s = (old[0] + NANOS / 2) / NANOS;
        return Math.max(1, s);
    }

    /** setitimer: Linux's order: which (EINVAL), the new value read (EFAULT) and checked (EINVAL), then the old one written. */
    private static long setitimer(Task t) {
        int which = t.intArg(0);
        if (which != ITIMER_REAL) {
            return which == ITIMER_VIRTUAL || which == ITIMER_PROF ? -Errno.ENOSYS.number() : -Errno.EINVAL.number();
        }
        long value = 0;
        long interval = 0;
        if (t.arg(1) != 0) {
            java.nio.ByteBuffer b = GuestMemory.read(t, t.arg(1), 32);
            long[] iv = {b.getLong(0), b.getLong(8)};
            long[] v = {b.getLong(16), b.getLong(24)};
            if (!valid(iv) || !valid(v)) {
                return -Errno.EINVAL.number();
            }
            interval = nanos(iv);
            value = nanos(v);
        }
        long[] old = t.realTimer().set(value, interval);
        if (t.arg(2) != 0) {
            writeItimerval(t, t.arg(2), old);
        }
        return 0;
    }

    private static long getitimer(Task t) {
        int which = t.intArg(0);
        if (which != ITIMER_REAL) {
            return which == ITIMER_VIRTUAL || which == ITIMER_PROF ? -Errno.ENOSYS.number() : -Errno.EINVAL.number();
        }
        writeItimerval(t, t.arg(1), t.realTimer().get());
        return 0;
    }

    private static boolean valid(long[] tv) {
        return tv[0] >= 0 && tv[1] >= 0 && tv[1] < 1_000_000;
    }

    private static long nanos(long[] tv) {
        return tv[0] > Long.MAX_VALUE / NANOS - 1 ? Long.MAX_VALUE / 2 : tv[0] * NANOS + tv[1] * 1000;
    }

    /** struct itimerval: {interval, value}, each a timeval; a value left is rounded up to a microsecond. */
    private static void writeItimerval(Task t, long addr, long[] v) {
        long value = (v[0] + 999) / 1000;
        long interval = (v[1] + 999) / 1000;
        GuestMemory.write(t, addr, GuestMemory.struct(32).putLong(0, interval / 1_000_000).putLong(8, interval % 1_000_000)
                .putLong(16, value / 1_000_000).putLong(24, value % 1_000_000));
    }
}
