package dev.usercopy.sys;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.Grant;
import dev.usercopy.uapi.Errno;

/**
 * futex(2): FUTEX_WAIT, FUTEX_WAKE and their bitset forms, as Linux's
 * kernel/futex serves them; the C library needs them even in a process of
 * one thread (its locks wake a waiter that is never there). A guest
 * process has one thread, so a futex is waited for by another process
 * sharing its memory: a futex in a {@code MAP_SHARED} page is keyed by its
 * frame (as Linux keys a shared mapping by what it maps), any other by
 * its address space and address. The other operations (requeue, wake-op,
 * priority inheritance) serve threads: ENOSYS.
 *
 * <p>Linux's order: the timeout (EFAULT, then EINVAL) for the operations
 * that take one; FUTEX_CLOCK_REALTIME with any operation but
 * FUTEX_WAIT_BITSET (ENOSYS); a zero bitset (EINVAL); a misaligned address
 * (EINVAL); the word (EFAULT); for a wait, a word that is not the expected
 * value (EAGAIN). The word is read and the waiter queued under the table's
 * lock that a wake takes, so a wake after the guest's store is never lost.
 */
final class Futex {
    static final int FUTEX_WAIT = 0;
    static final int FUTEX_WAKE = 1;
    static final int FUTEX_WAIT_BITSET = 9;
    static final int FUTEX_WAKE_BITSET = 10;
    static final int FUTEX_LOCK_PI = 6;
    static final int FUTEX_WAIT_REQUEUE_PI = 11;
    static final int FUTEX_LOCK_PI2 = 13;
    static final int FUTEX_PRIVATE_FLAG = 128;
    static final int FUTEX_CLOCK_REALTIME = 256;
    static final int FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    static final int BITSET_MATCH_ANY = -1;
    private static final long NANOS = 1_000_000_000L;

    private Futex() {}

    static void register(Syscalls.Registry r) {
        r.add(202, "futex", "pxxpxx", Futex::futex);
    }

    /** What a futex is known by: a frame and offset for shared memory, else an address space and address. */
    private record Key(Object where, long offset) {}

    /** One process waiting; {@link #woken} is set under the table's lock. */
    private static final class Waiter {
        final Task task;
        final int bitset;
        boolean woken;

        Waiter(Task task, int bitset) {
            this.task = task;
            this.bitset = bitset;
        }
    }

    /** The waiters of one tree of processes, by key. */
    static final class Table {
        private final Map<Key, List<Waiter>> waiters = new HashMap<>();
    }

    private static long futex(Task t) {
        long uaddr = t.arg(0);
        int op = t.intArg(1);
        int val = t.intArg(2);
        long utime = t.arg(3);
        int val3 = t.intArg(5);
        int cmd = op & FUTEX_CMD_MASK;
        boolean timed = cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2
                || cmd == FUTEX_WAIT_REQUEUE_PI;
        long deadline = Long.MAX_VALUE; // on the clock below, in ns
        int clock = (op & FUTEX_CLOCK_REALTIME) != 0 ? Time.CLOCK_REALTIME : Time.CLOCK_MONOTONIC;
        if (utime != 0 && timed) {
            long[] ts = GuestMemory.getTimespec(t, utime);
            if (ts[0] < 0 || ts[1] < 0 || ts[1] >= NANOS) {
                return -Errno.EINVAL.number();
            }
            deadline = nanos(ts);
            if (cmd == FUTEX_WAIT) {
                // FUTEX_WAIT's timeout is relative, on the monotonic clock whatever the flag says
                clock = Time.CLOCK_MONOTONIC;
                deadline = saturatedAdd(now(clock), deadline);
            }
        }
        if ((op & FUTEX_CLOCK_REALTIME) != 0 && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT_REQUEUE_PI && cmd != FUTEX_LOCK_PI2) {
            return -Errno.ENOSYS.number();
        }
        return switch (cmd) {
            case FUTEX_WAIT -> wait(t, uaddr, op, val, BITSET_MATCH_ANY, clock, deadline);
            case FUTEX_WAIT_BITSET -> wait(t, uaddr, op, val, val3, clock, deadline);
            case FUTEX_WAKE -> wake(t, uaddr, op, val, BITSET_MATCH_ANY);
            case FUTEX_WAKE_BITSET -> wake(t, uaddr, op, val, val3);
            default -> -Errno.ENOSYS.number();
        };
    }

    /**
     * The key of the 32-bit word at {@code uaddr} (aligned): a futex
     * without FUTEX_PRIVATE_FLAG needs its page mapped (EFAULT, as
     * get_futex_key's page lookup), and in shared memory is keyed by frame.
     */
    private static Key key(Task t, long uaddr, int op) {
        AddressSpace space = t.space();
        if ((op & FUTEX_PRIVATE_FLAG) == 0) {
            Grant grant = null;
            for (Grant g : space.grants()) {
                if (uaddr >= g.start() * AddressSpace.PAGE && uaddr < g.end() * AddressSpace.PAGE) {
                    grant = g;
                }
            }
            if (grant == null || !space.resolve(uaddr, false)) {
                throw new ErrnoException(Errno.EFAULT, uaddr, 4, "futex word not mapped");
            }
            long[] frame = grant.provider().shared() ? space.frameOf(uaddr) : null;
            if (frame != null) {
                return new Key(FRAMES, frame[0] * AddressSpace.PAGE + uaddr % AddressSpace.PAGE);
            }
        }
        return new Key(space, uaddr);
    }

    /** The key of a futex in shared memory names this, with the frame's byte address. */
    private static final Object FRAMES = new Object();

    private static long wait(Task t, long uaddr, int op, int val, int bitset, int clock, long deadline) {
        if (bitset == 0 || uaddr % 4 != 0) {
            return -Errno.EINVAL.number();
        }
        Table table = t.processes().futexes();
        Waiter w = new Waiter(t, bitset);
        Key key;
        synchronized (table) {
            int word = GuestMemory.read(t, uaddr, 4).getInt(0);
            key = key(t, uaddr, op);
            if (word != val) {
                return -Errno.EAGAIN.number();
            }
            table.waiters.computeIfAbsent(key, k -> new ArrayList<>()).add(w);
        }
        // futex_wait_restart waits again as this call did, the word looked at again, towards the same deadline.
        return sleep(t, table, key, w, clock, deadline, task -> wait(task, uaddr, op, val, bitset, clock, deadline));
    }

    /**
     * Waits queued as {@code w} until a wake, the deadline (ETIMEDOUT) or a
     * signal: without a timeout ERESTARTSYS (made again when the handler
     * asks for it), with one ERESTART_RESTARTBLOCK and {@code restart} for
     * restart_syscall, as Linux's futex_wait_restart.
     */
    private static long sleep(Task t, Table table, Key key, Waiter w, int clock, long deadline, Handler restart) {
        Task.Wake how;
        while (true) {
            long left = deadline == Long.MAX_VALUE ? Long.MAX_VALUE : deadline - now(clock);
            if (left <= 0) {
                how = Task.Wake.TIMEOUT;
                break;
            }
            // Look at the clock again at least every 100 ms: a wall clock can be set.
            how = t.block(() -> woken(table, w), System.nanoTime() + Math.min(left, NANOS / 10), true);
            if (how != Task.Wake.TIMEOUT) {
                break;
            }
        }
        synchronized (table) {
            if (w.woken) {
                return 0;
            }
            List<Waiter> list = table.waiters.get(key);
            if (list != null) {
                list.remove(w);
                if (list.isEmpty()) {
                    table.waiters.remove(key);
                }
            }
        }
        if (how == Task.Wake.TIMEOUT) {
            return -Errno.ETIMEDOUT.number();
        }
        if (deadline == Long.MAX_VALUE) {
            return -Signals.ERESTARTSYS;
        }
        t.signals().setRestart(restart);
        return -Signals.ERESTART_RESTARTBLOCK;
    }

    private static boolean woken(Table table, Waiter w) {
        synchronized (table) {
            return w.woken;
        }
    }

    /** Wakes up to {@code n} waiters whose bitset meets {@code bitset} (one at least, as Linux counts): how many. */
    private static long wake(Task t, long uaddr, int op, int n, int bitset) {
        if (bitset == 0 || uaddr % 4 != 0) {
            return -Errno.EINVAL.number();
        }
        if (Long.compareUnsigned(uaddr, GuestMemory.TASK_SIZE - 4) > 0) {
            return -Errno.EFAULT.number(); // access_ok
        }
        Table table = t.processes().futexes();
        List<Waiter> woken = new ArrayList<>();
        synchronized (table) {
            List<Waiter> list = table.waiters.get(key(t, uaddr, op));
            if (list != null) {
                for (var it = list.iterator(); it.hasNext(); ) {
                    Waiter w = it.next();
                    if ((w.bitset & bitset) != 0) {
                        w.woken = true;
                        it.remove();
                        woken.add(w);
                        if (woken.size() >= n) {
                            break;
                        }
                    }
                }
            }
        }
        for (Waiter w : woken) {
            w.task.wake();
        }
        return woken.size();
    }

    private static long now(int clock) {
        long[] ts = new long[2];
        dev.usercopy.platform.HostSystem.clockGettime(clock, ts);
        return nanos(ts);
    }

    private static long nanos(long[] ts) {
        return ts[0] > Long.MAX_VALUE / NANOS - 1 ? Long.MAX_VALUE - 1 : ts[0] * NANOS + ts[1];
    }

    private static long saturatedAdd(long a, long b) {
        long s = a + b;
        return ((a ^ s) & (b ^ s)) < 0 || s == Long.MAX_VALUE ? Long.MAX_VALUE - 1 : s;
    }
}
