package dev.usercopy.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.usercopy.platform.HostFiles;
import dev.usercopy.uaccess.UserSlice;
import dev.usercopy.uapi.Errno;

import static dev.usercopy.sys.HostWait.POLLERR;
import static dev.usercopy.sys.HostWait.POLLHUP;
import static dev.usercopy.sys.HostWait.POLLIN;
import static dev.usercopy.sys.HostWait.POLLOUT;
import static dev.usercopy.sys.HostWait.POLLPRI;

/**
 * poll, ppoll, select and pselect6 on the guest's descriptors, which are
 * host files: the host's own poll on the host descriptors and the task's
 * wake descriptor ({@link HostWait#pollWoken}), so a wait blocks only this
 * guest's tracer thread and ends when a signal comes.
 *
 * <p>Linux's do_poll and do_select order: the descriptors are looked at
 * first (ready ones win over a pending signal), then a pending signal
 * interrupts (even with a zero timeout), then the timeout ends the call. An
 * interrupted poll is restarted with the time left ({@code restart_syscall});
 * ppoll, select and pselect6 write the time left back to the guest's
 * timeout and are restarted with it. A timeout is on CLOCK_MONOTONIC.
 */
final class Poll {
    static final int SYS_POLL = 7;
    static final int SYS_SELECT = 23;
    static final int SYS_PSELECT6 = 270;
    static final int SYS_PPOLL = 271;
    /** Linux's select sets: what readiness sets a bit of each. */
    static final short POLLIN_SET = 0x40 | 0x80 | POLLIN | POLLHUP | POLLERR; // RDNORM | RDBAND | IN | HUP | ERR
    static final short POLLOUT_SET = 0x200 | 0x100 | POLLOUT | POLLERR; // WRBAND | WRNORM | OUT | ERR
    static final short POLLEX_SET = POLLPRI;
    private static final long NANOS = 1_000_000_000L;
    /** A deadline meaning "do not wait" (a zero timeout). */
    private static final long NOW = Long.MIN_VALUE;
    /** A deadline meaning "no timeout". */
    private static final long NEVER = Long.MAX_VALUE;

    private Poll() {}

    static void register(Syscalls.Registry r) {
        r.add(SYS_POLL, "poll", "pud", Poll::poll);
        r.add(SYS_PPOLL, "ppoll", "puppu", Poll::ppoll);
        r.add(SYS_SELECT, "select", "dpppp", Poll::select);
        r.add(SYS_PSELECT6, "pselect6", "dppppp", Poll::pselect6);
    }

    /** The result of a wait: ready entries, or -ERESTARTNOHAND when a signal came first. */
    private static final long INTERRUPTED = -Signals.ERESTARTNOHAND;

    private static long poll(Task t) {
        long ufds = t.arg(0);
        long nfds = t.arg(1);
        int ms = t.intArg(2);
        long deadline = ms < 0 ? NEVER : ms == 0 ? NOW : System.nanoTime() + ms * 1_000_000L;
        return restartablePoll(t, ufds, nfds, deadline);
    }

    /** sys_poll and do_restart_poll: interrupted, it is restarted through restart_syscall with its first deadline. */
    private static long restartablePoll(Task t, long ufds, long nfds, long deadline) {
        long r = doSysPoll(t, ufds, nfds, deadline);
        if (r == INTERRUPTED) {
            t.signals().setRestart(task -> restartablePoll(task, ufds, nfds, deadline));
            return -Signals.ERESTART_RESTARTBLOCK;
        }
        return r;
    }

    /**
     * Linux's order: the timespec (EFAULT, then EINVAL), the mask (EINVAL
     * for a sigsetsize other than 8, EFAULT), then the poll; the mask is the
     * call's until it ends, and the time left is written back.
     */
    private static long ppoll(Task t) {
        long tsp = t.arg(2);
        long deadline = tsp == 0 ? NEVER : deadline(GuestMemory.getTimespec(t, tsp));
        if (deadline == Long.MIN_VALUE + 1) {
            return -Errno.EINVAL.number();
        }
        long r = withMask(t, t.arg(3), t.arg(4), () -> errno(() -> doSysPoll(t, t.arg(0), t.arg(1), deadline)));
        return finish(t, deadline, tsp, false, r);
    }

    /** Linux's do_sys_poll: more entries than RLIMIT_NOFILE is EINVAL; the revents are written back, interrupted or not. */
    private static long doSysPoll(Task t, long ufds, long nfds, long deadline) {
        if (nfds < 0 || nfds > t.files().limit()) {
            return -Errno.EINVAL.number();
        }
        int n = (int) nfds;
        byte[] guest = n == 0 ? new byte[0] : UserSlice.ro(t.space(), ufds, 8L * n).toByteArray();
        ByteBuffer g = ByteBuffer.wrap(guest).order(ByteOrder.LITTLE_ENDIAN);
        byte[] host = new byte[8 * n];
        ByteBuffer h = ByteBuffer.wrap(host).order(ByteOrder.LITTLE_ENDIAN);
        int invalid = 0;
        for (int i = 0; i < n; i++) {
            int fd = g.getInt(8 * i);
            int hostFd = -1;
            if (fd >= 0) {
                if (t.files().isOpen(fd)) {
                    hostFd = t.files().get(fd).hostFd();
                } else {
                    invalid++;
                }
            }
            h.putInt(8 * i, hostFd).putShort(8 * i + 4, g.getShort(8 * i + 4));
        }
        long r = await(t, host, n, deadline, invalid);
        if (r < 0 && r != INTERRUPTED) {
            return r;
        }
        for (int i = 0; i < n; i++) {
            int fd = g.getInt(8 * i);
            short revents = fd < 0 || r == INTERRUPTED ? 0 : !t.files().isOpen(fd) ? HostFiles.POLLNVAL : h.getShort(8 * i + 6);
            g.putShort(8 * i + 6, revents);
        }
        if (n > 0) {
            UserSlice.wo(t.space(), ufds, 8L * n).copyFromSlice(guest);
        }
        return r == INTERRUPTED ? r : r + invalid;
    }

    /**
     * Waits on the host entries: the count of ready ones as soon as there
     * are any ({@code extra} more counted ready already), else
     * {@link #INTERRUPTED} when the task is, else 0 once the deadline is
     * past. Between looks, the host's poll sleeps with the task's wake.
     */
    private static long await(Task t, byte[] host, int n, long deadline, int extra) {
        int wait = 0; // the first look does not sleep
        while (true) {
            for (int i = 0; i < n; i++) {
                host[8 * i + 6] = 0;
                host[8 * i + 7] = 0;
            }
            long r = HostWait.pollWoken(t, host, n, wait);
            if (r < 0 && r != -Errno.EINTR.number()) {
                return r;
            }
            if (r > 0 || extra > 0) {
                return Math.max(r, 0);
            }
            if (t.interrupted()) {
                return INTERRUPTED;
            }
            if (deadline == NOW) {
                return 0;
            }
            if (deadline == NEVER) {
                wait = -1;
            } else {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return 0;
                }
                wait = (int) Math.min((left + 999_999) / 1_000_000, Integer.MAX_VALUE);
            }
        }
    }

    /** select with a struct timeval: seconds, and microseconds that may run past a second (EINVAL only when negative). */
    private static long select(Task t) {
        long tvp = t.arg(4);
        long deadline = NEVER;
        if (tvp != 0) {
            ByteBuffer tv = GuestMemory.read(t, tvp, 16);
            long sec = tv.getLong(0);
            long usec = tv.getLong(8);
            deadline = deadline(new long[] {sec + usec / 1_000_000, usec % 1_000_000 * 1000});
            if (deadline == Long.MIN_VALUE + 1) {
                return -Errno.EINVAL.number();
            }
        }
        long d = deadline;
        long r = errno(() -> coreSysSelect(t, t.intArg(0), t.arg(1), t.arg(2), t.arg(3), d));
        return finish(t, deadline, tvp, true, r);
    }

    /**
     * pselect6's sixth argument points to {sigset pointer, sigsetsize}, read
     * first (EFAULT); then the timespec, then the mask, as ppoll.
     */
    private static long pselect6(Task t) {
        long maskAddr = 0;
        long maskSize = 0;
        if (t.arg(5) != 0) {
            ByteBuffer pack = GuestMemory.read(t, t.arg(5), 16);
            maskAddr = pack.getLong(0);
            maskSize = pack.getLong(8);
        }
        long tsp = t.arg(4);
        long deadline = NEVER;
        if (tsp != 0) {
            deadline = deadline(GuestMemory.getTimespec(t, tsp));
            if (deadline == Long.MIN_VALUE + 1) {
                return -Errno.EINVAL.number();
            }
        }
        long d = deadline;
        long r = withMask(t, maskAddr, maskSize, () -> errno(() -> coreSysSelect(t, t.intArg(0), t.arg(1), t.arg(2), t.arg(3), d)));
        return finish(t, deadline, tsp, false, r);
    }

    /**
     * Linux's core_sys_select: a negative count is EINVAL, a larger one than
     * the table is cut to it; the three sets are read (EFAULT), a set bit of
     * a descriptor not open is EBADF; each ready descriptor sets its bit in
     * each set it was asked in, and counts once a bit; the sets are written
     * back unless the call was interrupted.
     */
    private static long coreSysSelect(Task t, int nfds, long in, long out, long ex, long deadline) {
        if (nfds < 0) {
            return -Errno.EINVAL.number();
        }
        int n = Math.min(nfds, t.files().limit());
        int bytes = (n + 63) / 64 * 8;
        long[][] sets = {readSet(t, in, bytes), readSet(t, out, bytes), readSet(t, ex, bytes)};
        int count = 0;
        int[] fds = new int[n];
        for (int fd = 0; fd < n; fd++) {
            if (bit(sets[0], fd) || bit(sets[1], fd) || bit(sets[2], fd)) {
                if (!t.files().isOpen(fd)) {
                    return -Errno.EBADF.number();
                }
                fds[count++] = fd;
            }
        }
        byte[] host = new byte[8 * count];
        ByteBuffer h = ByteBuffer.wrap(host).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            int fd = fds[i];
            short events = (short) ((bit(sets[0], fd) ? POLLIN_SET : 0) | (bit(sets[1], fd) ? POLLOUT_SET : 0) | (bit(sets[2], fd) ? POLLEX_SET : 0));
            h.putInt(8 * i, t.files().get(fd).hostFd()).putShort(8 * i + 4, events);
        }
        long r = await(t, host, count, deadline, 0);
        if (r < 0) {
            return r;
        }
        long[][] res = {new long[bytes / 8], new long[bytes / 8], new long[bytes / 8]};
        short[] kinds = {POLLIN_SET, POLLOUT_SET, POLLEX_SET};
        long ready = 0;
        for (int i = 0; i < count; i++) {
            int fd = fds[i];
            short revents = h.getShort(8 * i + 6);
            for (int k = 0; k < 3; k++) {
                if (bit(sets[k], fd) && (revents & kinds[k]) != 0) {
                    res[k][fd / 64] |= 1L << (fd % 64);
                    ready++;
                }
            }
        }
        long[] addrs = {in, out, ex};
        for (int k = 0; k < 3; k++) {
            if (addrs[k] != 0 && bytes > 0) {
                ByteBuffer b = GuestMemory.struct(bytes);
                for (int w = 0; w < bytes / 8; w++) {
                    b.putLong(8 * w, res[k][w]);
                }
                GuestMemory.write(t, addrs[k], b);
            }
        }
        return ready;
    }

    private static long[] readSet(Task t, long addr, int bytes) {
        long[] set = new long[bytes / 8];
        if (addr != 0 && bytes > 0) {
            ByteBuffer b = GuestMemory.read(t, addr, bytes);
            for (int w = 0; w < set.length; w++) {
                set[w] = b.getLong(8 * w);
            }
        }
        return set;
    }

    private static boolean bit(long[] set, int fd) {
        return (set[fd / 64] & 1L << (fd % 64)) != 0;
    }

    /**
     * Linux's poll_select_set_timeout: the deadline of a timeout
     * {sec, nsec} on System.nanoTime (saturated), {@link #NOW} for a zero
     * one, {@code Long.MIN_VALUE + 1} for an invalid one (EINVAL).
     */
    private static long deadline(long[] ts) {
        if (ts[0] < 0 || ts[1] < 0 || ts[1] >= NANOS) {
            return Long.MIN_VALUE + 1;
        }
        if (ts[0] == 0 && ts[1] == 0) {
            return NOW;
        }
        long ns = ts[0] > (Long.MAX_VALUE - ts[1]) / NANOS ? Long.MAX_VALUE : ts[0] * NANOS + ts[1];
        long now = System.nanoTime();
        return ns >= NEVER - now - 1 ? NEVER - 1 : now + ns;
    }

    /**
     * Linux's poll_select_finish: the time left is written back to the
     * guest's timeout (not for a zero or absent one), as a timeval for
     * select; a fault there is no error, but makes an interrupted call EINTR
     * rather than a restart with the old timeout.
     */
    private static long finish(Task t, long deadline, long addr, boolean timeval, long r) {
        if (addr == 0 || deadline == NOW) {
            return r;
        }
        long left = deadline == NEVER ? 0 : Math.max(0, deadline - System.nanoTime());
        long sec = left / NANOS;
        long sub = timeval ? left % NANOS / 1000 : left % NANOS;
        try {
            GuestMemory.write(t, addr, GuestMemory.struct(16).putLong(0, sec).putLong(8, sub));
        } catch (dev.usercopy.mm.ErrnoException e) {
            return r == INTERRUPTED ? -Errno.EINTR.number() : r;
        }
        return r;
    }

    /** The call's result, a fault in it as its -errno: the time left is still written back after it, as Linux does. */
    private static long errno(java.util.function.LongSupplier call) {
        try {
            return call.getAsLong();
        } catch (dev.usercopy.mm.ErrnoException e) {
            return -e.errno().number();
        }
    }

    /**
     * Runs {@code call} under the guest's mask at {@code maskAddr} (none
     * when 0): Linux's set_user_sigmask before, restore_saved_sigmask_unless
     * after (an interrupted call keeps the saved mask for the delivery).
     */
    private static long withMask(Task t, long maskAddr, long size, java.util.function.LongSupplier call) {
        if (maskAddr == 0) {
            return call.getAsLong();
        }
        if (size != Signals.SIGSET_SIZE) {
            throw new dev.usercopy.mm.ErrnoException(Errno.EINVAL, maskAddr, size, "sigsetsize " + size + " is not " + Signals.SIGSET_SIZE);
        }
        long mask = GuestMemory.read(t, maskAddr, Signals.SIGSET_SIZE).getLong(0);
        t.signals().setTemporaryMask(mask);
        long r;
        try {
            r = call.getAsLong();
        } catch (RuntimeException e) {
            t.signals().endTemporaryMask(true);
            throw e;
        }
        if (r != INTERRUPTED) {
            t.signals().endTemporaryMask(true);
        }
        return r;
    }
}
