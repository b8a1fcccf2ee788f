package dev.usercopy.sys;

/**
 * Signal delivery at a guest process's stop, before it resumes (the
 * minimal version: default actions and restarts; handlers are not run yet).
 */
public final class SignalDelivery {
    /** The result to pass at a stop that did not end a syscall. */
    public static final long NO_SYSCALL = Long.MIN_VALUE;

    private SignalDelivery() {}

    static void register(Syscalls.Registry r) {
        r.add(219, "restart_syscall", "", SignalDelivery::restartSyscall);
    }

    /** restart_syscall (219): what the interrupted call left to do, or EINTR when nothing is (Linux's do_no_restart_syscall). */
    private static long restartSyscall(Task t) {
        Handler h = t.signals().takeRestart();
        return h == null ? -dev.usercopy.uapi.Errno.EINTR.number() : h.serve(t);
    }

    /**
     * Turns a restart code in {@code result} into a restart, and takes the
     * pending signals whose default action ignores them; 0 to resume, or
     * the wait status of the task's death by a signal.
     */
    public static int beforeResume(Task t, long result) {
        Signals s = t.signals();
        Signals.SigInfo info;
        while ((info = s.dequeue()) != null) {
            int sig = info.signo();
            Signals.Action a = s.action(sig);
            if (a.handler() == Signals.SIG_IGN) {
                continue;
            }
            Signals.DefaultAction d = Signals.defaultAction(sig);
            if (a.handler() == Signals.SIG_DFL || sig == Signals.SIGKILL) {
                if (d == Signals.DefaultAction.TERMINATE || sig == Signals.SIGKILL) {
                    return sig;
                }
                if (d == Signals.DefaultAction.CORE) {
                    return sig | 0x80;
                }
                continue;
            }
            // a handler: not run in this version; taken as if it returned at once
        }
        // No frame holds the mask a ppoll or pselect6 replaced (a handler is taken as returned): it is back now.
        s.endTemporaryMask(true);
        if (result == -Signals.ERESTARTSYS || result == -Signals.ERESTARTNOINTR || result == -Signals.ERESTARTNOHAND
                || result == -Signals.ERESTART_RESTARTBLOCK) {
            t.cpu().setReg(dev.usercopy.platform.user_regs_struct.RAX, t.cpu().reg(dev.usercopy.platform.user_regs_struct.ORIG_RAX));
            t.cpu().setReg(dev.usercopy.platform.user_regs_struct.RIP, t.cpu().reg(dev.usercopy.platform.user_regs_struct.RIP) - 2);
        }
        return 0;
    }

    /** A fault the guest may not take: the signal goes to it whatever its mask or action (blocked or ignored: the default). */
    public static void force(Task t, Signals.SigInfo info) {
        Signals s = t.signals();
        int sig = info.signo();
        if ((s.blocked() & Signals.bit(sig)) != 0 || s.action(sig).handler() == Signals.SIG_IGN) {
            s.setBlocked(s.blocked() & ~Signals.bit(sig));
            s.setAction(sig, Signals.Action.DEFAULT);
        }
        t.post(info);
    }
}
