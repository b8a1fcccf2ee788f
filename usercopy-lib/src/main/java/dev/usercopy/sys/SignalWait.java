package dev.usercopy.sys;

import java.nio.ByteBuffer;

import dev.usercopy.sys.Signals.SigInfo;
import dev.usercopy.uapi.Errno;

/**
 * Waiting for signals and looking at the pending ones: pause,
 * rt_sigsuspend, rt_sigtimedwait, rt_sigpending, as Linux's
 * kernel/signal.c. The waits block the task's tracer thread only
 * ({@link Task#block}); a signal that ends one is delivered by
 * {@link SignalDelivery#beforeResume} on the way back to the guest.
 */
final class SignalWait {
    private static final long UNBLOCKABLE = Signals.bit(Signals.SIGKILL) | Signals.bit(Signals.SIGSTOP);

    private SignalWait() {}

    static void register(Syscalls.Registry r) {
        r.add(34, "pause", "", SignalWait::pause);
        r.add(127, "rt_sigpending", "pu", SignalWait::rtSigpending);
        r.add(128, "rt_sigtimedwait", "pppu", SignalWait::rtSigtimedwait);
        r.add(130, "rt_sigsuspend", "pu", SignalWait::rtSigsuspend);
    }

    /** pause: until a signal is pending and not blocked; ERESTARTNOHAND (EINTR after a handler). */
    private static long pause(Task t) {
        t.block(() -> false, Long.MAX_VALUE, true);
        return -Signals.ERESTARTNOHAND;
    }

    /**
     * rt_sigsuspend(mask, size): size other than 8 is EINVAL, the mask read
     * (EFAULT) and put in place (never SIGKILL or SIGSTOP) until a signal
     * comes; ERESTARTNOHAND. The old mask comes back after the handler,
     * through its frame (or at once when no handler runs).
     */
    private static long rtSigsuspend(Task t) {
        if (t.arg(1) != Signals.SIGSET_SIZE) {
            return -Errno.EINVAL.number();
        }
        long mask = GuestMemory.read(t, t.arg(0), Signals.SIGSET_SIZE).getLong(0);
        t.signals().setTemporaryMask(mask & ~UNBLOCKABLE);
        t.block(() -> false, Long.MAX_VALUE, true);
        return -Signals.ERESTARTNOHAND;
    }

    /**
     * rt_sigpending(set, size): the signals pending and blocked; a size
     * above 8 is EINVAL, a smaller one gets that many bytes (Linux copies
     * sigsetsize bytes).
     */
    private static long rtSigpending(Task t) {
        long size = t.arg(1);
        if (Long.compareUnsigned(size, Signals.SIGSET_SIZE) > 0) {
            return -Errno.EINVAL.number();
        }
        Signals s = t.signals();
        long set = s.pending() & s.blocked();
        byte[] b = GuestMemory.struct(Signals.SIGSET_SIZE).putLong(0, set).array();
        GuestMemory.write(t, t.arg(0), java.util.Arrays.copyOf(b, (int) size));
        return 0;
    }

    /**
     * rt_sigtimedwait(set, info, timeout, size): size other than 8 is
     * EINVAL; the set read (EFAULT), the timeout read (EFAULT) and checked
     * (EINVAL); a pending signal of the set is taken at once, blocked or
     * not; else, unless the timeout is zero, the set is unblocked while the
     * task sleeps (and not ignored either: Linux's real_blocked), and one is
     * taken after. Its number, with its siginfo written (EFAULT); EAGAIN at
     * the timeout; EINTR when another signal came (never restarted).
     */
    private static long rtSigtimedwait(Task t) {
        if (t.arg(3) != Signals.SIGSET_SIZE) {
            return -Errno.EINVAL.number();
        }
        long wanted = GuestMemory.read(t, t.arg(0), Signals.SIGSET_SIZE).getLong(0) & ~UNBLOCKABLE;
        long timeout = Long.MAX_VALUE;
        if (t.arg(2) != 0) {
            long[] ts = GuestMemory.getTimespec(t, t.arg(2));
            if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1_000_000_000L) {
                return -Errno.EINVAL.number();
            }
            timeout = ts[0] >= Long.MAX_VALUE / 1_000_000_000L - 1 ? Long.MAX_VALUE : ts[0] * 1_000_000_000L + ts[1];
        }
        Signals s = t.signals();
        SigInfo info = s.dequeue(wanted);
        boolean interrupted = false;
        if (info == null && timeout != 0) {
            long before;
            synchronized (s) {
                before = s.blocked();
                s.setRealBlocked(before);
                s.setBlocked(before & ~wanted);
            }
            long deadline = timeout == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + timeout;
            try {
                interrupted = t.block(() -> false, deadline, true) == Task.Wake.INTERRUPTED;
            } finally {
                synchronized (s) {
                    s.setBlocked(before);
                    s.setRealBlocked(0);
                }
            }
            info = s.dequeue(wanted);
        }
        if (info == null) {
            return interrupted ? -Errno.EINTR.number() : -Errno.EAGAIN.number();
        }
        if (t.arg(1) != 0) {
            GuestMemory.write(t, t.arg(1), info.toBytes());
        }
        return info.signo();
    }
}
