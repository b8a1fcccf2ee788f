package dev.usercopy.sys;

import java.util.List;

import dev.usercopy.uapi.Errno;

/**
 * wait4 and waitid: a parent takes the end of a child, as Linux's
 * kernel/exit.c does. Which children a call may take: {@code pid > 0} that
 * one, {@code -1} any, {@code 0} those of the caller's process group,
 * {@code < -1} those of group {@code -pid}; a child whose exit signal is not
 * SIGCHLD (a "clone" child) only with __WCLONE or __WALL, the others only
 * without __WCLONE (or with __WALL). None at all: ECHILD. None ended yet:
 * 0 with WNOHANG, else the caller blocks until one ends or a signal comes
 * (ERESTARTSYS). Stopped and continued children are never reported: there
 * is no job control here.
 */
final class Wait {
    static final int WNOHANG = 1;
    static final int WUNTRACED = 2;
    static final int WSTOPPED = 2;
    static final int WEXITED = 4;
    static final int WCONTINUED = 8;
    static final int WNOWAIT = 0x01000000;
    static final int WNOTHREAD = 0x20000000;
    static final int WALL = 0x40000000;
    static final int WCLONE = 0x80000000;
    static final int P_ALL = 0;
    static final int P_PID = 1;
    static final int P_PGID = 2;
    static final int P_PIDFD = 3;
    /** struct rusage: 144 bytes. */
    static final int RUSAGE_SIZE = 144;

    private Wait() {}

    static void register(Syscalls.Registry r) {
        r.add(61, "wait4", "dpxp", Wait::wait4);
        r.add(247, "waitid", "ddpxp", Wait::waitid);
    }

    /** A child taken: its pid and wait status. */
    private record Taken(int pid, int status) {}

    private static long wait4(Task t) {
        int options = t.intArg(2);
        if ((options & ~(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WCLONE | WALL)) != 0) {
            return -Errno.EINVAL.number();
        }
        int pid = t.intArg(0);
        if (pid == Integer.MIN_VALUE) {
            return -Errno.ESRCH.number(); // Linux: -INT_MIN has no group
        }
        int type = pid < -1 ? P_PGID : pid == -1 ? P_ALL : pid == 0 ? P_PGID : P_PID;
        int id = pid < -1 ? -pid : pid == 0 ? t.processes().pgid(t) : pid;
        Object r = waitFor(t, type, id, options | WEXITED);
        if (r instanceof Long err) {
            return err;
        }
        Taken k = (Taken) r;
        if (k == null) {
            return 0;
        }
        if (t.arg(1) != 0) {
            GuestMemory.putInt(t, t.arg(1), k.status());
        }
        if (t.arg(3) != 0) {
            GuestMemory.write(t, t.arg(3), new byte[RUSAGE_SIZE]);
        }
        return k.pid();
    }

    /**
     * Linux's order: options (EINVAL: an unknown bit, or none of WEXITED,
     * WSTOPPED, WCONTINUED), the id type (EINVAL), then the wait; the
     * siginfo is written at the end (zeroed when WNOHANG found nothing).
     */
    private static long waitid(Task t) {
        int type = t.intArg(0);
        int options = t.intArg(3);
        if ((options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | WNOTHREAD | WCLONE | WALL)) != 0
                || (options & (WEXITED | WSTOPPED | WCONTINUED)) == 0) {
            return -Errno.EINVAL.number();
        }
        int id = t.intArg(1);
        switch (type) {
            case P_ALL -> id = 0;
            case P_PID -> {
                if (id <= 0) {
                    return -Errno.EINVAL.number();
                }
            }
            case P_PGID -> {
                if (id < 0) {
                    return -Errno.EINVAL.number();
                }
                if (id == 0) {
                    id = t.processes().pgid(t);
                }
            }
            case P_PIDFD -> {
                return -Errno.EBADF.number(); // no pidfds here
            }
            default -> {
                return -Errno.EINVAL.number();
            }
        }
        if ((options & WEXITED) == 0) {
            // Only stops or continues asked for: with no job control, nothing ever comes.
            if (!hasChildren(t, type, id, options)) {
                return -Errno.ECHILD.number();
            }
            if ((options & WNOHANG) == 0) {
                return t.block(() -> false, Long.MAX_VALUE, true) == Task.Wake.INTERRUPTED ? -Signals.ERESTARTSYS : 0;
            }
            return writeInfo(t, null);
        }
        Object r = waitFor(t, type, id, options);
        if (r instanceof Long err) {
            return err;
        }
        return writeInfo(t, (Taken) r);
    }

    private static long writeInfo(Task t, Taken k) {
        if (t.arg(2) != 0) {
            byte[] info = new byte[128];
            if (k != null) {
                info = Signals.SigInfo.child(Signals.SIGCHLD, k.pid(), k.status()).toBytes();
            }
            GuestMemory.write(t, t.arg(2), info);
        }
        if (t.arg(4) != 0) {
            GuestMemory.write(t, t.arg(4), new byte[RUSAGE_SIZE]);
        }
        return 0;
    }

    private static boolean matches(Task c, int type, int id, int options) {
        boolean clone = c.exitSignal != Signals.SIGCHLD;
        if ((options & WALL) == 0 && clone != ((options & WCLONE) != 0)) {
            return false;
        }
        return switch (type) {
            case P_PID -> c.pid() == id;
            case P_PGID -> c.pgid == id;
            default -> true;
        };
    }

    private static boolean hasChildren(Task t, int type, int id, int options) {
        Processes tree = t.processes();
        synchronized (tree) {
            return tree.children(t).stream().anyMatch(c -> matches(c, type, id, options));
        }
    }

    /** The child taken, null when WNOHANG found none ended, or a -errno as a Long. */
    private static Object waitFor(Task t, int type, int id, int options) {
        Processes tree = t.processes();
        while (true) {
            synchronized (tree) {
                List<Task> kids = tree.children(t).stream().filter(c -> matches(c, type, id, options)).toList();
                if (kids.isEmpty()) {
                    return (long) -Errno.ECHILD.number();
                }
                for (Task c : kids) {
                    if (c.zombie) {
                        if ((options & WNOWAIT) == 0) {
                            tree.reap(c);
                        }
                        return new Taken(c.pid(), c.waitStatus);
                    }
                }
            }
            if ((options & WNOHANG) != 0) {
                return null;
            }
            Task.Wake w = t.block(() -> {
                synchronized (tree) {
                    List<Task> kids = tree.children(t).stream().filter(c -> matches(c, type, id, options)).toList();
                    return kids.isEmpty() || kids.stream().anyMatch(c -> c.zombie);
                }
            }, Long.MAX_VALUE, true);
            if (w == Task.Wake.INTERRUPTED) {
                return (long) -Signals.ERESTARTSYS;
            }
        }
    }
}
