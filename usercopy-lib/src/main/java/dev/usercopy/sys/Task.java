package dev.usercopy.sys;

import java.util.Objects;

import dev.usercopy.mm.AddressSpace;

/**
 * What a syscall sees of the guest that made it: its address space, its
 * files, its view of the file system, its CPU state that syscalls change
 * ({@code fs_base}), and the arguments of the call being served. A task is
 * served by one thread at a time (a guest process's tracer thread), so its
 * state needs no lock.
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
    }

    private final AddressSpace space;
    private final FileTable files;
    private final FsContext fs;
    private final Cpu cpu;
    private final ProgramBreak brk;
    private final Signals signals = new Signals();
    private final ResourceLimits limits = ResourceLimits.inherited();
    private final String exe;
    private final long[] args = new long[6];
    private int nr;
    private Integer exitStatus;
    private long unknownCalls;

    /**
     * A task over {@code space}, whose program was loaded from guest path
     * {@code exe} and whose break starts at {@code brkStart} (the page after
     * its last loaded segment).
     */
    public Task(AddressSpace space, FileTable files, FsContext fs, Cpu cpu, String exe, long brkStart) {
        this.space = Objects.requireNonNull(space, "space");
        this.files = Objects.requireNonNull(files, "files");
        this.fs = Objects.requireNonNull(fs, "fs");
        this.cpu = Objects.requireNonNull(cpu, "cpu");
        this.exe = Objects.requireNonNull(exe, "exe");
        this.brk = new ProgramBreak(space, brkStart);
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
