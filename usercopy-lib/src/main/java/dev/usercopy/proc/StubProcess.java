package dev.usercopy.proc;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import dev.usercopy.platform.GuestStub;
import dev.usercopy.platform.Ptrace;
import dev.usercopy.sys.Signals;
import dev.usercopy.sys.Task;

import static dev.usercopy.platform.user_regs_struct.CS;
import static dev.usercopy.platform.user_regs_struct.EFLAGS;
import static dev.usercopy.platform.user_regs_struct.ORIG_RAX;
import static dev.usercopy.platform.user_regs_struct.R10;
import static dev.usercopy.platform.user_regs_struct.R8;
import static dev.usercopy.platform.user_regs_struct.R9;
import static dev.usercopy.platform.user_regs_struct.RAX;
import static dev.usercopy.platform.user_regs_struct.RDI;
import static dev.usercopy.platform.user_regs_struct.RDX;
import static dev.usercopy.platform.user_regs_struct.RIP;
import static dev.usercopy.platform.user_regs_struct.RSI;
import static dev.usercopy.platform.user_regs_struct.RSP;
import static dev.usercopy.platform.user_regs_struct.SS;

/**
 * The host process a guest runs in, as its tracer thread drives it: the
 * stub spawned and emptied, host calls injected at the stub's
 * {@code syscall; int3}, the child's registers cached for a stop (loaded
 * once, stored once before the resume), its stops waited for, and its end.
 * What the guest's stops mean is {@link Tracer}'s business; this class
 * knows only the host side. Every method but {@link #signal} and
 * {@link #pid} must be called on the thread that spawned it (the host's
 * tracer is a thread).
 */
final class StubProcess implements ChildMirror.Injector {
    static final int SYSCALL_STOP = Ptrace.SIGTRAP | 0x80;
    /** The host signal a tracer kicks its running child with: ignored by default, so a stray one harms nothing. */
    static final int SIGKICK = 23;
    private static final int SYS_PRLIMIT64 = 302;
    private static final int RLIMIT_CORE = 4;
    private static final long JVM_PID = ProcessHandle.current().pid();
    /** For a test of the stub's seccomp filter: a syscall number the setup injects as well (-1: none). */
    static volatile int injectAtSetupForTest = -1;

    /** A stop that ended the child: its wait status. */
    static final class ChildGone extends Task.Fatal {
        final int status;

        ChildGone(int status) {
            super(null, false);
            this.status = status;
        }
    }

    private final int pid;
    private final Ptrace.Tracee tracee;
    /** Where a signal met during an injected call goes: it is the guest's (a spare has no guest yet, and drops it). */
    private final Consumer<Signals.SigInfo> stray;
    /** The child has been waited for to its end: its pid may be another process's now. */
    private volatile boolean reaped;
    /** The register buffer holds the child's registers at this stop (false from each resume until a load). */
    private boolean regsLoaded;
    private boolean regsDirty;
    /** The extended CPU state of the fresh stub: what a program starts with, and gets back at execve. */
    private final byte[] initialXstate;

    /**
     * Spawns the stub and makes its host process an empty shell for a
     * guest: nothing of it left reachable but {@code syscall; int3}, which
     * is execute-only (where the host has protection keys), and no core
     * file if a guest dies of a signal.
     */
    StubProcess(Arena arena, int frameFile, Consumer<Signals.SigInfo> stray) {
        this.stray = stray;
        pid = Ptrace.spawn(GuestStub.path(), frameFile, GuestStub.FRAME_FD);
        tracee = new Ptrace.Tracee(pid, arena);
        try {
            initialXstate = setUp();
        } catch (RuntimeException e) {
            end(); // a stub that could not be set up is killed and reaped, not left to its tracer's end
            throw e;
        }
    }

    /** The stub's stop, the options, and its emptying; the fresh XSAVE area. */
    private byte[] setUp() {
        int st = waitStop();
        if (!Ptrace.stopped(st) || Ptrace.stopSig(st) != Ptrace.SIGSTOP) {
            throw new IllegalStateException("the guest stub did not stop for its tracer (wait status 0x" + Integer.toHexString(st)
                    + "): is ptrace allowed here?");
        }
        Ptrace.pinWith(pid);
        Ptrace.ptraceOrThrow(Ptrace.PTRACE_SETOPTIONS, pid, 0, Ptrace.PTRACE_O_EXITKILL | Ptrace.PTRACE_O_TRACESYSGOOD);
        byte[] fresh = tracee.xstate();
        loadRegs();
        // Nothing of the stub's host process may stay reachable: its stack, vvar and vDSO go.
        check("munmap", syscall(ChildMirror.SYS_MUNMAP, 0, GuestStub.BASE, 0, 0, 0, 0));
        check("munmap", syscall(ChildMirror.SYS_MUNMAP, GuestStub.BASE + GuestStub.SIZE,
                GuestStub.USER_TOP - GuestStub.BASE - GuestStub.SIZE, 0, 0, 0, 0));
        check("prlimit64", syscall(SYS_PRLIMIT64, 0, RLIMIT_CORE, GuestStub.ZEROS, 0, 0, 0));
        // From now on the stub only runs `syscall; int3`: execute-only, so a guest cannot read it
        // (where the host has protection keys; elsewhere PROT_EXEC reads too).
        check("mprotect", syscall(ChildMirror.SYS_MPROTECT, GuestStub.BASE, GuestStub.SIZE, 4, 0, 0, 0));
        if (injectAtSetupForTest >= 0) {
            syscall(injectAtSetupForTest, 0, 0, 0, 0, 0, 0);
        }
        loadRegs();
        return fresh;
    }

    /** Fails the setup when an injected host call of it failed. */
    static void check(String call, long r) {
        if (r < 0) {
            throw new IllegalStateException(call + " in the guest stub failed: errno " + -r);
        }
    }

    /** The child's host pid. Any thread. */
    int pid() {
        return pid;
    }

    /** Sends host signal {@code sig} to the child unless it has been reaped (its pid may be another's then). Any thread. */
    void signal(int sig) {
        if (!reaped) {
            Ptrace.kill(pid, sig);
        }
    }

    /** Whether the child has been waited for to its end. */
    boolean reaped() {
        return reaped;
    }

    /** Whether {@code address} is in the stub's page, where a guest has nothing mapped. */
    static boolean inStub(long address) {
        return address >= GuestStub.BASE && address < GuestStub.BASE + GuestStub.SIZE;
    }

    /** Whether {@code sig} with {@code code} and sender {@code sender} is a tracer's kick from this JVM, not a signal to the guest. */
    static boolean isKick(int sig, int code, int sender) {
        return sig == SIGKICK && code <= 0 && sender == JVM_PID;
    }

    /** The next stop or end of the child. */
    int waitStop() {
        int st = tracee.waitStatus();
        if (!Ptrace.stopped(st)) {
            reaped = true;
        }
        return st;
    }

    /** Runs the guest on ({@code PTRACE_SYSEMU}, registers stored first if changed) to its next stop or end: the wait status. */
    int resume() {
        if (regsDirty) {
            tracee.storeRegs();
            regsDirty = false;
        }
        tracee.resume(Ptrace.PTRACE_SYSEMU, 0);
        regsLoaded = false;
        return waitStop();
    }

    /**
     * Makes host syscall {@code nr} in the child at the stub's
     * {@code syscall; int3}, then puts its registers back. A signal that
     * arrives meanwhile goes to the guest ({@link #stray}), not lost;
     * the tracer's own kick is dropped.
     */
    @Override
    public long syscall(int nr, long a0, long a1, long a2, long a3, long a4, long a5) {
        loadRegs(); // what is saved and put back must be the child's registers at this stop, not an older stop's
        long[] saved = tracee.saveRegs();
        tracee.setReg(RAX, nr);
        tracee.setReg(ORIG_RAX, -1);
        tracee.setReg(RDI, a0);
        tracee.setReg(RSI, a1);
        tracee.setReg(RDX, a2);
        tracee.setReg(R10, a3);
        tracee.setReg(R8, a4);
        tracee.setReg(R9, a5);
        tracee.setReg(RIP, GuestStub.INJECT);
        tracee.storeRegs();
        tracee.resume(Ptrace.PTRACE_CONT, 0);
        while (true) {
            int st = waitStop();
            if (!Ptrace.stopped(st)) {
                throw new ChildGone(st);
            }
            int sig = Ptrace.stopSig(st);
            if (sig == Ptrace.SIGTRAP) {
                tracee.loadRegs();
                if (tracee.reg(RIP) == GuestStub.INJECT + 3) {
                    break; // the stub's int3, after the call: anyone may send a SIGTRAP, only this one is ours
                }
                stray.accept(new Signals.SigInfo(sig, 0, 0, 0, 0, 0)); // sent from outside
            } else if (sig != SYSCALL_STOP) {
                long[] info = tracee.siginfo();
                if (!isKick(sig, (int) info[1], (int) info[2])) {
                    stray.accept(new Signals.SigInfo(sig, (int) info[1], 0, 0, 0, 0));
                }
            }
            tracee.resume(Ptrace.PTRACE_CONT, 0);
        }
        long r = tracee.reg(RAX);
        tracee.restoreRegs(saved);
        regsDirty = true;
        return r;
    }

    void loadRegs() {
        if (!regsLoaded) {
            tracee.loadRegs();
            regsLoaded = true;
        }
    }

    /** Register {@code i} ({@code user_regs_struct}'s index) at this stop. */
    long reg(int i) {
        loadRegs();
        return tracee.reg(i);
    }

    /** Sets register {@code i} for the next resume. */
    void setReg(int i, long value) {
        loadRegs();
        tracee.setReg(i, value);
        regsDirty = true;
    }

    /** A copy of every register at this stop. */
    long[] saveRegs() {
        loadRegs();
        return tracee.saveRegs();
    }

    /** The registers a program starts with: zero, but rip, rsp, eflags and the host's segments. */
    void startAt(long entry, long sp) {
        loadRegs();
        long cs = tracee.reg(CS);
        long ss = tracee.reg(SS);
        for (int i = 0; i < 27; i++) {
            tracee.setReg(i, 0);
        }
        tracee.setReg(CS, cs);
        tracee.setReg(SS, ss);
        tracee.setReg(RIP, entry);
        tracee.setReg(RSP, sp);
        tracee.setReg(EFLAGS, 0x202);
        tracee.setReg(ORIG_RAX, -1);
        regsDirty = true;
    }

    /** A fork's child starts from its parent's registers {@code regs}, in this host's segments, at no syscall. */
    void startFrom(long[] regs) {
        loadRegs();
        long cs = tracee.reg(CS);
        long ss = tracee.reg(SS);
        tracee.restoreRegs(regs);
        tracee.setReg(CS, cs);
        tracee.setReg(SS, ss);
        tracee.setReg(ORIG_RAX, -1);
        regsDirty = true;
    }

    /** The signal-delivery stop's siginfo: signo, code, and the word at offset 16 (si_addr, or the sender's pid and uid). */
    long[] siginfo() {
        return tracee.siginfo();
    }

    /** The arch of the syscall the child is stopped at, or -1 where the host cannot say. */
    long syscallArch() {
        return tracee.syscallArch();
    }

    /** The child's XSAVE area ({@code NT_X86_XSTATE}). */
    byte[] xstate() {
        return tracee.xstate();
    }

    void setXstate(byte[] area) {
        tracee.setXstate(area);
    }

    /** The FPU, SSE and AVX state a fresh process starts with: Linux clears it at execve. */
    void resetXstate() {
        tracee.setXstate(initialXstate);
    }

    /** Whether the child still runs or is stopped (not a zombie, not gone): for a long sleep to notice a SIGKILL. */
    boolean alive() {
        if (reaped) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    /** Kills and reaps the child, if it lives. */
    void end() {
        if (reaped) {
            return;
        }
        Ptrace.kill(pid, Ptrace.SIGKILL);
        while (Ptrace.stopped(waitStop())) {
            // a stop on the way to its end
        }
    }

    /** The guest's wait status from the host's: a host process that died of a signal (SIGKILL from outside) died of it as a guest. */
    static int guestStatus(int st) {
        return Ptrace.exited(st) ? (Ptrace.exitCode(st) & 0xff) << 8 : Ptrace.termSig(st);
    }
}
