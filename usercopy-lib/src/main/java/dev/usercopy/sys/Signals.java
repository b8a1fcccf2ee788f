package dev.usercopy.sys;

import java.nio.ByteBuffer;

import dev.usercopy.uapi.Errno;

/**
 * A task's signal state: an action a signal ({@code rt_sigaction}), the
 * blocked mask ({@code rt_sigprocmask}), the alternate stack
 * ({@code sigaltstack}), and the signals pending for it with their
 * {@link SigInfo}. Other tasks' threads send ({@link #post}), the task's own
 * tracer takes them ({@link #dequeue}): the pending set is guarded by this
 * object's monitor; the rest is the task's own.
 */
public final class Signals {
    public static final int NSIG = 64;
    public static final int SIGKILL = 9;
    public static final int SIGSTOP = 19;
    /** sizeof(sigset_t) in the kernel's ABI: 64 bits. */
    static final int SIGSET_SIZE = 8;
    /** The kernel's struct sigaction on x86-64: handler, flags, restorer, mask. */
    static final int SIGACTION_SIZE = 32;
    /** stack_t on x86-64: ss_sp, ss_flags (and padding), ss_size. */
    static final int STACK_SIZE = 24;
    static final int SIG_BLOCK = 0;
    static final int SIG_UNBLOCK = 1;
    static final int SIG_SETMASK = 2;
    static final int SS_ONSTACK = 1;
    static final int SS_DISABLE = 2;
    static final int SS_AUTODISARM = 1 << 31;
    /** MINSIGSTKSZ, the smallest alternate stack Linux takes. */
    static final long MINSIGSTKSZ = 2048;
    /**
     * Linux's UAPI_SA_FLAGS on x86-64: NOCLDSTOP, NOCLDWAIT, SIGINFO,
     * EXPOSE_TAGBITS, RESTORER, ONSTACK, RESTART, NODEFER, RESETHAND. Other
     * bits are dropped when stored, SA_UNSUPPORTED among them, so a program
     * can probe which flags the kernel knows.
     */
    static final long SA_FLAGS = 0x1 | 0x2 | 0x4 | 0x800 | 0x04000000 | 0x08000000 | 0x10000000 | 0x40000000 | 0x80000000L;
    private static final long UNBLOCKABLE = bit(SIGKILL) | bit(SIGSTOP);
    public static final int SIGCHLD = 17;
    public static final int SIGCONT = 18;
    public static final int SIGPIPE = 13;
    public static final int SIGSEGV = 11;
    /** SIG_DFL and SIG_IGN as a handler address. */
    public static final long SIG_DFL = 0;
    public static final long SIG_IGN = 1;

    /*
     * Linux's kernel-internal "restart" results (include/linux/errno.h). A
     * blocking syscall interrupted by a signal returns one; what the guest
     * sees depends on the signal's delivery: EINTR, or the call made again.
     */
    /** Restart when no handler runs or the handler has SA_RESTART; else EINTR (read, write, wait4). */
    public static final int ERESTARTSYS = 512;
    /** Always restart (a call that must not fail for a signal). */
    public static final int ERESTARTNOINTR = 513;
    /** Restart when no handler runs; EINTR after a handler whatever its flags (poll, select, pause, sigsuspend). */
    public static final int ERESTARTNOHAND = 514;
    /** As ERESTARTNOHAND, for calls Linux restarts through restart_syscall (nanosleep). */
    public static final int ERESTART_RESTARTBLOCK = 516;

    /** What a signal does when its action is SIG_DFL (signal(7)): stop is ignored here (no job control). */
    public enum DefaultAction { TERMINATE, CORE, IGNORE, STOP, CONTINUE }

    /**
     * What the receiver of a signal learns of it: the fields of siginfo_t
     * that Linux fills for the kinds this kernel sends (kill: pid and uid;
     * SIGCHLD: pid, uid, status; a fault: the address; rt_sigqueueinfo's
     * negative codes: pid, uid and si_value, kept in {@code addr}).
     */
    public record SigInfo(int signo, int code, int pid, int uid, int status, long addr) {
        /** si_code of kill(2) and tgkill(2). */
        public static final int SI_USER = 0;
        public static final int SI_TKILL = -6;
        /** si_code of a signal the kernel sends (SIGPIPE of a write, for example). */
        public static final int SI_KERNEL = 0x80;
        public static final int CLD_EXITED = 1;
        public static final int CLD_KILLED = 2;
        public static final int CLD_DUMPED = 3;

        /** What a parent learns of a child that ended with wait status {@code status}: SIGCHLD's siginfo, or waitid's. */
        public static SigInfo child(int signo, int pid, int status) {
            int code = (status & 0x7f) == 0 ? CLD_EXITED : (status & 0x80) != 0 ? CLD_DUMPED : CLD_KILLED;
            int value = code == CLD_EXITED ? (status >> 8) & 0xff : status & 0x7f;
            return new SigInfo(signo, code, pid, dev.usercopy.platform.HostSystem.getresuid()[0], value, 0);
        }

        /** A signal sent by the kernel itself. */
        public static SigInfo kernel(int signo) {
            return new SigInfo(signo, SI_KERNEL, 0, 0, 0, 0);
        }

        /** siginfo_t as Linux lays it out on x86-64: 128 bytes. */
        public byte[] toBytes() {
            ByteBuffer b = ByteBuffer.allocate(128).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.putInt(0, signo).putInt(4, 0).putInt(8, code);
            if (signo == SIGSEGV || signo == 7 || signo == 4 || signo == 8) {
                if (code > 0) {
                    b.putLong(16, addr); // a fault: si_addr
                    return b.array();
                }
            }
            b.putInt(16, pid).putInt(20, uid);
            if (signo == SIGCHLD && code > 0 && code < SI_KERNEL) {
                b.putInt(24, status);
            } else if (code < 0) {
                b.putLong(24, addr); // si_value of rt_sigqueueinfo (SIL_RT)
            }
            return b.array();
        }
    }

    /** One signal's disposition, as the guest's struct sigaction gave it. */
    public record Action(long handler, long flags, long restorer, long mask) {
        static final Action DEFAULT = new Action(0, 0, 0, 0);
    }

    /** The alternate signal stack; size 0 when there is none. */
    public record AltStack(long sp, int flags, long size) {}

    private final Action[] actions = new Action[NSIG + 1];
    private long blocked;
    /** The mask before rt_sigtimedwait unblocked what it waits for: those signals are not ignored meanwhile (Linux's real_blocked). */
    private long realBlocked;
    /**
     * The mask to put back once the call that replaced it returns to the
     * guest (rt_sigsuspend, ppoll, pselect6: Linux's saved_sigmask with
     * TIF_RESTORE_SIGMASK): after the handler, through the frame it saves.
     */
    private long savedMask;
    private boolean restoreMask;
    /** What restart_syscall runs (Linux's restart_block): set by a call that returned ERESTART_RESTARTBLOCK. */
    private Handler restart;
    /** The last fault's address, trap number and error code (Linux's thread.cr2, trap_nr, error_code) for the sigcontext. */
    private long cr2;
    private long trapNr;
    private long errorCode;
    private AltStack altStack = new AltStack(0, SS_DISABLE, 0); // as Linux's sas_ss_reset leaves it
    /** Pending signals (bit n-1 for n) and what each was sent with; one of each, as Linux's standard signals. */
    private long pending;
    private final SigInfo[] pendingInfo = new SigInfo[NSIG + 1];

    public Signals() {
        java.util.Arrays.fill(actions, Action.DEFAULT);
    }

    /** A fork's copy: the same actions, mask and alternate stack, nothing pending (fork(2)). */
    public Signals forkCopy() {
        Signals c = new Signals();
        System.arraycopy(actions, 0, c.actions, 0, actions.length);
        c.blocked = blocked;
        c.altStack = altStack;
        return c;
    }

    /**
     * What execve does: handled signals go back to SIG_DFL (ignored ones
     * stay ignored), the alternate stack goes; the mask and pending set stay.
     */
    public void resetForExec() {
        for (int sig = 1; sig <= NSIG; sig++) {
            if (actions[sig].handler() != SIG_IGN) {
                actions[sig] = Action.DEFAULT;
            } else {
                actions[sig] = new Action(SIG_IGN, 0, 0, 0);
            }
        }
        altStack = new AltStack(0, SS_DISABLE, 0);
    }

    /** Linux's sig_kernel_* sets: what SIG_DFL does with {@code sig}. */
    public static DefaultAction defaultAction(int sig) {
        return switch (sig) {
            case SIGCHLD, 23, 28 -> DefaultAction.IGNORE; // SIGCHLD, SIGURG, SIGWINCH
            case SIGCONT -> DefaultAction.CONTINUE;
            case SIGSTOP, 20, 21, 22 -> DefaultAction.STOP; // SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU
            case 3, 4, 5, 6, 7, 8, SIGSEGV, 24, 25, 31 -> DefaultAction.CORE; // QUIT ILL TRAP ABRT BUS FPE SEGV XCPU XFSZ SYS
            default -> DefaultAction.TERMINATE;
        };
    }

    /**
     * Whether a signal sent now would be dropped at once (Linux's
     * sig_ignored): its action ignores it (SIG_IGN, or SIG_DFL whose default
     * is to ignore, or a stop, with no job control here) and it is not
     * blocked. SIGKILL is never ignored.
     */
    public synchronized boolean ignored(int sig) {
        if (sig == SIGKILL || ((blocked | realBlocked) & bit(sig)) != 0) {
            return false;
        }
        long h = actions[sig].handler();
        if (h == SIG_IGN) {
            return true;
        }
        if (h != SIG_DFL) {
            return false;
        }
        DefaultAction d = defaultAction(sig);
        return d == DefaultAction.IGNORE || d == DefaultAction.CONTINUE || d == DefaultAction.STOP;
    }

    /**
     * Makes {@code info.signo()} pending, unless it is ignored now (then it
     * is dropped, as Linux drops it); a standard signal already pending is
     * not queued twice. True when it is now pending: the sender then wakes
     * the task ({@link Task#post} does both).
     */
    synchronized boolean post(SigInfo info) {
        int sig = info.signo();
        if (ignored(sig)) {
            return false;
        }
        if ((pending & bit(sig)) == 0) {
            pending |= bit(sig);
            pendingInfo[sig] = info;
        }
        return true;
    }

    /** The pending set: bit {@code n-1} for signal {@code n}. */
    public synchronized long pending() {
        return pending;
    }

    /** Whether SIGKILL is pending: even a wait no signal interrupts ends for it. */
    public synchronized boolean fatalPending() {
        return (pending & bit(SIGKILL)) != 0;
    }

    /** Whether a pending signal is not blocked: a blocking syscall must return for it. */
    public synchronized boolean interrupting() {
        return (pending & ~blocked) != 0;
    }

    /**
     * Takes the pending, unblocked signal to deliver next: the synchronous
     * fault signals first (SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGSYS,
     * as Linux's SYNCHRONOUS_MASK), then the lowest number. Null when none.
     */
    public synchronized SigInfo dequeue() {
        return dequeue(~blocked);
    }

    /** As {@link #dequeue()}, of the pending signals in {@code allowed} whether blocked or not (rt_sigtimedwait). */
    synchronized SigInfo dequeue(long allowed) {
        long ready = pending & allowed;
        if (ready == 0) {
            return null;
        }
        long sync = ready & (bit(SIGSEGV) | bit(7) | bit(4) | bit(5) | bit(8) | bit(31));
        int sig = Long.numberOfTrailingZeros(sync != 0 ? sync : ready) + 1;
        pending &= ~bit(sig);
        SigInfo info = pendingInfo[sig];
        pendingInfo[sig] = null;
        return info;
    }

    /** Sets the blocked mask (SIGKILL and SIGSTOP are never blocked): for sigreturn, sigsuspend and delivery. */
    public synchronized void setBlocked(long mask) {
        blocked = mask & ~UNBLOCKABLE;
    }

    /** Sets the action of {@code sig}: for delivery's SA_RESETHAND, and forced faults. */
    public synchronized void setAction(int sig, Action a) {
        actions[sig] = a;
    }

    synchronized void discard(int sig) {
        pending &= ~bit(sig);
        pendingInfo[sig] = null;
    }

    /** Sets the alternate stack: for sigreturn, which restores uc_stack. */
    public synchronized void setAltStack(AltStack s) {
        altStack = s;
    }

    /**
     * Replaces the mask until the call returns to the guest (rt_sigsuspend,
     * ppoll, pselect6 with a mask): {@link SignalDelivery} puts the old one
     * back, in the handler's frame when a handler runs, else at once.
     */
    public synchronized void setTemporaryMask(long mask) {
        if (!restoreMask) {
            savedMask = blocked;
            restoreMask = true;
        }
        setBlocked(mask);
    }

    /** The mask a signal frame saves (Linux's sigmask_to_save): the one a temporary mask replaced, if any. */
    synchronized long maskToSave() {
        return restoreMask ? savedMask : blocked;
    }

    /** The temporary mask is done with: the saved one comes back when {@code restore} (no handler ran), else it is in a frame. */
    synchronized void endTemporaryMask(boolean restore) {
        if (restoreMask && restore) {
            setBlocked(savedMask);
        }
        restoreMask = false;
    }

    synchronized void setRealBlocked(long mask) {
        realBlocked = mask;
    }

    /**
     * What restart_syscall (219) does after a call returned
     * ERESTART_RESTARTBLOCK and no handler ran (nanosleep goes on with the
     * time left); null drops it: restart_syscall is then EINTR.
     */
    public synchronized void setRestart(Handler h) {
        restart = h;
    }

    synchronized Handler takeRestart() {
        Handler h = restart;
        restart = null;
        return h;
    }

    /** Records a fault for the sigcontext of the frame that reports it (Linux's set_signal_archinfo). */
    synchronized void setFaultInfo(long address, long trap, long error) {
        cr2 = address;
        trapNr = trap;
        errorCode = error;
    }

    /** {cr2, trapno, err} of the last fault. */
    synchronized long[] faultInfo() {
        return new long[] {cr2, trapNr, errorCode};
    }

    /**
     * Linux's on_sig_stack: whether {@code sp} is on the alternate stack; never
     * with SS_AUTODISARM, which disarms the stack while a handler runs on it.
     */
    synchronized boolean onSigStack(long sp) {
        return (altStack.flags() & SS_AUTODISARM) == 0 && onStackRange(sp);
    }

    /** Linux's __on_sig_stack: sp in (ss_sp, ss_sp + ss_size], as the stack grows down. */
    synchronized boolean onStackRange(long sp) {
        return Long.compareUnsigned(sp, altStack.sp()) > 0 && Long.compareUnsigned(sp - altStack.sp(), altStack.size()) <= 0;
    }

    /** Linux's sas_ss_flags: SS_DISABLE when there is no alternate stack, SS_ONSTACK when {@code sp} is on it, else 0. */
    synchronized int sasSsFlags(long sp) {
        if (altStack.size() == 0) {
            return SS_DISABLE;
        }
        return onSigStack(sp) ? SS_ONSTACK : 0;
    }

    /**
     * Linux's do_sigaltstack for a new stack: EPERM while on the current
     * one, EINVAL for an unknown mode, ENOMEM under {@code minSize}; 0 with
     * the stack in place. (rt_sigreturn passes what uc_stack holds and
     * ignores the error.)
     */
    synchronized int changeAltStack(long sp, long ssSp, int flags, long size, long minSize) {
        if (onSigStack(sp)) {
            return Errno.EPERM.number();
        }
        int mode = flags & ~SS_AUTODISARM;
        if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0) {
            return Errno.EINVAL.number();
        }
        if (ssSp == altStack.sp() && size == altStack.size() && flags == altStack.flags()) {
            return 0; // Linux returns before any other check when nothing changes
        }
        if (mode == SS_DISABLE) {
            altStack = new AltStack(0, flags, 0);
        } else if (Long.compareUnsigned(size, minSize) < 0) {
            return Errno.ENOMEM.number();
        } else {
            altStack = new AltStack(ssSp, flags, size);
        }
        return 0;
    }

    static long bit(int sig) {
        return 1L << (sig - 1);
    }

    /** The action of signal {@code sig} (1..64). */
    public synchronized Action action(int sig) {
        return actions[sig];
    }

    /** The blocked mask: bit {@code n-1} for signal {@code n}. */
    public synchronized long blocked() {
        return blocked;
    }

    public synchronized AltStack altStack() {
        return altStack;
    }

    static void register(Syscalls.Registry r) {
        r.add(13, "rt_sigaction", "dppu", Signals::rtSigaction);
        r.add(14, "rt_sigprocmask", "dppu", Signals::rtSigprocmask);
        r.add(131, "sigaltstack", "pp", Signals::sigaltstack);
    }

    /**
     * Linux's order: sigsetsize (EINVAL), the new action read (EFAULT), the
     * signal (EINVAL outside 1..64, or for SIGKILL and SIGSTOP with a new
     * action), the old action kept, the new one stored with unknown flags
     * dropped and SIGKILL/SIGSTOP out of its mask, then the old one written
     * (EFAULT, the new one already in force).
     */
    private static long rtSigaction(Task t) {
        if (t.arg(3) != SIGSET_SIZE) {
            return -Errno.EINVAL.number();
        }
        Action act = null;
        if (t.arg(1) != 0) {
            ByteBuffer b = GuestMemory.read(t, t.arg(1), SIGACTION_SIZE);
            act = new Action(b.getLong(0), b.getLong(8) & SA_FLAGS, b.getLong(16), b.getLong(24) & ~UNBLOCKABLE);
        }
        int sig = t.intArg(0);
        if (sig < 1 || sig > NSIG || act != null && (sig == SIGKILL || sig == SIGSTOP)) {
            return -Errno.EINVAL.number();
        }
        Signals s = t.signals();
        Action old = s.actions[sig];
        if (act != null) {
            s.setAction(sig, act);
            if (s.ignored(sig)) {
                s.discard(sig); // Linux: setting an ignoring action discards it from the pending set
            }
        }
        if (t.arg(2) != 0) {
            GuestMemory.write(t, t.arg(2), GuestMemory.struct(SIGACTION_SIZE)
                    .putLong(0, old.handler()).putLong(8, old.flags() & SA_FLAGS).putLong(16, old.restorer()).putLong(24, old.mask()));
        }
        return 0;
    }

    /**
     * Linux's order: sigsetsize (EINVAL), the new set read (EFAULT), then
     * {@code how} (EINVAL), which is looked at only when there is a new set;
     * SIGKILL and SIGSTOP are never blocked; the old mask is written last.
     */
    private static long rtSigprocmask(Task t) {
        if (t.arg(3) != SIGSET_SIZE) {
            return -Errno.EINVAL.number();
        }
        Signals s = t.signals();
        long old = s.blocked;
        if (t.arg(1) != 0) {
            long set = GuestMemory.read(t, t.arg(1), SIGSET_SIZE).getLong(0) & ~UNBLOCKABLE;
            switch (t.intArg(0)) {
                case SIG_BLOCK -> s.setBlocked(old | set);
                case SIG_UNBLOCK -> s.setBlocked(old & ~set);
                case SIG_SETMASK -> s.setBlocked(set);
                default -> {
                    return -Errno.EINVAL.number();
                }
            }
        }
        if (t.arg(2) != 0) {
            GuestMemory.putLong(t, t.arg(2), old);
        }
        return 0;
    }

    /**
     * Linux's sigaltstack: the old stack taken first (its flags SS_ONSTACK
     * while the guest's stack pointer is on it, SS_DISABLE when there is
     * none, with SS_AUTODISARM kept), the new one read (EFAULT) and put in
     * place ({@link #changeAltStack}: EPERM on it, EINVAL, ENOMEM), then the
     * old one written only when that went through.
     */
    private static long sigaltstack(Task t) {
        Signals s = t.signals();
        long sp = t.cpu().reg(dev.usercopy.platform.user_regs_struct.RSP);
        AltStack old;
        int oldFlags;
        synchronized (s) {
            old = s.altStack;
            oldFlags = s.sasSsFlags(sp) | (old.flags() & SS_AUTODISARM);
        }
        if (t.arg(0) != 0) {
            ByteBuffer b = GuestMemory.read(t, t.arg(0), STACK_SIZE);
            int err = s.changeAltStack(sp, b.getLong(0), b.getInt(8), b.getLong(16), MINSIGSTKSZ);
            if (err != 0) {
                return -err;
            }
        }
        if (t.arg(1) != 0) {
            GuestMemory.write(t, t.arg(1), GuestMemory.struct(STACK_SIZE).putLong(0, old.sp()).putInt(8, oldFlags).putLong(16, old.size()));
        }
        return 0;
    }
}
