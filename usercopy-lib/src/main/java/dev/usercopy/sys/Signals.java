package dev.usercopy.sys;

import java.nio.ByteBuffer;

import dev.usercopy.uapi.Errno;

/**
 * A task's signal state, recorded with Linux's checks and not yet
 * delivered: an action a signal ({@code rt_sigaction}), the blocked mask
 * ({@code rt_sigprocmask}) and the alternate stack ({@code sigaltstack}).
 * A later delivery reads it through {@link #action}, {@link #blocked} and
 * {@link #altStack}.
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

    /** One signal's disposition, as the guest's struct sigaction gave it. */
    public record Action(long handler, long flags, long restorer, long mask) {
        static final Action DEFAULT = new Action(0, 0, 0, 0);
    }

    /** The alternate signal stack; size 0 when there is none. */
    public record AltStack(long sp, int flags, long size) {}

    private final Action[] actions = new Action[NSIG + 1];
    private long blocked;
    private AltStack altStack = new AltStack(0, SS_DISABLE, 0); // as Linux's sas_ss_reset leaves it

    public Signals() {
        java.util.Arrays.fill(actions, Action.DEFAULT);
    }

    static long bit(int sig) {
        return 1L << (sig - 1);
    }

    /** The action of signal {@code sig} (1..64). */
    public Action action(int sig) {
        return actions[sig];
    }

    /** The blocked mask: bit {@code n-1} for signal {@code n}. */
    public long blocked() {
        return blocked;
    }

    public AltStack altStack() {
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
            s.actions[sig] = act;
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
                case SIG_BLOCK -> s.blocked |= set;
                case SIG_UNBLOCK -> s.blocked &= ~set;
                case SIG_SETMASK -> s.blocked = set;
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
     * Linux's do_sigaltstack, with the guest never on its alternate stack
     * (no signal is delivered yet, so EPERM never happens): the new stack
     * read (EFAULT), its mode checked (EINVAL unless 0, SS_ONSTACK or
     * SS_DISABLE, with SS_AUTODISARM allowed), its size (ENOMEM under
     * MINSIGSTKSZ unless disabling), then the old one written.
     */
    private static long sigaltstack(Task t) {
        Signals s = t.signals();
        AltStack old = s.altStack;
        long result = 0;
        if (t.arg(0) != 0) {
            ByteBuffer b = GuestMemory.read(t, t.arg(0), STACK_SIZE);
            long sp = b.getLong(0);
            int flags = b.getInt(8);
            long size = b.getLong(16);
            int mode = flags & ~SS_AUTODISARM;
            if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0) {
                return -Errno.EINVAL.number();
            }
            if (sp == old.sp() && size == old.size() && flags == old.flags()) {
                result = 0; // Linux returns before any other check when nothing changes
            } else if (mode == SS_DISABLE) {
                s.altStack = new AltStack(0, flags, 0);
            } else if (Long.compareUnsigned(size, MINSIGSTKSZ) < 0) {
                result = -Errno.ENOMEM.number();
            } else {
                s.altStack = new AltStack(sp, flags, size);
            }
        }
        if (result == 0 && t.arg(1) != 0) {
            int flags = (old.size() == 0 ? SS_DISABLE : 0) | (old.flags() & SS_AUTODISARM);
            GuestMemory.write(t, t.arg(1), GuestMemory.struct(STACK_SIZE).putLong(0, old.sp()).putInt(8, flags).putLong(16, old.size()));
        }
        return result;
    }
}
