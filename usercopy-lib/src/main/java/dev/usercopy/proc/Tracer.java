package dev.usercopy.proc;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.platform.GuestStub;
import dev.usercopy.platform.NativeCallException;
import dev.usercopy.platform.Ptrace;
import dev.usercopy.sys.FileTable;
import dev.usercopy.sys.FsContext;
import dev.usercopy.sys.SignalDelivery;
import dev.usercopy.sys.Signals;
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
 * resolves it and {@link ChildMirror} maps it, or it is forced on the guest
 * as a signal); the tracer's own kick (SIGURG from this JVM: a signal is
 * pending for the guest); another host signal (made the guest's). Before
 * each resume the guest's pending signals are delivered
 * ({@link SignalDelivery}) and the mirror catches up, so the child never
 * runs on a stale mapping.
 *
 * <p>A tracer starts either the first process of a tree (it loads the
 * program) or a fork's child (it starts from the parent's registers over
 * the child's copy of the address space). An execve replaces the program
 * in the same host process: a new address space, loaded before anything of
 * the old one is let go, then swapped in.
 */
final class Tracer implements Runnable, ChildMirror.Injector, Task.Cpu {
    static final int SYSCALL_STOP = Ptrace.SIGTRAP | 0x80;
    static final int SIGSEGV = 11;
    /** The host signal a tracer kicks its running child with: ignored by default, so a stray one harms nothing. */
    static final int SIGKICK = 23;
    static final int ESRCH = 3;
    static final int EAGAIN = 11;
    static final int SYS_PRLIMIT64 = 302;
    static final int RLIMIT_CORE = 4;
    /** The stack: 8 MiB (Linux's default RLIMIT_STACK) ending at the top of the guest's space. */
    static final long STACK_SIZE = 8L << 20;
    private static final long PAGE = AddressSpace.PAGE;
    private static final long JVM_PID = ProcessHandle.current().pid();
    /** For a test of the stub's seccomp filter: a syscall number the setup injects as well (-1: none). */
    static volatile int injectAtSetupForTest = -1;

    /** How a first process starts: its program and what it is given. */
    record Program(ElfImage elf, String exe, String execfn, List<byte[]> argv, List<byte[]> envp, String guestCwd) {}

    private final GuestTree tree;
    private final MemoryManager mm;
    private final Guest.Options options;
    /** The first process's program; null for a fork's child. */
    private final Program program;
    /** A fork's child to run: its task and the registers it starts from (null: dismissed unused). */
    record Job(Task task, long[] regs, byte[] xstate) {}

    /**
     * For a fork's child: the job, given once its process is spawned or
     * while it is (a spare made ahead). A host process whose guest ended at
     * a stop serves the next fork: both futures are new for each job.
     */
    volatile CompletableFuture<Job> job = new CompletableFuture<>();
    /** Completed with 0 when a fork's child is ready to run, or -errno when it cannot be. */
    volatile CompletableFuture<Long> started = new CompletableFuture<>();

    private volatile int pid;
    private volatile boolean killed;
    /** The child may be running guest code: a wake must kick it. */
    private volatile boolean running;
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
    private Task task;
    private long guestFaults;
    private long syscalls;
    private int status;
    private String error;
    private long vmas;

    /** The first process of {@code tree}, running {@code program}. */
    Tracer(GuestTree tree, Program program) {
        this.tree = tree;
        this.mm = tree.mm;
        this.options = tree.options;
        this.program = program;
    }

    /**
     * A process for a fork's child of {@code tree}: it spawns its stub at
     * once and then waits for its {@link #job}, so a tree can keep one ready
     * before the next fork needs it.
     */
    Tracer(GuestTree tree) {
        this.tree = tree;
        this.mm = tree.mm;
        this.options = tree.options;
        this.program = null;
    }

    String name() {
        return program != null ? Path.of(program.exe()).getFileName().toString() : "child";
    }

    int pid() {
        return pid;
    }

    void kill() {
        killed = true;
        int p = pid;
        if (p > 0 && !reaped) {
            Ptrace.kill(p, Ptrace.SIGKILL);
        }
        Task t = task;
        if (t != null) {
            t.wake(); // out of a wait in Java
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
    private static final class ChildGone extends Task.Fatal {
        final int status;

        ChildGone(int status) {
            super(null, false);
            this.status = status;
        }
    }

    @Override
    public void run() {
        int status = 127 << 8;
        try (Arena arena = Arena.ofConfined()) {
            try {
                status = program != null ? runFirst(arena) : runForked(arena);
            } catch (ErrnoException e) {
                error = e.getMessage();
                status = 127 << 8;
            } catch (ChildMirror.MirrorFailure e) {
                error = "guest killed: " + e.getMessage() + (e.errno == 12 ? " (out of host mappings: vm.max_map_count)" : "");
                status = Ptrace.SIGKILL;
            } catch (ChildGone g) {
                status = waitStatus(g.status);
            } catch (RuntimeException e) {
                if (killed || e instanceof NativeCallException n && n.errno() == ESRCH) {
                    status = Ptrace.SIGKILL; // a child leaves a ptrace stop only by SIGKILL: then ptrace answers ESRCH
                } else {
                    error = "guest failed: " + e;
                    status = 127 << 8;
                }
            } finally {
                endChild();
                // A fork's child that never got going: its fork fails with EAGAIN and the parent takes the task back.
                boolean neverRan = program == null && (task == null || started.complete((long) -EAGAIN));
                if (task != null && !neverRan) {
                    finish(status);
                }
                if (error != null && options.trace() != null) {
                    options.trace().println("--- " + prefix() + error + " ---");
                }
                this.status = status;
                tree.ended(this);
            }
        }
    }

    /** How the process ended, with what its tree cost so far: once its thread has ended. */
    Guest.Result result() {
        int shown = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
        return new Guest.Result(shown, tree.syscalls.get(), tree.unknownSyscalls.get(), tree.guestFaults.get(),
                tree.kernelFaults.get(), tree.injected.get(), vmas, error);
    }

    /** The task ended with wait status {@code status}: what it held let go, its parent told, init's end kills the rest. */
    private void finish(int status) {
        tree.syscalls.addAndGet(syscalls);
        tree.unknownSyscalls.addAndGet(task.unknownCalls());
        tree.guestFaults.addAndGet(guestFaults);
        if (mirror != null) {
            tree.injected.addAndGet(mirror.injected());
            vmas = mirror.vmas();
            space.detach(mirror);
        }
        if (task.pid() == 1 && options.atExit() != null) {
            options.atExit().accept(task.space());
        }
        if (options.processEnds() != null) {
            AddressSpace.Usage u = task.space().usage();
            int shown = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
            options.processEnds().accept(new Guest.ProcessEnd(task.pid(), task.ppid(), task.exe(), shown, syscalls, u.frames(),
                    u.sharedFrames(), u.cowBreaks()));
        }
        task.releaseResources();
        if (task.pid() == 1) {
            tree.dismissSpare(); // no fork comes after init's end
        }
        for (Task other : task.processes().exited(task, status)) {
            other.post(new Signals.SigInfo(Signals.SIGKILL, Signals.SigInfo.SI_KERNEL, 0, 0, 0, 0));
        }
    }

    /** Loads the first program, starts its process, and serves it: the wait status it ended with. */
    private int runFirst(Arena arena) {
        AddressSpace s = mm.newAddressSpace();
        long sp;
        ElfImage.Loaded loaded;
        try {
            loaded = program.elf().load(s);
            sp = buildStack(s, loaded, program.argv(), program.envp(), program.execfn());
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        // The descriptors stop where the user's soft limit did, not at the JVM's raised one.
        long nofile = dev.usercopy.sys.ResourceLimits.inherited().soft(dev.usercopy.sys.ResourceLimits.RLIMIT_NOFILE);
        FileTable files = FileTable.withStdio((int) Math.max(3, Math.min(nofile < 0 ? 1 << 20 : nofile, 1 << 20)));
        try {
            if (options.stdout() != null) {
                files.redirectOutput(1, options.stdout());
            }
            if (options.stderr() != null) {
                files.redirectOutput(2, options.stderr());
            }
        } catch (RuntimeException e) {
            files.closeAll();
            s.close();
            throw e;
        }
        Path root = tree.root;
        task = new Task(s, files, new FsContext(root, options.rw(), root.resolve(program.guestCwd().substring(1))), this,
                program.exe(), loaded.brk());
        space = s;
        if (killed) {
            return Ptrace.SIGKILL;
        }
        spawn(arena);
        mapProgram(loaded, sp);
        startRegs(loaded.entry(), sp);
        return serve();
    }

    /**
     * A fork's child: its process spawned, then (once it has its job)
     * started from the parent's registers and served. A guest that ends at
     * a stop (exit, or a signal's default action) leaves its host process
     * able to serve another: emptied of every guest mapping, it goes back to
     * the tree as a spare for the next fork, which then costs no spawn.
     */
    private int runForked(Arena arena) {
        spawn(arena); // if it fails, started completes with EAGAIN on the way out: whoever gives this process a job learns it
        while (true) {
            Job j;
            try {
                j = job.get();
            } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
                j = null;
            }
            if (j == null || killed) {
                return Ptrace.SIGKILL; // a spare no fork needed
            }
            task = j.task();
            space = task.space();
            mirror = new ChildMirror(space.size() / PAGE);
            space.attach(mirror);
            loadRegs();
            long cs = tracee.reg(CS);
            long ss = tracee.reg(SS);
            tracee.restoreRegs(j.regs());
            tracee.setReg(CS, cs);
            tracee.setReg(SS, ss);
            tracee.setReg(ORIG_RAX, -1);
            regsDirty = true;
            tracee.setXstate(j.xstate());
            started.complete(0L);
            int st = serve();
            if (killed || reaped) {
                return st;
            }
            // The guest ended at a stop: its host process maps nothing of it once this returns.
            check("munmap", syscall(ChildMirror.SYS_MUNMAP, 0, space.size(), 0, 0, 0, 0));
            finish(st);
            task = null;
            space = null;
            mirror = null;
            syscalls = 0;
            guestFaults = 0;
            error = null;
            job = new CompletableFuture<>();
            started = new CompletableFuture<>();
            if (!tree.offerSpare(this)) {
                return st; // enough spares: this process ends
            }
        }
    }

    /** The stack and the program's pages: read in now, not a fault at a time (a child's fault costs a stop and an injected mmap). */
    private static long buildStack(AddressSpace s, ElfImage.Loaded loaded, List<byte[]> argv, List<byte[]> envp, String execfn) {
        long top = s.size();
        s.mmap(top - STACK_SIZE, STACK_SIZE, 3 | (loaded.execStack() ? 4 : 0),
                MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS | MapFlags.GROWSDOWN);
        long sp = InitialStack.build(s, top, argv, envp, execfn, loaded);
        for (long[] r : loaded.fileRanges()) {
            try {
                s.populate(r[0], r[1] - r[0], false);
            } catch (ErrnoException e) {
                // a segment the file does not fully back: its pages past the end fault as they would
            }
        }
        return sp;
    }

    /** The extended CPU state of a freshly spawned stub: what a program starts with, and gets back at execve. */
    private byte[] initialXstate;

    /** Spawns the stub and makes its host process an empty shell for a guest: nothing of it left reachable but `syscall; int3`. */
    private void spawn(Arena arena) {
        pid = Ptrace.spawn(GuestStub.path(), mm.frameFile(), GuestStub.FRAME_FD);
        tracee = new Ptrace.Tracee(pid, arena);
        int st = waitChild();
        if (!Ptrace.stopped(st) || Ptrace.stopSig(st) != Ptrace.SIGSTOP) {
            throw new IllegalStateException("the guest stub did not stop for its tracer (wait status 0x" + Integer.toHexString(st)
                    + "): is ptrace allowed here?");
        }
        Ptrace.pinWith(pid);
        Ptrace.ptraceOrThrow(Ptrace.PTRACE_SETOPTIONS, pid, 0, Ptrace.PTRACE_O_EXITKILL | Ptrace.PTRACE_O_TRACESYSGOOD);
        initialXstate = tracee.xstate();
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
        loadRegs();
    }

    /** A new mirror of {@link #space} in the child, with the program's runs and the stack's top page mapped. */
    private void mapProgram(ElfImage.Loaded loaded, long sp) {
        mirror = new ChildMirror(space.size() / PAGE);
        space.attach(mirror);
        for (long[] r : loaded.fileRanges()) {
            for (long p = r[0] / PAGE; p < r[1] / PAGE; p++) {
                mirror.mapAt(this, p); // each run of frames once: the rest of the run is mapped already
            }
        }
        mirror.mapAt(this, (sp - 1) / PAGE);
    }

    /** The registers a program starts with: zero, but rip, rsp, eflags and the host's segments. */
    private void startRegs(long entry, long sp) {
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

    private static void check(String call, long r) {
        if (r < 0) {
            throw new IllegalStateException(call + " in the guest stub failed: errno " + -r);
        }
    }

    /** The stop loop: until the guest exits or dies; the wait status it ended with. */
    private int serve() {
        long result = SignalDelivery.NO_SYSCALL;
        while (true) {
            if (killed) {
                return Ptrace.SIGKILL;
            }
            running = true; // before the last look at the signals: a wake after it kicks the child
            mirror.catchUp(this); // its injected calls may stop for a signal sent meanwhile: that signal is the guest's now
            loadRegs();
            int death = SignalDelivery.beforeResume(task, result);
            if (death != 0) {
                if (options.trace() != null) {
                    options.trace().printf("%s+++ killed by signal %d%s +++%n", prefix(), death & 0x7f, (death & 0x80) != 0 ? " (core dumped)" : "");
                }
                return death;
            }
            mirror.catchUp(this);
            if (regsDirty) {
                tracee.storeRegs();
                regsDirty = false;
            }
            tracee.resume(Ptrace.PTRACE_SYSEMU, 0);
            regsLoaded = false;
            int st = waitChild();
            running = false;
            if (!Ptrace.stopped(st)) {
                return waitStatus(st);
            }
            result = SignalDelivery.NO_SYSCALL;
            int stop = Ptrace.stopSig(st);
            if (stop == SYSCALL_STOP) {
                loadRegs();
                result = syscall(task);
                if (task.exitStatus() != null) {
                    return task.exitStatus() << 8;
                }
            } else {
                hostSignal(stop);
            }
        }
    }

    private String prefix() {
        return task != null && (task.pid() != 1 || task.processes().count() > 1) ? "[pid " + task.pid() + "] " : "";
    }

    /** Serves one syscall stop: its result (in rax already), or NO_SYSCALL when the stop was not a syscall of the guest's. */
    private long syscall(Task task) {
        syscalls++;
        long nr = tracee.reg(ORIG_RAX);
        if (inStub(tracee.reg(RIP) - 2)) {
            // The guest jumped into the stub: on Linux nothing is mapped there.
            SignalDelivery.force(task, new Signals.SigInfo(SIGSEGV, 1, 0, 0, 0, tracee.reg(RIP) - 2));
            return SignalDelivery.NO_SYSCALL;
        }
        long a0 = tracee.reg(RDI), a1 = tracee.reg(RSI), a2 = tracee.reg(RDX), a3 = tracee.reg(R10), a4 = tracee.reg(R8),
                a5 = tracee.reg(R9);
        if (!viaSyscallInstruction()) {
            // int 0x80 (or sysenter) from a 64-bit program: i386 numbers; refused, never read as x86-64 ones.
            tracee.setReg(RAX, -38);
            regsDirty = true;
            trace(task, "int 0x80 / sysenter: i386 syscall " + nr + " refused", -38, 0);
            return -38;
        }
        long faultsBefore = space.faultsResolved();
        String call = options.trace() != null ? Syscalls.formatCall(task, nr, new long[] {a0, a1, a2, a3, a4, a5}) : null;
        long r = Syscalls.dispatch(task, nr, a0, a1, a2, a3, a4, a5);
        tree.kernelFaults.addAndGet(space.faultsResolved() - faultsBefore);
        if (task.exitStatus() != null) {
            if (call != null) {
                options.trace().println(prefix() + call + " = ?");
            }
            return r;
        }
        loadRegs(); // a fork or an exec may have made its own injections since
        tracee.setReg(RAX, r);
        regsDirty = true;
        trace(task, call, r, space.faultsResolved() - faultsBefore);
        return r;
    }

    private void trace(Task task, String call, long r, long faults) {
        if (call == null || options.trace() == null) {
            return;
        }
        String res = call.startsWith("int 0x80") ? "" : " = " + Syscalls.formatResult(task.nr(), r);
        options.trace().println(prefix() + call + res + (faults > 0 ? "  <" + faults + " fault" + (faults == 1 ? "" : "s") + ">" : ""));
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
        // A first touch of anonymous writable memory not present yet is served as a write (it will be written);
        // a page present already (shared copy-on-write after a fork) is only mapped, so a read keeps it shared.
        boolean write = mirror.childMapping(page) != null
                || space.anonymousWritable(address) && space.pageState(address) == AddressSpace.PageState.LAZY;
        if (!space.resolve(address, write)) {
            return false;
        }
        guestFaults++;
        if (write) {
            breakAround(page);
        }
        return mirror.mapAt(this, page);
    }

    /**
     * Copy-on-write around: a write that broke the sharing of {@code page}
     * breaks it for the pages still shared in its aligned window of the
     * machine's fault-around size too, so a child writing its way through
     * what it shares with its parent takes one stop a window, not one a
     * page (the child's stop and the injected mapping cost far more than a
     * page's copy). What is copied is what the page held: only memory is
     * spent, never a byte seen differently.
     */
    private void breakAround(long page) {
        int window = Math.max(1, mm.config().faultAround());
        long from = page & -window;
        for (long p = from; p < from + window && p < space.size() / PAGE; p++) {
            if (p != page && space.pageState(p * PAGE) == AddressSpace.PageState.COW_SHARED && space.anonymousWritable(p * PAGE)) {
                space.resolve(p * PAGE, true);
            }
        }
    }

    /** Whether the child still runs or is stopped (not a zombie, not gone): for a long sleep to notice a SIGKILL. */
    private boolean childAlive() {
        if (killed || reaped) {
            return false;
        }
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

    /**
     * A signal-delivery stop of the child. Never delivered by the host: a
     * fault is resolved or forced on the guest as its signal, the tracer's
     * own kick is dropped (it only made the child stop), a group stop is let
     * go, and any other signal (sent from outside) becomes the guest's.
     */
    private void hostSignal(int sig) {
        if (sig == Ptrace.SIGSTOP || sig == 20 || sig == 21 || sig == 22) {
            if (Ptrace.ptrace(Ptrace.PTRACE_GETSIGINFO, pid, 0, 0) == -22) {
                return; // EINVAL: a group stop, not a signal to deliver
            }
        }
        long[] info = tracee.siginfo();
        int code = (int) info[1];
        int senderPid = (int) info[2];
        if (sig == SIGKICK && code <= 0 && senderPid == JVM_PID) {
            return; // our kick
        }
        if (sig == Ptrace.SIGTRAP && code <= 0x80) {
            loadRegs();
            if (inStub(tracee.reg(RIP) - 1)) {
                // the stub's int3, reached by a guest that jumped there: Linux maps nothing there
                SignalDelivery.force(task, new Signals.SigInfo(SIGSEGV, 1, 0, 0, 0, tracee.reg(RIP) - 1));
                return;
            }
        }
        if (code > 0 && (sig == SIGSEGV || sig == 7 || sig == 4 || sig == 8 || sig == Ptrace.SIGTRAP)) {
            // The CPU's own signal (si_code > 0): a fault the fault path may serve, else the guest's.
            if (sig == SIGSEGV && fault(info[2])) {
                return;
            }
            if (options.trace() != null) {
                loadRegs();
                options.trace().printf("%s--- signal %d {si_code=%d, si_addr=0x%x} at rip 0x%x ---%n", prefix(), sig, code, info[2],
                        tracee.reg(RIP));
            }
            if (sig == SIGSEGV && (code == SEGV_MAPERR || code == SEGV_ACCERR)) {
                forceSegv(info[2]);
                return;
            }
            SignalDelivery.force(task, new Signals.SigInfo(sig, code, 0, 0, 0, info[2]));
            return;
        }
        // Sent from outside the guest's tree: Linux shows a sender outside the receiver's pid namespace as pid 0.
        task.post(new Signals.SigInfo(sig, code, 0, (int) (info[2] >>> 32), 0, 0));
    }

    static final int SEGV_MAPERR = 1;
    static final int SEGV_ACCERR = 2;

    /**
     * A page fault the guest may not take, as Linux reports it: SEGV_ACCERR
     * where the guest has a mapping that forbids the access (the host child
     * may not map the page at all yet), SEGV_MAPERR where it has none; a
     * write (the error code's bit 1) where the child maps the page readable
     * but not writable and was not fetching an instruction there.
     */
    private void forceSegv(long address) {
        boolean inSpace = address >= 0 && address < space.size();
        int code = inSpace && space.pageState(address) != AddressSpace.PageState.UNMAPPED ? SEGV_ACCERR : SEGV_MAPERR;
        long[] m = inSpace ? mirror.childMapping(address / PAGE) : null;
        loadRegs();
        boolean write = m != null && (m[1] & 1) != 0 && (m[1] & 2) == 0 && tracee.reg(RIP) != address;
        SignalDelivery.forceFault(task, new Signals.SigInfo(SIGSEGV, code, 0, 0, 0, address), write);
    }

    /**
     * Makes host syscall {@code nr} in the child at the stub's
     * {@code syscall; int3}, then puts its registers back. A signal that
     * arrives meanwhile is handled as at any stop, not lost.
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
                if (task != null) {
                    task.post(new Signals.SigInfo(sig, 0, 0, 0, 0, 0)); // sent from outside: the guest's (a spare has none yet)
                }
            } else if (sig != SYSCALL_STOP) {
                long[] info = tracee.siginfo();
                if (!(sig == SIGKICK && info[1] <= 0 && (int) info[2] == JVM_PID) && task != null) {
                    task.post(new Signals.SigInfo(sig, (int) info[1], 0, 0, 0, 0));
                }
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

    /** The guest's wait status from the host's: a host process that died of a signal (SIGKILL from outside) died of it as a guest. */
    private static int waitStatus(int st) {
        return Ptrace.exited(st) ? (Ptrace.exitCode(st) & 0xff) << 8 : Ptrace.termSig(st);
    }

    // ---------------------------------------------------------------- the task's CPU (Task.Cpu)

    @Override
    public long fsBase() {
        loadRegs();
        return tracee.reg(FS_BASE);
    }

    @Override
    public void setFsBase(long base) {
        loadRegs();
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

    @Override
    public long reg(int i) {
        loadRegs();
        return tracee.reg(i);
    }

    @Override
    public void setReg(int i, long value) {
        loadRegs();
        tracee.setReg(i, value);
        regsDirty = true;
    }

    @Override
    public byte[] xstate() {
        return tracee.xstate();
    }

    @Override
    public void setXstate(byte[] area) {
        tracee.setXstate(area);
    }

    @Override
    public void interrupt() {
        int p = pid;
        if (running && p > 0 && !reaped) {
            Ptrace.kill(p, SIGKICK);
        }
    }

    @Override
    public long startChild(Task child, long stack, long tls) {
        loadRegs();
        long[] regs = tracee.saveRegs();
        regs[RAX] = 0;
        if (stack != 0) {
            regs[RSP] = stack;
        }
        if (tls != -1) {
            regs[FS_BASE] = tls;
        }
        Tracer t = tree.takeSpare();
        if (t == null) {
            t = new Tracer(tree);
            if (!tree.start(t)) {
                return -EAGAIN;
            }
        }
        child.setCpu(t);
        CompletableFuture<Long> childStarted = t.started; // this job's: a recycled process gets new ones for its next
        t.job.complete(new Job(child, regs, tracee.xstate())); // the FPU, SSE and AVX state too, as a fork copies it
        tree.replenish();
        try {
            return childStarted.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            t.kill();
            return -EAGAIN;
        } catch (java.util.concurrent.ExecutionException e) {
            return -EAGAIN;
        }
    }

    @Override
    public long exec(Path host, String exe, String execfn, List<byte[]> argv, List<byte[]> envp) {
        ElfImage elf;
        try {
            elf = ElfImage.read(host);
        } catch (IOException e) {
            return -13; // EACCES
        } catch (ErrnoException e) {
            return -e.errno().number();
        }
        AddressSpace fresh = mm.newAddressSpace();
        ElfImage.Loaded loaded;
        long sp;
        try {
            loaded = elf.load(fresh);
            sp = buildStack(fresh, loaded, argv, envp, execfn);
        } catch (ErrnoException e) {
            fresh.close();
            return -e.errno().number();
        }
        // No way back from here: the old program goes.
        space.detach(mirror);
        tree.injected.addAndGet(mirror.injected());
        long r = syscall(ChildMirror.SYS_MUNMAP, 0, space.size(), 0, 0, 0, 0);
        if (r < 0) {
            fresh.close();
            throw new ChildMirror.MirrorFailure("munmap of the old program", r); // past the point of no return: the process dies
        }
        task.execed(fresh, loaded.brk(), exe); // the old space released (closed with its last user); the task holds the new one
        space = fresh;
        mapProgram(loaded, sp);
        startRegs(loaded.entry(), sp);
        tracee.setXstate(initialXstate); // Linux clears the FPU state at execve
        return 0;
    }
}
