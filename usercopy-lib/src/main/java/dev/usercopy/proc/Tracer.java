package dev.usercopy.proc;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.platform.GuestStub;
import dev.usercopy.platform.NativeCallException;
import dev.usercopy.platform.Ptrace;
import dev.usercopy.sys.FileTable;
import dev.usercopy.sys.FsContext;
import dev.usercopy.sys.Syscalls;
import dev.usercopy.sys.Task;

import static dev.usercopy.platform.user_regs_struct.CS;
import static dev.usercopy.platform.user_regs_struct.DS;
import static dev.usercopy.platform.user_regs_struct.EFLAGS;
import static dev.usercopy.platform.user_regs_struct.ES;
import static dev.usercopy.platform.user_regs_struct.FS;
import static dev.usercopy.platform.user_regs_struct.FS_BASE;
import static dev.usercopy.platform.user_regs_struct.GS;
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
 * One guest process's tracer: the platform thread that spawns the stub,
 * loads the program, and then serves the child stop by stop. The host
 * accepts ptrace requests for a child only from the thread that traces it,
 * so everything here runs on that one thread.
 *
 * <p>A stop is one of: a syscall ({@code PTRACE_SYSEMU}: the host skipped
 * it; {@link Syscalls#dispatch} serves it and its result goes in rax); a
 * SIGSEGV on a page the child does not map as it needs (the fault path
 * resolves it and {@link ChildMirror} maps it, or it is the guest's to
 * die of); another signal (delivered). Before each resume the mirror
 * catches up, so the child never runs on a stale mapping.
 */
final class Tracer implements Runnable, ChildMirror.Injector {
    static final int SYSCALL_STOP = Ptrace.SIGTRAP | 0x80;
    static final int SIGSEGV = 11;
    static final int ESRCH = 3;
    static final int SYS_PRLIMIT64 = 302;
    static final int RLIMIT_CORE = 4;
    /** The stack: 8 MiB (Linux's default RLIMIT_STACK) ending at the top of the guest's space. */
    static final long STACK_SIZE = 8L << 20;
    private static final long PAGE = AddressSpace.PAGE;
    /** For a test of the stub's seccomp filter: a syscall number the setup injects as well (-1: none). */
    static volatile int injectAtSetupForTest = -1;

    private final MemoryManager mm;
    private final ElfImage elf;
    private final String exe;
    private final String execfn;
    private final List<byte[]> argv;
    private final List<byte[]> envp;
    private final Path root;
    private final String guestCwd;
    private final Guest.Options options;
    private final ArrayDeque<Integer> pendingSignals = new ArrayDeque<>();

    private volatile int pid;
    private volatile boolean killed;
    /** The child has been waited for to its end: its pid may be another process's now. */
    private volatile boolean reaped;
    private Ptrace.Tracee tracee;
    private boolean regsDirty;
    /** The two bytes before rip at a syscall stop: the instruction that made the call. */
    private final byte[] insn = new byte[2];
    /** The register buffer holds the child's registers at this stop (false from each resume until a load). */
    private boolean regsLoaded;
    private ChildMirror mirror;
    private AddressSpace space;
    private long syscalls;
    private Task task;
    /** The guest's descriptors, closed when it ends however it ends. */
    private FileTable files;
    private long guestFaults;
    private Guest.Result result;

    Tracer(MemoryManager mm, ElfImage elf, String exe, String execfn, List<byte[]> argv, List<byte[]> envp, Path root, String guestCwd,
            Guest.Options options) {
        this.mm = mm;
        this.elf = elf;
        this.exe = exe;
        this.execfn = execfn;
        this.argv = argv;
        this.envp = envp;
        this.root = root;
        this.guestCwd = guestCwd;
        this.options = options;
    }

    String name() {
        return Path.of(exe).getFileName().toString();
    }

    int pid() {
        return pid;
    }

    Guest.Result result() {
        return result;
    }

    void kill() {
        killed = true;
        int p = pid;
        if (p > 0 && !reaped) {
            Ptrace.kill(p, Ptrace.SIGKILL);
        }
    }

    /** The next stop or end of the child. */
    private int waitChild() {
        int st = tracee.waitStatus();
        if (!Ptrace.stopped(st)) {
            reaped = true;
        }
        return st;
    }

    /** A stop that ended the child: its wait status. */
    private static final class ChildGone extends RuntimeException {
        final int status;

        ChildGone(int status) {
            super(null, null, false, false);
            this.status = status;
        }
    }

    @Override
    public void run() {
        long kernelFaults = 0;
        int status;
        String error = null;
        try (Arena arena = Arena.ofConfined(); AddressSpace s = mm.newAddressSpace()) {
            space = s;
            try {
                status = runIn(s, arena);
            } catch (ErrnoException e) {
                error = e.getMessage();
                status = 127;
            } catch (ChildMirror.MirrorFailure e) {
                error = "guest killed: " + e.getMessage() + (e.errno == 12 ? " (out of host mappings: vm.max_map_count)" : "");
                status = 128 + Ptrace.SIGKILL;
            } catch (ChildGone g) {
                status = shellStatus(g.status); // it ended (killed from outside, say) while being set up
            } catch (RuntimeException e) {
                if (killed || e instanceof NativeCallException n && n.errno() == ESRCH) {
                    status = 128 + Ptrace.SIGKILL; // a child leaves a ptrace stop only by SIGKILL: then ptrace answers ESRCH
                } else {
                    error = "guest failed: " + e;
                    status = 127;
                }
            } finally {
                endChild();
                if (files != null) {
                    files.closeAll(); // the host descriptors it held
                }
                if (task != null) {
                    task.fs().close(); // and its root, --rw and working directories
                }
                kernelFaults = s.faultsResolved() - guestFaults;
                if (options.atExit() != null) {
                    options.atExit().accept(s);
                }
            }
        }
        long unknown = task == null ? 0 : task.unknownCalls();
        result = new Guest.Result(status, syscalls, unknown, guestFaults, kernelFaults, mirror == null ? 0 : mirror.injected(),
                mirror == null ? 0 : mirror.vmas(), error);
    }

    private int runIn(AddressSpace s, Arena arena) {
        ElfImage.Loaded loaded = elf.load(s);
        long top = s.size();
        s.mmap(top - STACK_SIZE, STACK_SIZE, 3 | (loaded.execStack() ? 4 : 0),
                MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS | MapFlags.GROWSDOWN);
        long sp = InitialStack.build(s, top, argv, envp, execfn, loaded);
        // The program's own pages are read in now, not a fault at a time: a fault of the child costs
        // a stop and an injected mmap, far more than copying its pages. (Its private mappings are
        // copies of the file either way; see the README on private file mappings.)
        for (long[] r : loaded.fileRanges()) {
            try {
                s.populate(r[0], r[1] - r[0], false);
            } catch (ErrnoException e) {
                // a segment the file does not fully back: its pages past the end fault as they would
            }
        }

        if (killed) {
            return 128 + Ptrace.SIGKILL;
        }
        pid = Ptrace.spawn(GuestStub.path(), mm.frameFile(), GuestStub.FRAME_FD);
        tracee = new Ptrace.Tracee(pid, arena);
        int st = waitChild();
        if (!Ptrace.stopped(st) || Ptrace.stopSig(st) != Ptrace.SIGSTOP) {
            throw new IllegalStateException("the guest stub did not stop for its tracer (wait status 0x" + Integer.toHexString(st)
                    + "): is ptrace allowed here?");
        }
        Ptrace.pinWith(pid);
        Ptrace.ptraceOrThrow(Ptrace.PTRACE_SETOPTIONS, pid, 0, Ptrace.PTRACE_O_EXITKILL | Ptrace.PTRACE_O_TRACESYSGOOD);
        loadRegs();
        // Nothing of the stub's host process may stay reachable: its stack, vvar and vDSO go.
        check("munmap", syscall(ChildMirror.SYS_MUNMAP, 0, GuestStub.BASE, 0, 0, 0, 0));
        check("munmap", syscall(ChildMirror.SYS_MUNMAP, GuestStub.BASE + GuestStub.SIZE,
                GuestStub.USER_TOP - GuestStub.BASE - GuestStub.SIZE, 0, 0, 0, 0));
        // A guest killed by a signal must not leave a core file of the stub behind.
        check("prlimit64", syscall(SYS_PRLIMIT64, 0, RLIMIT_CORE, GuestStub.ZEROS, 0, 0, 0));
        // From now on the stub only runs `syscall; int3`: execute-only, so a guest cannot read it
        // (where the host has protection keys; elsewhere PROT_EXEC reads too).
        check("mprotect", syscall(ChildMirror.SYS_MPROTECT, GuestStub.BASE, GuestStub.SIZE, 4, 0, 0, 0));
        if (injectAtSetupForTest >= 0) {
            syscall(injectAtSetupForTest, 0, 0, 0, 0, 0, 0);
        }

        mirror = new ChildMirror(s.size() / PAGE);
        s.attach(mirror);
        for (long[] r : loaded.fileRanges()) {
            for (long p = r[0] / PAGE; p < r[1] / PAGE; p++) {
                mirror.mapAt(this, p); // each run of frames once: the rest of the run is mapped already
            }
        }
        mirror.mapAt(this, (sp - 1) / PAGE);
        long cs = tracee.reg(CS);
        long ss = tracee.reg(SS);
        for (int i = 0; i < 27; i++) {
            tracee.setReg(i, 0);
        }
        tracee.setReg(CS, cs);
        tracee.setReg(SS, ss);
        tracee.setReg(DS, 0);
        tracee.setReg(ES, 0);
        tracee.setReg(FS, 0);
        tracee.setReg(GS, 0);
        tracee.setReg(RIP, loaded.entry());
        tracee.setReg(RSP, sp);
        tracee.setReg(EFLAGS, 0x202);
        tracee.setReg(ORIG_RAX, -1);
        regsDirty = true;

        // The descriptors stop where the user's soft limit did, not at the JVM's raised one.
        long nofile = dev.usercopy.sys.ResourceLimits.inherited().soft(dev.usercopy.sys.ResourceLimits.RLIMIT_NOFILE);
        files = FileTable.withStdio((int) Math.max(3, Math.min(nofile < 0 ? 1 << 20 : nofile, 1 << 20)));
        if (options.stdout() != null) {
            files.redirectOutput(1, options.stdout());
        }
        if (options.stderr() != null) {
            files.redirectOutput(2, options.stderr());
        }
        task = new Task(s, files, new FsContext(root, options.rw(), root.resolve(guestCwd.substring(1))),
                new Task.Cpu() {
                    @Override
                    public long fsBase() {
                        return tracee.reg(FS_BASE);
                    }

                    @Override
                    public void setFsBase(long base) {
                        tracee.setReg(FS_BASE, base);
                        regsDirty = true;
                    }

                    @Override
                    public int hostPid() {
                        return pid;
                    }

                    @Override
                    public boolean alive() {
                        return childAlive();
                    }
                }, exe, loaded.brk());
        return serve(task);
    }

    private static void check(String call, long r) {
        if (r < 0) {
            throw new IllegalStateException(call + " in the guest stub failed: errno " + -r);
        }
    }

    /** The stop loop: until the guest exits or dies; its status as a shell shows it. */
    private int serve(Task task) {
        try {
            while (true) {
                if (killed) {
                    return 128 + Ptrace.SIGKILL;
                }
                mirror.catchUp(this);
                if (regsDirty) {
                    tracee.storeRegs();
                    regsDirty = false;
                }
                Integer sig = pendingSignals.poll();
                tracee.resume(Ptrace.PTRACE_SYSEMU, sig == null ? 0 : sig);
                regsLoaded = false;
                int st = waitChild();
                if (!Ptrace.stopped(st)) {
                    return shellStatus(st);
                }
                int stop = Ptrace.stopSig(st);
                if (stop == SYSCALL_STOP) {
                    loadRegs();
                    if (syscall(task)) {
                        return task.exitStatus();
                    }
                } else if (stop == SIGSEGV) {
                    long[] info = tracee.siginfo();
                    // Only the kernel's own SIGSEGV (si_code > 0) is a fault; one sent by kill() is a signal.
                    if (info[1] <= 0 || !fault(info[2])) {
                        if (options.trace() != null) {
                            loadRegs();
                            options.trace().printf("--- SIGSEGV {si_code=%d, si_addr=0x%x} at rip 0x%x: not the guest's to touch ---%n",
                                    info[1], info[2], tracee.reg(RIP));
                        }
                        pendingSignals.add(SIGSEGV);
                    }
                } else {
                    signal(stop);
                }
            }
        } catch (ChildGone g) {
            return shellStatus(g.status);
        }
    }

    /** Serves one syscall stop; true when the guest asked to exit. */
    private boolean syscall(Task task) {
        syscalls++;
        long nr = tracee.reg(ORIG_RAX);
        if (inStub(tracee.reg(RIP) - 2)) {
            // The guest jumped into the stub: on Linux nothing is mapped there.
            pendingSignals.add(SIGSEGV);
            return false;
        }
        long a0 = tracee.reg(RDI), a1 = tracee.reg(RSI), a2 = tracee.reg(RDX), a3 = tracee.reg(R10), a4 = tracee.reg(R8),
                a5 = tracee.reg(R9);
        if (!viaSyscallInstruction()) {
            // int 0x80 (or sysenter) from a 64-bit program: i386 numbers; refused, never read as x86-64 ones.
            tracee.setReg(RAX, -38);
            regsDirty = true;
            trace(task, "int 0x80 / sysenter: i386 syscall " + nr + " refused", -38, 0);
            return false;
        }
        long faultsBefore = space.faultsResolved();
        String call = options.trace() != null ? Syscalls.formatCall(task, nr, new long[] {a0, a1, a2, a3, a4, a5}) : null;
        long r = Syscalls.dispatch(task, nr, a0, a1, a2, a3, a4, a5);
        if (task.exitStatus() != null) {
            if (call != null) {
                options.trace().println(call + " = ?");
            }
            return true;
        }
        tracee.setReg(RAX, r);
        regsDirty = true;
        trace(task, call, r, space.faultsResolved() - faultsBefore);
        if (r == -32 && (nr == 1 || nr == 20 || nr == 18 || nr == 296) && diesOf(task, Ptrace.SIGPIPE)) {
            pendingSignals.add(Ptrace.SIGPIPE); // EPIPE from a write: the writer gets SIGPIPE too, as on Linux
        }
        return false;
    }

    /**
     * Whether signal {@code sig} sent now would end the guest: its action is
     * the default one and it is not blocked. (Handlers are not run in this
     * version: a guest that set one, or ignores or blocks the signal, goes on
     * with the syscall's errno, as it would after its handler returned.)
     */
    private static boolean diesOf(Task task, int sig) {
        return task.signals().action(sig).handler() == 0 && (task.signals().blocked() & (1L << (sig - 1))) == 0;
    }

    private void trace(Task task, String call, long r, long faults) {
        if (call == null || options.trace() == null) {
            return;
        }
        String res = call.startsWith("int 0x80") ? "" : " = " + Syscalls.formatResult(task.nr(), r);
        options.trace().println(call + res + (faults > 0 ? "  <" + faults + " fault" + (faults == 1 ? "" : "s") + ">" : ""));
    }

    /** Whether the instruction before rip is {@code syscall} (0f 05), not {@code int 0x80} or {@code sysenter}. */
    private boolean viaSyscallInstruction() {
        long rip = tracee.reg(RIP);
        if (space.copyFromUserNofault(insn, 0, rip - 2, 2) != 0) {
            // Not readable by the kernel (an execute-only page, or not present yet): resolve it and try again,
            // and where the page stays unreadable, ask the host which kind of call it stopped at.
            space.resolve(rip - 2, false);
            if (space.copyFromUserNofault(insn, 0, rip - 2, 2) != 0) {
                return tracee.syscallArch() == Ptrace.AUDIT_ARCH_X86_64; // int 0x80 reports AUDIT_ARCH_I386
            }
        }
        return insn[0] == 0x0f && insn[1] == 0x05;
    }

    /** A SIGSEGV of the child at {@code address}: true when the fault path served it. */
    private boolean fault(long address) {
        if (address < 0 || address >= space.size()) {
            return false;
        }
        long page = address / PAGE;
        // Where the child maps the page already it wanted more than it has: on x86, to write (or to execute).
        boolean write = mirror.childMapping(page) != null || space.anonymousWritable(address);
        if (!space.resolve(address, write)) {
            return false;
        }
        guestFaults++;
        return mirror.mapAt(this, page);
    }

    /** Whether the child still runs or is stopped (not a zombie, not gone): for a long sleep to notice a SIGKILL. */
    private boolean childAlive() {
        try {
            String stat = java.nio.file.Files.readString(Path.of("/proc/" + pid + "/stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    private static boolean inStub(long address) {
        return address >= GuestStub.BASE && address < GuestStub.BASE + GuestStub.SIZE;
    }

    /** Any other signal stop: a group stop is let go; a signal is delivered on the next resume. */
    private void signal(int sig) {
        if (sig == Ptrace.SIGTRAP) {
            loadRegs();
            if (inStub(tracee.reg(RIP) - 1)) {
                sig = SIGSEGV; // the stub's int3, reached by a guest that jumped there: Linux maps nothing there
            }
        }
        if (sig == Ptrace.SIGSTOP || sig == 20 || sig == 21 || sig == 22) {
            if (Ptrace.ptrace(Ptrace.PTRACE_GETSIGINFO, pid, 0, 0) == -22) {
                return; // EINVAL: a group stop, not a signal to deliver
            }
        }
        pendingSignals.add(sig);
    }

    /**
     * Makes host syscall {@code nr} in the child at the stub's
     * {@code syscall; int3}, then puts its registers back. A signal that
     * arrives meanwhile is queued for the guest, not lost.
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
            int st = waitChild();
            if (!Ptrace.stopped(st)) {
                throw new ChildGone(st);
            }
            int sig = Ptrace.stopSig(st);
            if (sig == Ptrace.SIGTRAP) {
                tracee.loadRegs();
                if (tracee.reg(RIP) == GuestStub.INJECT + 3) {
                    break; // the stub's int3, after the call: anyone may send a SIGTRAP, only this one is ours
                }
                pendingSignals.add(sig); // sent from outside: the guest's to die of
            } else if (sig != SYSCALL_STOP) {
                signal(sig);
            }
            tracee.resume(Ptrace.PTRACE_CONT, 0);
        }
        long r = tracee.reg(RAX);
        tracee.restoreRegs(saved);
        regsDirty = true;
        return r;
    }

    private void loadRegs() {
        if (!regsLoaded) {
            tracee.loadRegs();
            regsLoaded = true;
        }
    }

    /** Kills and reaps the child, if it lives. */
    private void endChild() {
        int p = pid;
        if (p <= 0 || tracee == null || reaped) {
            return;
        }
        Ptrace.kill(p, Ptrace.SIGKILL);
        while (Ptrace.stopped(waitChild())) {
            // a stop on the way to its end
        }
    }

    private static int shellStatus(int st) {
        return Ptrace.exited(st) ? Ptrace.exitCode(st) : 128 + Ptrace.termSig(st);
    }
}
