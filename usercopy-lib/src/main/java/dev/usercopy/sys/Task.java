package dev.usercopy.sys;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.platform.HostFiles;
import dev.usercopy.uapi.Errno;

/**
 * What a syscall sees of the guest process that made it: its address
 * space, its files, its view of the file system, its signals, its place in
 * the tree of {@link Processes}, its CPU state ({@link Cpu}), and the
 * arguments of the call being served. A task is served by one thread (its
 * guest process's tracer), so most of its state needs no lock; what other
 * tasks touch is guarded: the signals by {@link Signals}, the tree by
 * {@link Processes}, the wakeups by this object's monitor.
 */
public final class Task {
    /** The CPU state a syscall may change: the guest's registers live with its tracer. */
    public interface Cpu {
        long fsBase();

        void setFsBase(long base);

        /**
         * The host process that runs the guest, whose CPU clocks are the
         * guest's {@code CLOCK_PROCESS_CPUTIME_ID} and
         * {@code CLOCK_THREAD_CPUTIME_ID}; 0 when there is none (a test
         * serving syscalls without a child), and then they are the serving
         * thread's.
         */
        default int hostPid() {
            return 0;
        }

        /**
         * Whether the guest's host process still lives; a sleep looks every
         * 100 ms, so a guest killed from outside does not keep its tracer
         * asleep for the rest of its sleep.
         */
        default boolean alive() {
            return true;
        }

        /** Register {@code i} of the guest at this stop ({@link dev.usercopy.platform.user_regs_struct} indices). */
        default long reg(int i) {
            throw new UnsupportedOperationException("no guest process: no registers");
        }

        /** Sets register {@code i}; it reaches the guest when it resumes. */
        default void setReg(int i, long value) {
            throw new UnsupportedOperationException("no guest process: no registers");
        }

        /** The guest's extended CPU state (x87, SSE, AVX...): the XSAVE area as PTRACE_GETREGSET NT_X86_XSTATE gives it. */
        default byte[] xstate() {
            throw new UnsupportedOperationException("no guest process: no extended state");
        }

        /** Sets the extended state; it reaches the guest when it resumes. */
        default void setXstate(byte[] area) {
            throw new UnsupportedOperationException("no guest process: no extended state");
        }

        /**
         * Makes the guest's host process stop soon if it runs, so its tracer
         * looks at its pending signals; from any thread, never blocking.
         */
        default void interrupt() {}

        /**
         * Starts {@code child} (a fork of this task, registered in
         * {@link Processes}) as a new guest process: this stop's registers,
         * with rax 0, {@code stack} in rsp when not 0 and {@code tls} as
         * fs_base when not -1. 0, or -errno (EAGAIN) when no host process can
         * be had.
         */
        default long startChild(Task child, long stack, long tls) {
            return -Errno.ENOSYS.number();
        }

        /**
         * Replaces the program (execve) with the static ELF at host path
         * {@code host}, whose guest path is {@code exe} (what
         * /proc/self/exe shows), named {@code execfn} by the caller
         * (AT_EXECFN), with the arguments and environment read from the
         * guest. -errno (ENOEXEC, E2BIG, ENOMEM) with the old program
         * untouched; 0 once the new one is in place ({@link #execed} done,
         * the registers at its entry).
         */
        default long exec(java.nio.file.Path host, String exe, String execfn, List<byte[]> argv, List<byte[]> envp) {
            return -Errno.ENOSYS.number();
        }
    }

    /**
     * An end of the guest's process met while serving one of its syscalls
     * (its host process died, or cannot be kept in step with its memory):
     * not a syscall's error but the task's end, so {@link Syscalls#dispatch}
     * lets it through to the tracer.
     */
    public abstract static class Fatal extends RuntimeException {
        protected Fatal(String message, boolean stackTrace) {
            super(message, null, false, stackTrace);
        }
    }

    /** How a {@link #block} ended. */
    public enum Wake { READY, TIMEOUT, INTERRUPTED }

    private AddressSpace space;
    private final FileTable files;
    private final FsContext fs;
    private Cpu cpu;
    private ProgramBreak brk;
    private final Signals signals;
    private final ResourceLimits limits;
    private String exe;
    private final long[] args = new long[6];
    private int nr;
    private Integer exitStatus;
    private long unknownCalls;

    private final Processes processes;
    private final int pid;
    // The tree, guarded by the Processes monitor.
    Task parent;
    final List<Task> children = new ArrayList<>();
    int pgid;
    int sid;
    /** Exited, not yet waited for. */
    boolean zombie;
    /** Its wait status once it ended (Linux's encoding: code << 8, or the signal | 0x80 for a core). */
    int waitStatus;
    /** The signal its parent gets when it ends (clone's low byte; SIGCHLD for fork), 0 for none. */
    int exitSignal = Signals.SIGCHLD;
    /** A vfork child whose parent waits until it execs or exits. */
    boolean vforkPending;
    /** Whether this task was ever through an execve (setpgid on a child that did is EACCES). */
    boolean didExec;
    /** CLONE_CHILD_CLEARTID: where its end writes 0 (0: nowhere). */
    long clearChildTid;

    private RealTimer realTimer;
    private long wakeups;
    private int wakeFd = -1;

    /**
     * A task over {@code space}, whose program was loaded from guest path
     * {@code exe} and whose break starts at {@code brkStart} (the page after
     * its last loaded segment): the first process (pid 1) of a new tree.
     */
    public Task(AddressSpace space, FileTable files, FsContext fs, Cpu cpu, String exe, long brkStart) {
        this(new Processes(Processes.DEFAULT_LIMIT), space, files, fs, cpu, exe, brkStart, new Signals(), ResourceLimits.inherited());
    }

    private Task(Processes processes, AddressSpace space, FileTable files, FsContext fs, Cpu cpu, String exe, long brkStart,
            Signals signals, ResourceLimits limits) {
        this.space = Objects.requireNonNull(space, "space");
        this.files = Objects.requireNonNull(files, "files");
        this.fs = Objects.requireNonNull(fs, "fs");
        this.cpu = Objects.requireNonNull(cpu, "cpu");
        this.exe = Objects.requireNonNull(exe, "exe");
        this.brk = new ProgramBreak(space, brkStart);
        this.signals = signals;
        this.limits = limits;
        this.processes = processes;
        this.pid = processes.register(this, null);
        processes.retain(space);
    }

    /**
     * A child of this task (fork, vfork, clone without threads): its own pid
     * in this task's tree, {@code space} (a copy-on-write fork, or this
     * task's own for CLONE_VM), {@code files} (a copy, or this task's own
     * for CLONE_FILES), a copy of the working directories, the same signal
     * actions and mask with nothing pending, the same limits and break.
     * EAGAIN when the tree has as many processes as it may.
     */
    public Task forkChild(AddressSpace space, FileTable files) {
        return new Task(this, space, files);
    }

    private Task(Task parent, AddressSpace space, FileTable files) {
        this.processes = parent.processes;
        this.space = space;
        this.files = files;
        this.fs = parent.fs.copy();
        this.cpu = parent.cpu; // replaced by the child's own when its process starts
        this.exe = parent.exe;
        this.brk = parent.brk.forkCopy(space);
        this.signals = parent.signals.forkCopy();
        this.limits = parent.limits.forkCopy();
        this.pid = processes.register(this, parent);
    }

    /** Its ITIMER_REAL (alarm): none until it sets one; a fork's child starts without. */
    synchronized RealTimer realTimer() {
        if (realTimer == null) {
            realTimer = new RealTimer(this);
        }
        return realTimer;
    }

    /** The guest's process id, in its tree (the first process is 1). */
    public int pid() {
        return pid;
    }

    /** The tree of processes this task is in. */
    public Processes processes() {
        return processes;
    }

    /** Its parent's pid; 0 for the first process. */
    public int ppid() {
        return processes.ppid(this);
    }

    /** Gives the task its own CPU: the child's process, once its tracer runs it. */
    public void setCpu(Cpu cpu) {
        this.cpu = Objects.requireNonNull(cpu, "cpu");
    }

    /** After an execve: the new program's space (retained for this task), break and guest path; the old space released. */
    public void execed(AddressSpace space, long brkStart, String exe) {
        AddressSpace old = this.space;
        processes.retain(space);
        this.space = Objects.requireNonNull(space, "space");
        processes.release(old);
        this.brk = new ProgramBreak(space, brkStart);
        this.exe = Objects.requireNonNull(exe, "exe");
        signals.resetForExec();
        files.closeOnExecNow();
        processes.execed(this);
    }

    /**
     * Sends {@code info.signo()} to this task (kill, SIGCHLD, SIGPIPE...):
     * pending unless ignored, and the task woken to take it. True when it
     * is pending.
     */
    public boolean post(Signals.SigInfo info) {
        boolean pending = signals.post(info);
        if (pending) {
            wake();
        }
        return pending;
    }

    /**
     * Wakes the task wherever it waits: a {@link #block}, a poll on
     * {@link #wakeFd}, or its host process running guest code (interrupted,
     * so its tracer looks at its signals). From any thread.
     */
    public void wake() {
        int fd;
        synchronized (this) {
            wakeups++;
            notifyAll();
            fd = wakeFd;
        }
        if (fd >= 0) {
            HostFiles.eventfdAdd(fd, 1);
        }
        cpu.interrupt();
    }

    /**
     * A host eventfd that becomes readable when the task is woken: a
     * syscall that blocks in the host (a read from a pipe, a poll) polls it
     * beside its own descriptors, drains it when it fires, and returns
     * {@link Signals#ERESTARTSYS} (or its call's restart code) when
     * {@link #interrupted} says so.
     */
    public synchronized int wakeFd() {
        if (wakeFd < 0) {
            long fd = HostFiles.eventfd();
            if (fd < 0) {
                throw new dev.usercopy.mm.ErrnoException(Errno.ENOMEM, 0, 0, "no host eventfd to wake guest " + pid + " with: errno " + -fd);
            }
            wakeFd = (int) fd;
        }
        return wakeFd;
    }

    /** Whether a blocking syscall must return now: a signal is pending and not blocked, or the task is being killed. */
    public boolean interrupted() {
        return signals.interrupting() || !cpu.alive();
    }

    /**
     * Waits until {@code ready} holds (READY), {@code deadline} passes
     * (System.nanoTime; Long.MAX_VALUE: never; TIMEOUT) or, when
     * {@code interruptible}, the task is {@link #interrupted} (INTERRUPTED).
     * A task killed from outside is INTERRUPTED either way. {@code ready} is
     * evaluated with no lock of this task held; whoever makes it true must
     * call {@link #wake}.
     */
    public Wake block(BooleanSupplier ready, long deadline, boolean interruptible) {
        while (true) {
            long seen;
            synchronized (this) {
                seen = wakeups;
            }
            if (ready.getAsBoolean()) {
                return Wake.READY;
            }
            if (interruptible ? interrupted() : signals.fatalPending() || !cpu.alive()) {
                return Wake.INTERRUPTED;
            }
            long left = deadline == Long.MAX_VALUE ? Long.MAX_VALUE : deadline - System.nanoTime();
            if (left <= 0) {
                return Wake.TIMEOUT;
            }
            synchronized (this) {
                if (wakeups == seen) {
                    // Look again at least every 100 ms: a guest killed from outside wakes nobody.
                    long ms = Math.max(1, Math.min(left / 1_000_000, 100));
                    try {
                        wait(ms);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return Wake.INTERRUPTED;
                    }
                }
            }
        }
    }

    /**
     * What a task's end lets go of, before its parent hears of it: the 0 of
     * CLONE_CHILD_CLEARTID written, its descriptors closed (a pipe's reader
     * sees the end of its writer), its directories, its address space
     * (freed with the last task that uses it), its wake descriptor.
     */
    public void releaseResources() {
        if (clearChildTid != 0) {
            try {
                GuestMemory.putInt(this, clearChildTid, 0);
            } catch (dev.usercopy.mm.ErrnoException e) {
                // Linux ignores a fault here too
            }
            clearChildTid = 0;
        }
        RealTimer timer;
        synchronized (this) {
            timer = realTimer;
        }
        if (timer != null) {
            timer.cancel();
        }
        files.closeAll();
        fs.close();
        processes.release(space);
        synchronized (this) {
            if (wakeFd >= 0) {
                HostFiles.close(wakeFd);
                wakeFd = -1;
            }
        }
    }

    public AddressSpace space() {
        return space;
    }

    public FileTable files() {
        return files;
    }

    public FsContext fs() {
        return fs;
    }

    public Cpu cpu() {
        return cpu;
    }

    public ProgramBreak brk() {
        return brk;
    }

    public Signals signals() {
        return signals;
    }

    /** The guest's resource limits: the user's at the start, then what setrlimit made them. */
    public ResourceLimits limits() {
        return limits;
    }

    /** The guest path of the running program, what {@code /proc/self/exe} reads. */
    public String exe() {
        return exe;
    }

    /** Argument {@code i} (0..5) of the syscall being served: rdi, rsi, rdx, r10, r8, r9. */
    public long arg(int i) {
        return args[i];
    }

    /** Argument {@code i} as the C {@code int} the kernel takes from the register's low half. */
    public int intArg(int i) {
        return (int) args[i];
    }

    /** The number of the syscall being served. */
    public int nr() {
        return nr;
    }

    void enter(int nr, long a0, long a1, long a2, long a3, long a4, long a5) {
        this.nr = nr;
        args[0] = a0;
        args[1] = a1;
        args[2] = a2;
        args[3] = a3;
        args[4] = a4;
        args[5] = a5;
    }

    void unknownCall() {
        unknownCalls++;
    }

    /** Syscalls of numbers no family serves that this task made (each answered ENOSYS). */
    public long unknownCalls() {
        return unknownCalls;
    }

    /** Ends the task with {@code status} (exit and exit_group): its tracer stops it after this syscall. */
    public void exit(int status) {
        exitStatus = status & 0xff;
    }

    /** The status the task exited with, or null while it runs. */
    public Integer exitStatus() {
        return exitStatus;
    }
}
