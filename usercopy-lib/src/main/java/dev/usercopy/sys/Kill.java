package dev.usercopy.sys;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import dev.usercopy.platform.HostSystem;
import dev.usercopy.sys.Signals.SigInfo;
import dev.usercopy.uapi.Errno;

/**
 * Sending signals between the guest's processes: kill, tkill, tgkill and
 * rt_sigqueueinfo, as Linux's kernel/signal.c (kill_something_info,
 * do_send_specific, do_rt_sigqueueinfo). Every guest runs as the user, so
 * EPERM never comes of a permission check; the targets are the task's
 * {@link Processes} tree, zombies included (a signal to a zombie succeeds
 * and does nothing, as on Linux).
 */
final class Kill {
    private Kill() {}

    static void register(Syscalls.Registry r) {
        r.add(62, "kill", "dd", Kill::kill);
        r.add(200, "tkill", "dd", t -> tkill(t, 0, t.intArg(0), t.intArg(1)));
        r.add(234, "tgkill", "ddd", t -> t.intArg(0) <= 0 ? -Errno.EINVAL.number() : tkill(t, t.intArg(0), t.intArg(1), t.intArg(2)));
        r.add(129, "rt_sigqueueinfo", "ddp", Kill::rtSigqueueinfo);
    }

    /** A target and whether it has ended (then nothing is posted to it). */
    private record Target(Task task, boolean zombie) {}

    /**
     * kill(pid, sig): pid > 0 that process; 0 the caller's process group; -1
     * every process but the tree's init and the caller; below -1 group -pid.
     * ESRCH when there is no target; EINVAL for a signal outside 0..64 (only
     * once a target is found, as Linux checks it per target); signal 0 only
     * checks.
     */
    private static long kill(Task t) {
        int pid = t.intArg(0);
        int sig = t.intArg(1);
        SigInfo info = new SigInfo(sig, SigInfo.SI_USER, t.pid(), HostSystem.getresuid()[0], 0, 0);
        if (pid == Integer.MIN_VALUE) {
            return -Errno.ESRCH.number();
        }
        List<Target> targets = new ArrayList<>();
        Processes p = t.processes();
        synchronized (p) {
            int pgid = pid == 0 ? p.pgid(t) : -pid;
            for (Task x : p.all()) {
                boolean hit = pid > 0 ? x.pid() == pid : pid == -1 ? x.pid() > 1 && x != t : x.pgid == pgid;
                if (hit) {
                    targets.add(new Target(x, x.zombie));
                }
            }
        }
        if (targets.isEmpty()) {
            return -Errno.ESRCH.number();
        }
        if (sig < 0 || sig > Signals.NSIG) {
            return -Errno.EINVAL.number();
        }
        for (Target x : targets) {
            send(x, info);
        }
        return 0;
    }

    private static void send(Target x, SigInfo info) {
        if (info.signo() != 0 && !x.zombie()) {
            x.task().post(info);
        }
    }

    /** tkill and tgkill (tgid 0: any): one task; EINVAL for a pid not above 0, ESRCH when it is not there or not in tgid. */
    private static long tkill(Task t, int tgid, int pid, int sig) {
        if (pid <= 0) {
            return -Errno.EINVAL.number();
        }
        Target target = find(t, pid);
        if (target == null || tgid > 0 && target.task().pid() != tgid) {
            return -Errno.ESRCH.number();
        }
        if (sig < 0 || sig > Signals.NSIG) {
            return -Errno.EINVAL.number();
        }
        send(target, new SigInfo(sig, SigInfo.SI_TKILL, t.pid(), HostSystem.getresuid()[0], 0, 0));
        return 0;
    }

    private static Target find(Task t, int pid) {
        Processes p = t.processes();
        synchronized (p) {
            Task x = p.get(pid);
            return x == null ? null : new Target(x, x.zombie);
        }
    }

    /**
     * rt_sigqueueinfo(pid, sig, info): the guest's siginfo (EFAULT), its
     * signo replaced by sig; a si_code of kill or tkill (>= 0, or SI_TKILL)
     * only to itself (EPERM: no one may pretend to be the kernel or kill);
     * then as kill to one process. What this kernel's siginfo keeps of it:
     * code, pid, uid and, for a negative code, si_value.
     */
    private static long rtSigqueueinfo(Task t) {
        int pid = t.intArg(0);
        int sig = t.intArg(1);
        ByteBuffer b = GuestMemory.read(t, t.arg(2), 128);
        int code = b.getInt(8);
        if ((code >= 0 || code == SigInfo.SI_TKILL) && pid != t.pid()) {
            return -Errno.EPERM.number();
        }
        Target target = pid > 0 ? find(t, pid) : null;
        if (target == null) {
            return -Errno.ESRCH.number();
        }
        if (sig < 0 || sig > Signals.NSIG) {
            return -Errno.EINVAL.number();
        }
        send(target, new SigInfo(sig, code, b.getInt(16), b.getInt(20), 0, b.getLong(24)));
        return 0;
    }
}
