package dev.usercopy.sys;

import dev.usercopy.platform.HostSystem;
import dev.usercopy.uapi.Errno;

/**
 * The clocks and sleeps, all from the host's clocks. Without a vDSO a C
 * library makes these as real syscalls, so they are frequent and cheap.
 *
 * <p>The clock ids are Linux's 0..11 but 10 (CLOCK_SGI_CYCLE, gone); each is
 * read from the host's clock of the same id, except the CPU-time clocks,
 * which are the guest's: the host child's ({@link Task.Cpu#hostPid}). Of
 * the negative ids, the CPU clocks of process 0 (the caller) and of the
 * guest's own pid are its own; another process's, or a clock file
 * descriptor's, are EINVAL: the guest has no other process and no such
 * descriptor.
 *
 * <p>A sleep waits on its task ({@link Task#block}), so a signal posted to
 * it, or an interrupt of its thread (a guest killed from outside), ends the
 * sleep with Linux's restart code and the time left.
 */
final class Time {
    static final int CLOCK_REALTIME = 0;
    static final int CLOCK_MONOTONIC = 1;
    static final int CLOCK_PROCESS_CPUTIME_ID = 2;
    static final int CLOCK_THREAD_CPUTIME_ID = 3;
    static final int CLOCK_MONOTONIC_RAW = 4;
    static final int CLOCK_REALTIME_COARSE = 5;
    static final int CLOCK_MONOTONIC_COARSE = 6;
    static final int CLOCK_BOOTTIME = 7;
    static final int CLOCK_REALTIME_ALARM = 8;
    static final int CLOCK_BOOTTIME_ALARM = 9;
    static final int CLOCK_TAI = 11;
    static final int TIMER_ABSTIME = 1;
    private static final long NANOS = 1_000_000_000L;

    private Time() {}

    static void register(Syscalls.Registry r) {
        r.add(228, "clock_gettime", "dp", Time::clockGettime);
        r.add(229, "clock_getres", "dp", Time::clockGetres);
        r.add(96, "gettimeofday", "pp", Time::gettimeofday);
        r.add(201, "time", "p", Time::time);
        r.add(35, "nanosleep", "pp", Time::nanosleep);
        r.add(230, "clock_nanosleep", "ddpp", Time::clockNanosleep);
    }

    private static boolean known(int clock) {
        return clock >= 0 && clock <= CLOCK_TAI && clock != 10;
    }

    /** Linux's CLOCKFD: a negative id naming a clock file descriptor. */
    private static boolean fdClock(int clock) {
        return clock < 0 && (clock & 7) == 3;
    }

    /**
     * The host clock id that is the guest's {@code clock}, or
     * {@link Integer#MIN_VALUE} when the guest has no such clock. Its own CPU
     * clocks (2, 3, and the negative ids of process 0 or of itself) are its
     * child's.
     */
    static int hostClock(Task t, int clock) {
        int which;
        if (clock >= 0) {
            if (!known(clock)) {
                return Integer.MIN_VALUE;
            }
            if (clock != CLOCK_PROCESS_CPUTIME_ID && clock != CLOCK_THREAD_CPUTIME_ID) {
                return clock;
            }
            which = clock == CLOCK_THREAD_CPUTIME_ID ? 4 | 2 : 2; // CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED
        } else {
            int pid = ~(clock >> 3); // CPUCLOCK_PID
            if (fdClock(clock) || (clock & 3) == 3 || pid != 0 && pid != t.pid()) {
                return Integer.MIN_VALUE;
            }
            which = clock & 7;
        }
        int hostPid = t.cpu().hostPid();
        if (hostPid <= 0) {
            return ~0 << 3 | which; // pid 0: the caller, the serving thread or the JVM
        }
        // MAKE_PROCESS_CPUCLOCK of the child. Linux lets a process read only its own threads' clocks,
        // and the guest is one thread: its thread clock is its process clock.
        return ~hostPid << 3 | (which & 3);
    }

    /** The time of {@code clock} as {sec, nsec}, or null when the guest or the host has no such clock. */
    private static long[] now(Task t, int clock) {
        int host = hostClock(t, clock);
        long[] ts = new long[2];
        return host != Integer.MIN_VALUE && HostSystem.clockGettime(host, ts) == 0 ? ts : null;
    }

    private static long clockGettime(Task t) {
        long[] ts = now(t, t.intArg(0));
        if (ts == null) {
            return -Errno.EINVAL.number();
        }
        GuestMemory.putTimespec(t, t.arg(1), ts[0], ts[1]);
        return 0;
    }

    /** A NULL {@code res} only checks the clock. */
    private static long clockGetres(Task t) {
        int host = hostClock(t, t.intArg(0));
        long[] ts = new long[2];
        if (host == Integer.MIN_VALUE || HostSystem.clockGetres(host, ts) != 0) {
            return -Errno.EINVAL.number();
        }
        if (t.arg(1) != 0) {
            GuestMemory.putTimespec(t, t.arg(1), ts[0], ts[1]);
        }
        return 0;
    }

    /** The seconds, then the microseconds, each its own put_user; a NULL {@code tz} is skipped, else gets the kernel's zone (0, 0). */
    private static long gettimeofday(Task t) {
        if (t.arg(0) != 0) {
            long[] ts = now(t, CLOCK_REALTIME);
            GuestMemory.putLong(t, t.arg(0), ts[0]);
            GuestMemory.putLong(t, t.arg(0) + 8, ts[1] / 1000);
        }
        if (t.arg(1) != 0) {
            GuestMemory.write(t, t.arg(1), new byte[8]); // struct timezone: minuteswest, dsttime, never set here
        }
        return 0;
    }

    private static long time(Task t) {
        long sec = now(t, CLOCK_REALTIME)[0];
        if (t.arg(0) != 0) {
            GuestMemory.putLong(t, t.arg(0), sec);
        }
        return sec;
    }

    /** timespec64_valid: a non-negative second count and nanoseconds below a second. */
    private static boolean valid(long[] ts) {
        return ts[0] >= 0 && ts[1] >= 0 && ts[1] < NANOS;
    }

    private static long nanosleep(Task t) {
        long[] req = GuestMemory.getTimespec(t, t.arg(0));
        if (!valid(req)) {
            return -Errno.EINVAL.number();
        }
        return sleep(t, CLOCK_MONOTONIC, false, req, t.arg(1));
    }

    /**
     * Linux's order: the clock (EINVAL), whether it can sleep (EOPNOTSUPP
     * for the thread CPU clock and the raw and coarse ones), the request
     * (EFAULT, then EINVAL). The alarm clocks need a wake-up source
     * (EOPNOTSUPP), no flag but TIMER_ABSTIME (EINVAL) and CAP_WAKE_ALARM
     * (EPERM unless root); then they sleep as their base clock. TIMER_ABSTIME never writes {@code rem}.
     */
    private static long clockNanosleep(Task t) {
        int clock = t.intArg(0);
        if (fdClock(clock)) {
            return -Errno.EOPNOTSUPP.number(); // a clock file descriptor cannot be slept on
        }
        if (clock >= 0 && !known(clock)) {
            return -Errno.EINVAL.number();
        }
        if (clock == CLOCK_THREAD_CPUTIME_ID || clock == CLOCK_MONOTONIC_RAW || clock == CLOCK_REALTIME_COARSE || clock == CLOCK_MONOTONIC_COARSE) {
            return -Errno.EOPNOTSUPP.number();
        }
        boolean abs = (t.intArg(1) & TIMER_ABSTIME) != 0;
        long[] req = GuestMemory.getTimespec(t, t.arg(2));
        if (!valid(req)) {
            return -Errno.EINVAL.number();
        }
        if (clock < 0 && ((clock & 4) != 0 || hostClock(t, clock) == Integer.MIN_VALUE)) {
            return -Errno.EINVAL.number(); // a thread's CPU clock cannot be slept on, nor another process's
        }
        if (clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM) {
            if (HostSystem.clockGetres(clock, new long[2]) != 0) {
                return -Errno.EOPNOTSUPP.number(); // no RTC to wake the machine
            }
            if ((t.intArg(1) & ~TIMER_ABSTIME) != 0) {
                return -Errno.EINVAL.number();
            }
            if (HostSystem.getresuid()[1] != 0) {
                return -Errno.EPERM.number();
            }
            clock = clock == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : CLOCK_BOOTTIME;
        }
        return sleep(t, clock, abs, req, abs ? 0 : t.arg(3));
    }

    /**
     * Sleeps until {@code clock} reaches the deadline, re-reading the clock
     * after each wait (a wall clock may jump, a CPU clock runs slower than
     * time). Linux's hrtimer_nanosleep when a signal comes (or the guest is
     * killed): an absolute sleep is ERESTARTNOHAND (made again as it was); a
     * relative one writes the time left to {@code rem} when not NULL
     * (EFAULT if it cannot) and is ERESTART_RESTARTBLOCK, restarted by
     * restart_syscall towards the same deadline.
     */
    private static long sleep(Task t, int clock, boolean abs, long[] req, long rem) {
        long[] start = now(t, clock);
        if (start == null) {
            return -Errno.EINVAL.number();
        }
        long deadline = abs ? nanos(req) : saturatedAdd(nanos(start), nanos(req));
        return sleepUntil(t, clock, abs, deadline, rem);
    }

    private static long sleepUntil(Task t, int clock, boolean abs, long deadline, long rem) {
        while (true) {
            long left = deadline - nanos(now(t, clock));
            if (left <= 0) {
                return 0;
            }
            // Look at the clock again at least every 100 ms: a wall clock can be set.
            if (t.block(() -> false, System.nanoTime() + Math.min(left, NANOS / 10), true) != Task.Wake.INTERRUPTED) {
                continue;
            }
            if (abs) {
                return -Signals.ERESTARTNOHAND;
            }
            left = deadline - nanos(now(t, clock));
            if (left <= 0) {
                return 0;
            }
            if (rem != 0) {
                GuestMemory.putTimespec(t, rem, left / NANOS, left % NANOS);
            }
            t.signals().setRestart(task -> sleepUntil(task, clock, false, deadline, rem));
            return -Signals.ERESTART_RESTARTBLOCK;
        }
    }

    private static long nanos(long[] ts) {
        return ts[0] > Long.MAX_VALUE / NANOS - 1 ? Long.MAX_VALUE : ts[0] * NANOS + ts[1];
    }

    private static long saturatedAdd(long a, long b) {
        long s = a + b;
        return ((a ^ s) & (b ^ s)) < 0 ? Long.MAX_VALUE : s;
    }
}
