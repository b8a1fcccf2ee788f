package dev.usercopy.sys;

import dev.usercopy.uapi.Errno;

/**
 * Process groups and sessions (Linux's kernel/sys.c): getpgid, setpgid,
 * getpgrp, getsid, setsid, with guest pids. There is no controlling
 * terminal here, so a session is only a number the shell reads.
 */
final class Sessions {
    private Sessions() {}

    static void register(Syscalls.Registry r) {
        r.add(109, "setpgid", "dd", Sessions::setpgid);
        r.add(121, "getpgid", "d", t -> getpgid(t, t.intArg(0)));
        r.add(111, "getpgrp", "", t -> getpgid(t, 0));
        r.add(124, "getsid", "d", Sessions::getsid);
        r.add(112, "setsid", "", Sessions::setsid);
    }

    private static long getpgid(Task t, int pid) {
        return lookUp(t, pid, true);
    }

    private static long getsid(Task t) {
        return lookUp(t, t.intArg(0), false);
    }

    /** The group (or session) of process {@code pid}, 0 meaning the caller; ESRCH when there is none. */
    private static long lookUp(Task t, int pid, boolean group) {
        Processes tree = t.processes();
        synchronized (tree) {
            Task p = pid == 0 ? t : tree.get(pid);
            return p == null ? -Errno.ESRCH.number() : group ? p.pgid : p.sid;
        }
    }

    /**
     * Linux's order: a negative pgid EINVAL; the target (0: the caller) must
     * be the caller or its child (ESRCH), a child in the caller's session
     * (EPERM) that has not exec'd (EACCES); a session leader cannot move
     * (EPERM); a group other than its own pid must exist in the caller's
     * session (EPERM).
     */
    private static long setpgid(Task t) {
        int pid = t.intArg(0);
        int pgid = t.intArg(1);
        if (pgid < 0) {
            return -Errno.EINVAL.number();
        }
        Processes tree = t.processes();
        synchronized (tree) {
            Task p = pid == 0 ? t : tree.get(pid);
            if (p == null || p.zombie && p != t) {
                return -Errno.ESRCH.number();
            }
            if (pgid == 0) {
                pgid = p.pid();
            }
            if (p != t) {
                if (p.parent != t) {
                    return -Errno.ESRCH.number();
                }
                if (p.sid != t.sid) {
                    return -Errno.EPERM.number();
                }
                if (p.didExec) {
                    return -Errno.EACCES.number();
                }
            }
            if (p.sid == p.pid()) {
                return -Errno.EPERM.number();
            }
            if (pgid != p.pid()) {
                int g = pgid;
                boolean exists = tree.all().stream().anyMatch(x -> x.pgid == g && x.sid == t.sid && !x.zombie);
                if (!exists) {
                    return -Errno.EPERM.number();
                }
            }
            p.pgid = pgid;
            return 0;
        }
    }

    /** EPERM for a process group leader (its pid names a group); else a new session and group of its own. */
    private static long setsid(Task t) {
        Processes tree = t.processes();
        synchronized (tree) {
            int pid = t.pid();
            if (tree.all().stream().anyMatch(x -> x.pgid == pid)) {
                return -Errno.EPERM.number();
            }
            t.sid = pid;
            t.pgid = pid;
            return pid;
        }
    }
}
