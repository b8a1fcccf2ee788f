package dev.usercopy.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.usercopy.mm.ErrnoException;
import dev.usercopy.sys.Signals.Action;
import dev.usercopy.sys.Signals.AltStack;
import dev.usercopy.sys.Signals.SigInfo;
import dev.usercopy.uapi.Errno;

import static dev.usercopy.platform.user_regs_struct.CS;
import static dev.usercopy.platform.user_regs_struct.EFLAGS;
import static dev.usercopy.platform.user_regs_struct.ORIG_RAX;
import static dev.usercopy.platform.user_regs_struct.R10;
import static dev.usercopy.platform.user_regs_struct.R11;
import static dev.usercopy.platform.user_regs_struct.R12;
import static dev.usercopy.platform.user_regs_struct.R13;
import static dev.usercopy.platform.user_regs_struct.R14;
import static dev.usercopy.platform.user_regs_struct.R15;
import static dev.usercopy.platform.user_regs_struct.R8;
import static dev.usercopy.platform.user_regs_struct.R9;
import static dev.usercopy.platform.user_regs_struct.RAX;
import static dev.usercopy.platform.user_regs_struct.RBP;
import static dev.usercopy.platform.user_regs_struct.RBX;
import static dev.usercopy.platform.user_regs_struct.RCX;
import static dev.usercopy.platform.user_regs_struct.RDI;
import static dev.usercopy.platform.user_regs_struct.RDX;
import static dev.usercopy.platform.user_regs_struct.RIP;
import static dev.usercopy.platform.user_regs_struct.RSI;
import static dev.usercopy.platform.user_regs_struct.RSP;
import static dev.usercopy.platform.user_regs_struct.SS;

/**
 * Signals reach the guest here, as Linux's arch/x86/kernel/signal.c and
 * signal_64.c deliver them on the way back to user mode: the restart rules
 * of an interrupted syscall, the default actions, and the handler's
 * {@code rt_sigframe} on the guest's stack, written with copy_to_user and
 * read back by {@code rt_sigreturn} with copy_from_user.
 *
 * <p>The frame, from the handler's rsp up: pretcode (sa_restorer), the
 * ucontext (uc_flags, uc_link, uc_stack, the sigcontext, uc_sigmask), the
 * siginfo; above it, 64-aligned, the XSAVE area with its software-reserved
 * bytes and FP_XSTATE_MAGIC2 after it; above that the 128-byte red zone of
 * the interrupted code, or the top of the alternate stack.
 */
public final class SignalDelivery {
    /** The {@code result} of a stop that was not a syscall: nothing to restart. */
    public static final long NO_SYSCALL = Long.MIN_VALUE;

    // struct rt_sigframe on x86-64: pretcode, struct ucontext (304 bytes), struct siginfo (128).
    static final int FRAME_SIZE = 440;
    static final int UC = 8;
    static final int UC_FLAGS = 8;
    static final int UC_LINK = 16;
    static final int UC_STACK = 24;
    static final int MCONTEXT = 48;
    static final int UC_SIGMASK = 304;
    static final int INFO = 312;
    /** struct sigcontext up to reserved1, what rt_sigreturn reads back. */
    static final int SIGCONTEXT_READ = 192;
    /** The sigcontext's 18 first words, in user_regs_struct indices: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags. */
    private static final int[] SIGCONTEXT_REGS = {R8, R9, R10, R11, R12, R13, R14, R15, RDI, RSI, RBP, RBX, RDX, RAX, RCX, RSP, RIP,
            EFLAGS};
    static final int SC_CS = 144;
    static final int SC_GS = 146;
    static final int SC_FS = 148;
    static final int SC_SS = 150;
    static final int SC_ERR = 152;
    static final int SC_TRAPNO = 160;
    static final int SC_OLDMASK = 168;
    static final int SC_CR2 = 176;
    static final int SC_FPSTATE = 184;

    static final long UC_FP_XSTATE = 1;
    static final long UC_SIGCONTEXT_SS = 2;
    static final long UC_STRICT_RESTORE_SS = 4;

    static final long SA_SIGINFO = 0x4;
    static final long SA_RESTORER = 0x04000000;
    static final long SA_ONSTACK = 0x08000000;
    static final long SA_RESTART = 0x10000000;
    static final long SA_NODEFER = 0x40000000;
    static final long SA_RESETHAND = 0x80000000L;

    /** The System V ABI's red zone below rsp, which a frame must not overwrite. */
    static final int REDZONE = 128;
    /** The selectors of 64-bit user code and data (__USER_CS, __USER_DS). */
    static final long USER_CS = 0x33;
    static final long USER_DS = 0x2b;
    /** Flags rt_sigreturn takes from the frame (FIX_EFLAGS): AC OF DF TF SF ZF AF PF CF RF. */
    static final long FIX_EFLAGS = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000;
    /** Cleared for the handler (the ABI's DF clear on function entry; RF and TF not carried into it). */
    static final long HANDLER_CLEARS = 0x400 | 0x10000 | 0x100;

    // The XSAVE area: fxregs_state (512 bytes: FCW at 0, MXCSR at 24, MXCSR_MASK at 28, software bytes at 464),
    // then the XSAVE header (XSTATE_BV at 512, XCOMP_BV at 520, reserved to 576).
    static final int FX_FCW = 0;
    static final int FX_MXCSR = 24;
    static final int FX_MXCSR_MASK = 28;
    static final int FX_SW_BYTES = 464;
    static final int FXSAVE_SIZE = 512;
    static final int XSTATE_BV = 512;
    static final int XCOMP_BV = 520;
    static final int XSAVE_HEADER_END = 576;
    static final int FP_XSTATE_MAGIC1 = 0x46505853;
    static final int FP_XSTATE_MAGIC2 = 0x46505845;
    static final int FP_XSTATE_MAGIC2_SIZE = 4;
    /** x87 and SSE: always marked in use in a frame, so a legacy program's changes to them are restored. */
    static final long XFEATURE_MASK_FPSSE = 3;
    /** PKRU, which a handler keeps: the stub's execute-only protection key stays in force. */
    static final long XFEATURE_MASK_PKRU = 1L << 9;

    static final int NR_RESTART_SYSCALL = 219;
    static final int X86_TRAP_PF = 14;

    private SignalDelivery() {}

    static void register(Syscalls.Registry r) {
        r.add(15, "rt_sigreturn", "", SignalDelivery::rtSigreturn);
        r.add(NR_RESTART_SYSCALL, "restart_syscall", "", SignalDelivery::restartSyscall);
    }

    /**
     * Called by the tracer at every stop before it resumes the guest, with
     * the syscall's result already in rax ({@link #NO_SYSCALL} at a stop that
     * was not a syscall). A restart code becomes EINTR or the call made again
     * (rip back over the syscall instruction, rax its number) by Linux's
     * rules; pending signals are taken until one runs a handler or kills the
     * task; ignored ones are dropped. Returns 0 to resume, or the wait status
     * of the task's death (the signal; no core is ever written, so never
     * with 0x80): the tracer kills the child and reports the status to
     * {@link Processes#exited}.
     */
    public static int beforeResume(Task task, long result) {
        Signals s = task.signals();
        Task.Cpu cpu = task.cpu();
        long ax = result;
        boolean syscall = result != NO_SYSCALL && isRestartCode(result) && cpu.reg(ORIG_RAX) != -1;
        if (!syscall && !s.interrupting()) {
            s.endTemporaryMask(true);
            return 0;
        }
        while (true) {
            SigInfo info = s.dequeue();
            if (info == null) {
                break;
            }
            int sig = info.signo();
            Action a;
            synchronized (s) {
                a = s.action(sig);
                if (a.handler() != Signals.SIG_DFL && a.handler() != Signals.SIG_IGN && (a.flags() & SA_RESETHAND) != 0) {
                    s.setAction(sig, new Action(Signals.SIG_DFL, a.flags(), a.restorer(), a.mask())); // only the handler goes
                }
            }
            if (a.handler() == Signals.SIG_IGN) {
                continue;
            }
            if (a.handler() != Signals.SIG_DFL) {
                if (syscall) {
                    ax = restartForHandler(cpu, ax, a.flags());
                    syscall = false; // rax is EINTR or the call's number now: no restart code any more
                }
                if (setupFrame(task, info, a)) {
                    return 0;
                }
                // Linux's force_sigsegv: the frame did not fit; a SIGSEGV that cannot be delivered kills.
                if (sig == Signals.SIGSEGV) {
                    forceFatal(task, Signals.SIGSEGV);
                } else {
                    force(task, SigInfo.kernel(Signals.SIGSEGV));
                }
                continue;
            }
            switch (Signals.defaultAction(sig)) {
                case IGNORE, CONTINUE, STOP -> {
                    // no job control: a stop signal is ignored, as SIGCONT and SIGCHLD are
                }
                case TERMINATE, CORE -> {
                    return sig; // a core is never written (WCOREDUMP stays clear, as with RLIMIT_CORE 0)
                }
            }
        }
        if (syscall) {
            restartWithoutHandler(cpu, ax);
        }
        s.endTemporaryMask(true);
        return 0;
    }

    private static boolean isRestartCode(long r) {
        return r == -Signals.ERESTARTSYS || r == -Signals.ERESTARTNOINTR || r == -Signals.ERESTARTNOHAND
                || r == -Signals.ERESTART_RESTARTBLOCK;
    }

    /** handle_signal's switch: EINTR, or the call made again when it must be or SA_RESTART asks. */
    private static long restartForHandler(Task.Cpu cpu, long ax, long flags) {
        if (ax == -Signals.ERESTART_RESTARTBLOCK || ax == -Signals.ERESTARTNOHAND
                || ax == -Signals.ERESTARTSYS && (flags & SA_RESTART) == 0) {
            cpu.setReg(RAX, -Errno.EINTR.number());
            return -Errno.EINTR.number();
        }
        cpu.setReg(RAX, cpu.reg(ORIG_RAX));
        cpu.setReg(RIP, cpu.reg(RIP) - 2);
        return cpu.reg(RAX);
    }

    /** arch_do_signal_or_restart with no handler: every restart code restarts; RESTARTBLOCK through restart_syscall. */
    private static void restartWithoutHandler(Task.Cpu cpu, long ax) {
        cpu.setReg(RAX, ax == -Signals.ERESTART_RESTARTBLOCK ? NR_RESTART_SYSCALL : cpu.reg(ORIG_RAX));
        cpu.setReg(RIP, cpu.reg(RIP) - 2);
    }

    /**
     * Linux's force_sig_fault: a signal the guest may not block or ignore
     * (a fault it cannot take). Blocked or ignored, it is unblocked and its
     * action reset to SIG_DFL; a handler it has runs. Made pending, taken by
     * the next {@link #beforeResume}. A SIGSEGV, SIGBUS, SIGILL or SIGFPE with
     * an address is recorded as the fault the next frame's sigcontext reports
     * (cr2, trapno 14, err: user mode, present for SEGV_ACCERR).
     */
    public static void force(Task task, SigInfo info) {
        Signals s = task.signals();
        int sig = info.signo();
        synchronized (s) {
            Action a = s.action(sig);
            boolean blocked = (s.blocked() & Signals.bit(sig)) != 0;
            if (blocked || a.handler() == Signals.SIG_IGN) {
                s.setAction(sig, new Action(Signals.SIG_DFL, a.flags(), a.restorer(), a.mask()));
                if (blocked) {
                    s.setBlocked(s.blocked() & ~Signals.bit(sig));
                }
            }
            if (sig == Signals.SIGSEGV && info.code() > 0 && info.code() < 0x80) {
                s.setFaultInfo(info.addr(), X86_TRAP_PF, 4 | (info.code() == 2 ? 1 : 0));
            }
            s.post(info);
        }
    }

    /** Linux's force_fatal_sig: the action reset whatever it was, unblocked: it kills. */
    private static void forceFatal(Task task, int sig) {
        Signals s = task.signals();
        synchronized (s) {
            Action a = s.action(sig);
            s.setAction(sig, new Action(Signals.SIG_DFL, a.flags(), a.restorer(), a.mask()));
            s.setBlocked(s.blocked() & ~Signals.bit(sig));
            s.post(SigInfo.kernel(sig));
        }
    }

    /**
     * get_sigframe, x64_setup_rt_frame and signal_delivered: the frame and
     * XSAVE area written, the handler's registers set, the mask and
     * alternate stack updated. False when the frame could not be written
     * (no SA_RESTORER, an overflowing alternate stack, a fault): the caller
     * forces SIGSEGV.
     */
    private static boolean setupFrame(Task task, SigInfo info, Action a) {
        Task.Cpu cpu = task.cpu();
        Signals s = task.signals();
        int sig = info.signo();
        long[] regs = new long[27];
        for (int i = 0; i < regs.length; i++) {
            regs[i] = cpu.reg(i);
        }
        if ((a.flags() & SA_RESTORER) == 0) {
            return false; // x86-64 has no vDSO restorer: Linux refuses with EFAULT
        }
        byte[] xstate = cpu.xstate();
        long[] fault = s.faultInfo();
        long mask = s.maskToSave();
        AltStack alt = s.altStack();

        long sp = regs[RSP];
        boolean nestedAltstack = s.onSigStack(sp);
        boolean enteringAltstack = false;
        sp -= REDZONE;
        if ((a.flags() & SA_ONSTACK) != 0 && s.sasSsFlags(sp) == 0) {
            sp = alt.sp() + alt.size();
            enteringAltstack = true;
        }
        long fpstate = (sp - (xstate.length + FP_XSTATE_MAGIC2_SIZE)) & ~63L; // fpu__alloc_mathframe
        long frame = ((fpstate - FRAME_SIZE) & ~15L) - 8; // align_sigframe: as after a call
        if ((nestedAltstack || enteringAltstack) && !s.onStackRange(frame)) {
            return false; // it would overflow the alternate stack: Linux gives up rather than write past it
        }
        try {
            GuestMemory.write(task, fpstate, sigframeXstate(xstate));
            ByteBuffer f = GuestMemory.struct(FRAME_SIZE);
            f.putLong(0, a.restorer());
            f.putLong(UC_FLAGS, UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS);
            f.putLong(UC_LINK, 0);
            f.putLong(UC_STACK, alt.sp()).putInt(UC_STACK + 8, alt.flags()).putLong(UC_STACK + 16, alt.size());
            for (int i = 0; i < SIGCONTEXT_REGS.length; i++) {
                f.putLong(MCONTEXT + 8 * i, regs[SIGCONTEXT_REGS[i]]);
            }
            f.putShort(MCONTEXT + SC_CS, (short) regs[CS]).putShort(MCONTEXT + SC_GS, (short) 0).putShort(MCONTEXT + SC_FS, (short) 0)
                    .putShort(MCONTEXT + SC_SS, (short) regs[SS]);
            f.putLong(MCONTEXT + SC_ERR, fault[2]).putLong(MCONTEXT + SC_TRAPNO, fault[1]).putLong(MCONTEXT + SC_OLDMASK, mask)
                    .putLong(MCONTEXT + SC_CR2, fault[0]).putLong(MCONTEXT + SC_FPSTATE, fpstate);
            f.putLong(UC_SIGMASK, mask);
            boolean siginfo = (a.flags() & SA_SIGINFO) != 0;
            if (siginfo) {
                f.put(INFO, info.toBytes());
            }
            // Without SA_SIGINFO Linux leaves the siginfo's bytes as they were; rsi points there all the same.
            GuestMemory.write(task, frame, siginfo ? f.array() : java.util.Arrays.copyOf(f.array(), INFO));
        } catch (ErrnoException e) {
            return false;
        }
        cpu.setReg(RDI, sig);
        cpu.setReg(RAX, 0);
        cpu.setReg(RSI, frame + INFO);
        cpu.setReg(RDX, frame + UC);
        cpu.setReg(RIP, a.handler());
        cpu.setReg(RSP, frame);
        cpu.setReg(CS, USER_CS);
        if (regs[SS] != USER_DS) {
            cpu.setReg(SS, USER_DS); // force_valid_ss: the handler runs with a valid stack segment
        }
        cpu.setReg(EFLAGS, regs[EFLAGS] & ~HANDLER_CLEARS);
        cpu.setXstate(initialXstate(xstate));
        // signal_delivered: the handler runs with sa_mask and, unless SA_NODEFER, its own signal blocked.
        synchronized (s) {
            s.endTemporaryMask(false);
            s.setBlocked(s.blocked() | a.mask() | ((a.flags() & SA_NODEFER) != 0 ? 0 : Signals.bit(sig)));
            if ((s.altStack().flags() & Signals.SS_AUTODISARM) != 0) {
                s.setAltStack(new AltStack(0, Signals.SS_DISABLE, 0)); // sas_ss_reset; uc_stack has it for sigreturn
            }
        }
        return true;
    }

    /**
     * The XSAVE area as a frame holds it (copy_fpstate_to_sigframe and
     * save_xstate_epilog): the guest's state, the software-reserved bytes
     * (FP_XSTATE_MAGIC1, the extended size with MAGIC2, the user features,
     * the XSAVE size), x87 and SSE marked in use, FP_XSTATE_MAGIC2 after it.
     * The host's area has the user features (XCR0) in the first of those bytes.
     */
    static byte[] sigframeXstate(byte[] xstate) {
        ByteBuffer b = ByteBuffer.allocate(xstate.length + FP_XSTATE_MAGIC2_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, xstate);
        long userFeatures = b.getLong(FX_SW_BYTES);
        b.put(FX_SW_BYTES, new byte[FXSAVE_SIZE - FX_SW_BYTES]);
        b.putInt(FX_SW_BYTES, FP_XSTATE_MAGIC1).putInt(FX_SW_BYTES + 4, xstate.length + FP_XSTATE_MAGIC2_SIZE)
                .putLong(FX_SW_BYTES + 8, userFeatures).putInt(FX_SW_BYTES + 16, xstate.length);
        b.putLong(XSTATE_BV, b.getLong(XSTATE_BV) | XFEATURE_MASK_FPSSE);
        b.putInt(xstate.length, FP_XSTATE_MAGIC2);
        return b.array();
    }

    /**
     * The state a handler starts with (fpu__clear_user_states): x87 and SSE
     * at their initial values (FCW 0x37f, MXCSR 0x1f80, registers zero),
     * every other component initial, but PKRU as it was.
     */
    static byte[] initialXstate(byte[] xstate) {
        ByteBuffer b = ByteBuffer.wrap(xstate.clone()).order(ByteOrder.LITTLE_ENDIAN);
        int mxcsrMask = b.getInt(FX_MXCSR_MASK);
        b.put(0, new byte[FX_SW_BYTES]);
        b.putShort(FX_FCW, (short) 0x37f).putInt(FX_MXCSR, 0x1f80).putInt(FX_MXCSR_MASK, mxcsrMask);
        b.putLong(XSTATE_BV, XFEATURE_MASK_FPSSE | (b.getLong(XSTATE_BV) & XFEATURE_MASK_PKRU));
        return b.array();
    }

    /** A frame rt_sigreturn cannot take: the guest gets SIGSEGV (Linux's signal_fault). */
    private static final class BadFrame extends Exception {
        BadFrame() {
            super(null, null, false, false);
        }
    }

    /**
     * rt_sigreturn (15), in Linux's order: the frame is at rsp - 8; its
     * uc_sigmask and uc_flags read (a fault: SIGSEGV), the mask set, the
     * sigcontext read and the registers restored (cs and ss with RPL 3,
     * the flags of FIX_EFLAGS only, orig_rax -1 so nothing restarts), the
     * XSAVE area restored, then uc_stack put back as sigaltstack would
     * (its errors ignored). Returns the restored rax. A bad frame: SIGSEGV,
     * with what was restored before it kept.
     */
    private static long rtSigreturn(Task t) {
        Task.Cpu cpu = t.cpu();
        long frame = cpu.reg(RSP) - 8;
        try {
            if (!GuestMemory.accessOk(frame, FRAME_SIZE)) {
                throw new BadFrame();
            }
            long mask = readFrame(t, frame + UC_SIGMASK, 8).getLong(0);
            long ucFlags = readFrame(t, frame + UC_FLAGS, 8).getLong(0);
            t.signals().setBlocked(mask);
            t.signals().setRestart(null); // a restart pending before the handler: the interrupted call gets EINTR
            ByteBuffer sc = readFrame(t, frame + MCONTEXT, SIGCONTEXT_READ);
            long flags = cpu.reg(EFLAGS);
            for (int i = 0; i < SIGCONTEXT_REGS.length; i++) {
                if (SIGCONTEXT_REGS[i] != EFLAGS) {
                    cpu.setReg(SIGCONTEXT_REGS[i], sc.getLong(8 * i));
                }
            }
            cpu.setReg(EFLAGS, (flags & ~FIX_EFLAGS) | (sc.getLong(8 * 17) & FIX_EFLAGS));
            cpu.setReg(ORIG_RAX, -1);
            long cs = (sc.getShort(SC_CS) & 0xffff) | 3;
            long ss = (sc.getShort(SC_SS) & 0xffff) | 3;
            if (ss != USER_DS && (ucFlags & UC_STRICT_RESTORE_SS) == 0) {
                ss = USER_DS; // force_valid_ss, for frames that predate restoring ss
            }
            if (cs != USER_CS || ss != USER_DS) {
                // Linux would return to these selectors and fault there (or run 32-bit code with 0x23,
                // which this kernel does not): the guest gets its SIGSEGV here instead.
                throw new BadFrame();
            }
            restoreXstate(t, sc.getLong(SC_FPSTATE));
            ByteBuffer st = readFrame(t, frame + UC_STACK, Signals.STACK_SIZE);
            t.signals().changeAltStack(cpu.reg(RSP), st.getLong(0), st.getInt(8), st.getLong(16), Signals.MINSIGSTKSZ);
            return cpu.reg(RAX);
        } catch (BadFrame e) {
            force(t, SigInfo.kernel(Signals.SIGSEGV));
            return 0;
        }
    }

    private static ByteBuffer readFrame(Task t, long addr, int size) throws BadFrame {
        try {
            return GuestMemory.read(t, addr, size);
        } catch (ErrnoException e) {
            throw new BadFrame();
        }
    }

    /**
     * fpu__restore_sig for a 64-bit frame: no area, the initial state; an
     * area whose software bytes or MAGIC2 do not check out, its legacy
     * (FXSAVE) part only, the rest initial; else the features its software
     * bytes name, from its XSAVE image. What XRSTOR would refuse (a feature
     * the CPU has not enabled, a compacted or dirty header, a reserved MXCSR
     * bit) is a bad frame, with the state reset to the initial one.
     */
    private static void restoreXstate(Task t, long buf) throws BadFrame {
        Task.Cpu cpu = t.cpu();
        byte[] current = cpu.xstate();
        if (buf == 0) {
            cpu.setXstate(initialXstate(current));
            return;
        }
        int userSize = current.length;
        long userFeatures = ByteBuffer.wrap(current).order(ByteOrder.LITTLE_ENDIAN).getLong(FX_SW_BYTES);
        try {
            if (!GuestMemory.accessOk(buf, userSize + FP_XSTATE_MAGIC2_SIZE)) {
                throw new BadFrame();
            }
            ByteBuffer sw = readFrame(t, buf + FX_SW_BYTES, 48);
            int xstateSize = sw.getInt(16);
            boolean fxOnly = sw.getInt(0) != FP_XSTATE_MAGIC1 || xstateSize < XSAVE_HEADER_END || xstateSize > userSize
                    || Integer.compareUnsigned(xstateSize, sw.getInt(4)) > 0;
            if (!fxOnly) {
                fxOnly = readFrame(t, buf + xstateSize, 4).getInt(0) != FP_XSTATE_MAGIC2;
            }
            long restore = fxOnly ? XFEATURE_MASK_FPSSE : sw.getLong(8) & userFeatures;
            ByteBuffer image = readFrame(t, buf, fxOnly ? FXSAVE_SIZE : xstateSize);
            ByteBuffer area = ByteBuffer.allocate(userSize).order(ByteOrder.LITTLE_ENDIAN);
            area.put(0, image.array());
            int mxcsrMask = ByteBuffer.wrap(current).order(ByteOrder.LITTLE_ENDIAN).getInt(FX_MXCSR_MASK);
            if ((area.getInt(FX_MXCSR) & ~(mxcsrMask == 0 ? 0xffbf : mxcsrMask)) != 0) {
                throw new BadFrame(); // #GP in FXRSTOR/XRSTOR
            }
            long bv;
            if (fxOnly) {
                bv = XFEATURE_MASK_FPSSE;
                area.put(XSTATE_BV, new byte[XSAVE_HEADER_END - XSTATE_BV]);
            } else {
                bv = area.getLong(XSTATE_BV);
                if ((bv & ~userFeatures) != 0 || area.getLong(XCOMP_BV) != 0) {
                    throw new BadFrame(); // #GP in XRSTOR
                }
                for (int i = XCOMP_BV + 8; i < XSAVE_HEADER_END; i++) {
                    if (area.get(i) != 0) {
                        throw new BadFrame();
                    }
                }
                bv &= restore;
            }
            area.putLong(XSTATE_BV, bv);
            area.put(FX_SW_BYTES, current, FX_SW_BYTES, FXSAVE_SIZE - FX_SW_BYTES); // the host's own words there
            cpu.setXstate(area.array());
        } catch (BadFrame e) {
            cpu.setXstate(initialXstate(current));
            throw e;
        }
    }

    /** restart_syscall (219): what the interrupted call left to do, or EINTR when nothing is (Linux's do_no_restart_syscall). */
    private static long restartSyscall(Task t) {
        Handler h = t.signals().takeRestart();
        return h == null ? -Errno.EINTR.number() : h.serve(t);
    }
}
