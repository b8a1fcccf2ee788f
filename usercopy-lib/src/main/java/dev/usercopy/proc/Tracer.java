package dev.usercopy.proc;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.platform.NativeCallException;
import dev.usercopy.platform.Ptrace;
import dev.usercopy.sys.FileTable;
import dev.usercopy.sys.FsContext;
import dev.usercopy.sys.Placement;
import dev.usercopy.sys.ResourceLimits;
import dev.usercopy.sys.SignalDelivery;
import dev.usercopy.sys.Signals;
import dev.usercopy.sys.Syscalls;
import dev.usercopy.sys.Task;

import static dev.usercopy.platform.user_regs_struct.FS_BASE;
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
 *
 * <p>The host side of the child (the stub's setup, injected host calls, the
 * register cache, waits and the end) is {@link StubProcess}; this class is
 * what the child's stops mean for the guest. Why it is still about 600
 * lines: a process's whole life on its one thread (first start or fork,
 * the stop loop, faults and signals, execve, the {@link Task.Cpu} a
 * syscall drives) shares the thread's state, and split further each part
 * would reach back into it.
 */
final class Tracer implements Runnable, Task.Cpu {
    static final int SIGSEGV = 11;
    static final int ESRCH = 3;
    static final int EAGAIN = 11;
    private static final long PAGE = AddressSpace.PAGE;

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

    /** The host process, once spawned. */
    private volatile StubProcess child;
    private volatile boolean killed;
    /** The child may be running guest code: a wake must kick it. */
    private volatile boolean running;
    /** The two bytes before rip at a syscall stop: the instruction that made the call. */
    private final byte[] insn = new byte[2];
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
        StubProcess c = child;
        return c == null ? 0 : c.pid();
    }

    void kill() {
        killed = true;
        StubProcess c = child;
        if (c != null) {
            c.signal(Ptrace.SIGKILL);
        }
        Task t = task;
        if (t != null) {
            t.wake(); // out of a wait in Java
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
            } catch (StubProcess.ChildGone g) {
                status = StubProcess.guestStatus(g.status);
            } catch (RuntimeException e) {
                if (killed || e instanceof NativeCallException n && n.errno() == ESRCH) {
                    status = Ptrace.SIGKILL; // a child leaves a ptrace stop only by SIGKILL: then ptrace answers ESRCH
                } else {
                    error = "guest failed: " + e;
                    status = 127 << 8;
                }
            } finally {
                StubProcess c = child;
                if (c != null) {
                    c.end();
                }
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
        Path root = tree.root;
        FsContext fs = new FsContext(root, options.rw(), root.resolve(program.guestCwd().substring(1)));
        try {
            loaded = load(program.elf(), s, fs, ResourceLimits.inherited().stackAtStart());
            sp = InitialStack.mapWithProgram(s, loaded, program.argv(), program.envp(), program.execfn());
        } catch (RuntimeException e) {
            fs.close();
            s.close();
            throw e;
        }
        // The descriptors stop where the user's soft limit did, not at the JVM's raised one.
        long nofile = ResourceLimits.inherited().soft(ResourceLimits.RLIMIT_NOFILE);
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
            fs.close();
            s.close();
            throw e;
        }
        task = new Task(s, files, fs, this, program.exe(), loaded.brk());
        space = s;
        if (killed) {
            return Ptrace.SIGKILL;
        }
        spawn(arena);
        mapProgram(loaded, sp);
        child.startAt(loaded.start(), sp);
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
            child.startFrom(j.regs());
            child.setXstate(j.xstate());
            started.complete(0L);
            int st = serve();
            if (killed || child.reaped()) {
                return st;
            }
            // The guest ended at a stop: its host process maps nothing of it once this returns.
            StubProcess.check("munmap", child.syscall(ChildMirror.SYS_MUNMAP, 0, space.size(), 0, 0, 0, 0));
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

    /** Loads {@code elf} (and its interpreter, looked up in the guest's root) into {@code s}, laid out for a stack limit of {@code stackLimit}. */
    private static ElfImage.Loaded load(ElfImage elf, AddressSpace s, FsContext fs, long stackLimit) {
        // The interpreter goes where an mmap without a hint would: top-down below mmap_base, past what is mapped already.
        return elf.load(s, Placement.userTop(s), span -> Placement.unhinted(s, stackLimit, span), fs::interpreter);
    }

    /** Spawns this process's stub; a signal met in an injected call before the guest has a task is dropped. */
    private void spawn(Arena arena) {
        child = new StubProcess(arena, mm.frameFile(), info -> {
            Task t = task;
            if (t != null) {
                t.post(info);
            }
        });
    }

    /** A new mirror of {@link #space} in the child, with the program's runs and the stack's top page mapped. */
    private void mapProgram(ElfImage.Loaded loaded, long sp) {
        mirror = new ChildMirror(space.size() / PAGE);
        space.attach(mirror);
        for (long[] r : loaded.fileRanges()) {
            for (long p = r[0] / PAGE; p < r[1] / PAGE; p++) {
                mirror.mapAt(child, p); // each run of frames once: the rest of the run is mapped already
            }
        }
        mirror.mapAt(child, (sp - 1) / PAGE);
    }

    /** The stop loop: until the guest exits or dies; the wait status it ended with. */
    private int serve() {
        long result = SignalDelivery.NO_SYSCALL;
        while (true) {
            if (killed) {
                return Ptrace.SIGKILL;
            }
            running = true; // before the last look at the signals: a wake after it kicks the child
            mirror.catchUp(child); // its injected calls may stop for a signal sent meanwhile: that signal is the guest's now
            child.loadRegs();
            int death = SignalDelivery.beforeResume(task, result);
            if (death != 0) {
                if (options.trace() != null) {
                    options.trace().printf("%s+++ killed by signal %d%s +++%n", prefix(), death & 0x7f, (death & 0x80) != 0 ? " (core dumped)" : "");
                }
                return death;
            }
            mirror.catchUp(child);
            int st = child.resume();
            running = false;
            if (!Ptrace.stopped(st)) {
                return StubProcess.guestStatus(st);
            }
            result = SignalDelivery.NO_SYSCALL;
            int stop = Ptrace.stopSig(st);
            if (stop == StubProcess.SYSCALL_STOP) {
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
        long nr = child.reg(ORIG_RAX);
        if (StubProcess.inStub(child.reg(RIP) - 2)) {
            // The guest jumped into the stub: on Linux nothing is mapped there.
            SignalDelivery.force(task, new Signals.SigInfo(SIGSEGV, 1, 0, 0, 0, child.reg(RIP) - 2));
            return SignalDelivery.NO_SYSCALL;
        }
        long a0 = child.reg(RDI), a1 = child.reg(RSI), a2 = child.reg(RDX), a3 = child.reg(R10), a4 = child.reg(R8),
                a5 = child.reg(R9);
        if (!viaSyscallInstruction()) {
            // int 0x80 (or sysenter) from a 64-bit program: i386 numbers; refused, never read as x86-64 ones.
            child.setReg(RAX, -38);
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
        child.setReg(RAX, r); // the registers of this stop: a fork's or an exec's injections put theirs back
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
        long rip = child.reg(RIP);
        if (space.copyFromUserNofault(insn, 0, rip - 2, 2) != 0) {
            // Not readable by the kernel (an execute-only page, or not present yet): resolve it and try again,
            // and where the page stays unreadable, ask the host which kind of call it stopped at.
            space.resolve(rip - 2, false);
            if (space.copyFromUserNofault(insn, 0, rip - 2, 2) != 0) {
                return child.syscallArch() == Ptrace.AUDIT_ARCH_X86_64; // int 0x80 reports AUDIT_ARCH_I386
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
        return mirror.mapAt(child, page);
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

    /**
     * A signal-delivery stop of the child. Never delivered by the host: a
     * fault is resolved or forced on the guest as its signal, the tracer's
     * own kick is dropped (it only made the child stop), a group stop is let
     * go, and any other signal (sent from outside) becomes the guest's.
     */
    private void hostSignal(int sig) {
        if (sig == Ptrace.SIGSTOP || sig == 20 || sig == 21 || sig == 22) {
            if (Ptrace.ptrace(Ptrace.PTRACE_GETSIGINFO, child.pid(), 0, 0) == -22) {
                return; // EINVAL: a group stop, not a signal to deliver
            }
        }
        long[] info = child.siginfo();
        int code = (int) info[1];
        int senderPid = (int) info[2];
        if (StubProcess.isKick(sig, code, senderPid)) {
            return; // our kick
        }
        if (sig == Ptrace.SIGTRAP && code <= 0x80) {
            if (StubProcess.inStub(child.reg(RIP) - 1)) {
                // the stub's int3, reached by a guest that jumped there: Linux maps nothing there
                SignalDelivery.force(task, new Signals.SigInfo(SIGSEGV, 1, 0, 0, 0, child.reg(RIP) - 1));
                return;
            }
        }
        if (code > 0 && (sig == SIGSEGV || sig == 7 || sig == 4 || sig == 8 || sig == Ptrace.SIGTRAP)) {
            // The CPU's own signal (si_code > 0): a fault the fault path may serve, else the guest's.
            if (sig == SIGSEGV && fault(info[2])) {
                return;
            }
            if (options.trace() != null) {
                options.trace().printf("%s--- signal %d {si_code=%d, si_addr=0x%x} at rip 0x%x ---%n", prefix(), sig, code, info[2],
                        child.reg(RIP));
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
        boolean write = m != null && (m[1] & 1) != 0 && (m[1] & 2) == 0 && child.reg(RIP) != address;
        SignalDelivery.forceFault(task, new Signals.SigInfo(SIGSEGV, code, 0, 0, 0, address), write);
    }

    // ---------------------------------------------------------------- the task's CPU (Task.Cpu)

    @Override
    public long fsBase() {
        return child.reg(FS_BASE);
    }

    @Override
    public void setFsBase(long base) {
        child.setReg(FS_BASE, base);
    }

    @Override
    public int hostPid() {
        return pid();
    }

    @Override
    public boolean alive() {
        StubProcess c = child;
        return !killed && c != null && c.alive();
    }

    @Override
    public long reg(int i) {
        return child.reg(i);
    }

    @Override
    public void setReg(int i, long value) {
        child.setReg(i, value);
    }

    @Override
    public byte[] xstate() {
        return child.xstate();
    }

    @Override
    public void setXstate(byte[] area) {
        child.setXstate(area);
    }

    @Override
    public void interrupt() {
        StubProcess c = child;
        if (running && c != null) {
            c.signal(StubProcess.SIGKICK);
        }
    }

    @Override
    public long startChild(Task forked, long stack, long tls) {
        long[] regs = child.saveRegs();
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
        forked.setCpu(t);
        CompletableFuture<Long> childStarted = t.started; // this job's: a recycled process gets new ones for its next
        t.job.complete(new Job(forked, regs, child.xstate())); // the FPU, SSE and AVX state too, as a fork copies it
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
            loaded = load(elf, fresh, task.fs(), task.limits().stackAtStart());
            sp = InitialStack.mapWithProgram(fresh, loaded, argv, envp, execfn);
        } catch (ErrnoException e) {
            fresh.close();
            return -e.errno().number();
        }
        // No way back from here: the old program goes.
        space.detach(mirror);
        tree.injected.addAndGet(mirror.injected());
        long r = child.syscall(ChildMirror.SYS_MUNMAP, 0, space.size(), 0, 0, 0, 0);
        if (r < 0) {
            fresh.close();
            throw new ChildMirror.MirrorFailure("munmap of the old program", r); // past the point of no return: the process dies
        }
        task.execed(fresh, loaded.brk(), exe); // the old space released (closed with its last user); the task holds the new one
        space = fresh;
        mapProgram(loaded, sp);
        child.startAt(loaded.start(), sp);
        child.resetXstate(); // Linux clears the FPU state at execve
        return 0;
    }
}
