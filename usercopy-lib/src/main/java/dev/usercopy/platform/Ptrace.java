package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * What a tracer needs of libc: {@code ptrace}, {@code waitpid},
 * {@code kill} and {@code posix_spawn} of the guest stub, in the style of
 * {@link Posix}. ptrace requests are accepted only from the thread that
 * spawned the child (the kernel's tracer is a thread), so every method here
 * except {@link #kill} belongs to one process's tracer thread.
 *
 * <p>Constants have their C names and values for x86-64 Linux; AbiTest holds
 * them against the headers.
 */
public final class Ptrace {
    private Ptrace() {}

    // <sys/ptrace.h>
    public static final int PTRACE_TRACEME = 0;
    public static final int PTRACE_CONT = 7;
    public static final int PTRACE_KILL = 8;
    public static final int PTRACE_GETREGS = 12;
    public static final int PTRACE_SETREGS = 13;
    public static final int PTRACE_SYSEMU = 31;
    public static final int PTRACE_SETOPTIONS = 0x4200;
    public static final int PTRACE_GETSIGINFO = 0x4202;
    public static final int PTRACE_GET_SYSCALL_INFO = 0x420e;
    public static final int PTRACE_GETREGSET = 0x4204;
    public static final int PTRACE_SETREGSET = 0x4205;
    /** {@code <elf.h>}: the regset of the extended CPU state, in XSAVE's standard (not compacted) format. */
    public static final int NT_X86_XSTATE = 0x202;
    /** {@code <linux/audit.h>}: the arch PTRACE_GET_SYSCALL_INFO reports for a 64-bit syscall (int 0x80 reports i386's). */
    public static final long AUDIT_ARCH_X86_64 = 0xc000003eL;
    public static final int PTRACE_O_TRACESYSGOOD = 1;
    public static final int PTRACE_O_EXITKILL = 0x100000;
    // <sys/wait.h>
    public static final int __WALL = 0x40000000;
    // <signal.h>
    public static final int SIGKILL = 9;
    public static final int SIGTRAP = 5;
    public static final int SIGSTOP = 19;
    public static final int SIGPIPE = 13;
    public static final int SEGV_MAPERR = 1;
    public static final int SEGV_ACCERR = 2;
    public static final int SEGV_PKUERR = 4;
    // <spawn.h>
    public static final int POSIX_SPAWN_SETSIGDEF = 0x04;
    public static final int POSIX_SPAWN_SETSIGMASK = 0x08;

    /** sizeof of glibc's opaque spawn structures and sigset_t; AbiTest checks them. */
    static final long POSIX_SPAWN_FILE_ACTIONS_T_SIZE = 80;
    static final long POSIX_SPAWNATTR_T_SIZE = 336;
    static final long SIGSET_T_SIZE = 128;
    /** siginfo_t is 128 bytes: si_signo at 0, si_code at 8, si_addr at 16 for SIGSEGV. */
    static final long SIGINFO_SIZE = 128;
    /** The buffer for struct ptrace_syscall_info (88 bytes on x86-64; the host writes at most what it is given). */
    static final long SYSCALL_INFO_SIZE = 128;
    /**
     * The buffer for NT_X86_XSTATE: room for every user state component
     * x86-64 has (AMX's tile data makes the largest XSAVE area about 11 KiB);
     * the host says how much of it the CPU's area takes.
     */
    static final long XSTATE_BUFFER_SIZE = 16384;

    private static final MethodHandle MH$ptrace = Posix.findFunction("ptrace",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), Posix.CAPTURE_ERRNO,
            Linker.Option.firstVariadicArg(1));
    private static final MethodHandle MH$waitpid = Posix.findFunction("waitpid",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), Posix.CAPTURE_ERRNO);
    private static final MethodHandle MH$kill = Posix.findFunction("kill",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), Posix.CAPTURE_ERRNO);
    private static final MethodHandle MH$posix_spawn = Posix.findFunction("posix_spawn",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle MH$posix_spawn_file_actions_init = Posix.findFunction("posix_spawn_file_actions_init",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle MH$posix_spawn_file_actions_adddup2 = Posix.findFunction("posix_spawn_file_actions_adddup2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle MH$posix_spawn_file_actions_addclosefrom_np = Posix.findFunction(
            "posix_spawn_file_actions_addclosefrom_np", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle MH$posix_spawn_file_actions_destroy = Posix.findFunction("posix_spawn_file_actions_destroy",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle MH$posix_spawnattr_init = Posix.findFunction("posix_spawnattr_init",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle MH$posix_spawnattr_setflags = Posix.findFunction("posix_spawnattr_setflags",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle MH$posix_spawnattr_setsigdefault = Posix.findFunction("posix_spawnattr_setsigdefault",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle MH$posix_spawnattr_setsigmask = Posix.findFunction("posix_spawnattr_setsigmask",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle MH$posix_spawnattr_destroy = Posix.findFunction("posix_spawnattr_destroy",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle MH$sched_getcpu = Posix.findFunction("sched_getcpu", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle MH$sched_setaffinity = Posix.findFunction("sched_setaffinity",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));
    private static final MethodHandle MH$sigfillset = Posix.findFunction("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle MH$sigemptyset = Posix.findFunction("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));

    /**
     * Spawns {@code path} (the stub) with its name and this process's pid as
     * arguments (the stub dies with the spawning thread, and ends at once
     * when this process is gone before it could ask) and an empty environment, every signal at its default action and none blocked
     * (the JVM's ignored and blocked signals must not reach a guest),
     * {@code fd} duplicated to {@code childFd} and every other descriptor
     * from {@code childFd + 1} up closed. Returns the child's pid.
     */
    public static int spawn(String path, int fd, int childFd) {
        return spawn(path, fd, childFd, ProcessHandle.current().pid());
    }

    /** {@link #spawn(String, int, int)} naming {@code parent} as the stub's spawner: a test's way to show a stub refusing a parent not its own. */
    static int spawn(String path, int fd, int childFd, long parent) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment actions = arena.allocate(POSIX_SPAWN_FILE_ACTIONS_T_SIZE, 16);
            MemorySegment attr = arena.allocate(POSIX_SPAWNATTR_T_SIZE, 16);
            MemorySegment all = arena.allocate(SIGSET_T_SIZE, 16);
            MemorySegment none = arena.allocate(SIGSET_T_SIZE, 16);
            MemorySegment pid = arena.allocate(JAVA_INT);
            MemorySegment file = arena.allocateFrom(path, StandardCharsets.UTF_8);
            MemorySegment argv = arena.allocate(ADDRESS, 3);
            argv.setAtIndex(ADDRESS, 0, arena.allocateFrom("usercopy-stub"));
            argv.setAtIndex(ADDRESS, 1, arena.allocateFrom(Long.toString(parent)));
            argv.setAtIndex(ADDRESS, 2, MemorySegment.NULL);
            MemorySegment envp = arena.allocate(ADDRESS, 1);
            envp.setAtIndex(ADDRESS, 0, MemorySegment.NULL);
            int r;
            check("posix_spawn_file_actions_init", (int) MH$posix_spawn_file_actions_init.invokeExact(actions));
            try {
                check("posix_spawn_file_actions_adddup2", (int) MH$posix_spawn_file_actions_adddup2.invokeExact(actions, fd, childFd));
                check("posix_spawn_file_actions_addclosefrom_np",
                        (int) MH$posix_spawn_file_actions_addclosefrom_np.invokeExact(actions, childFd + 1));
                check("posix_spawnattr_init", (int) MH$posix_spawnattr_init.invokeExact(attr));
                try {
                    check("sigfillset", (int) MH$sigfillset.invokeExact(all) == 0 ? 0 : -1);
                    check("sigemptyset", (int) MH$sigemptyset.invokeExact(none) == 0 ? 0 : -1);
                    check("posix_spawnattr_setsigdefault", (int) MH$posix_spawnattr_setsigdefault.invokeExact(attr, all));
                    check("posix_spawnattr_setsigmask", (int) MH$posix_spawnattr_setsigmask.invokeExact(attr, none));
                    check("posix_spawnattr_setflags",
                            (int) MH$posix_spawnattr_setflags.invokeExact(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
                    r = (int) MH$posix_spawn.invokeExact(pid, file, actions, attr, argv, envp);
                } finally {
                    int ignored = (int) MH$posix_spawnattr_destroy.invokeExact(attr);
                }
            } finally {
                int ignored = (int) MH$posix_spawn_file_actions_destroy.invokeExact(actions);
            }
            if (r != 0) {
                throw new NativeCallException("posix_spawn", r, path);
            }
            return pid.get(JAVA_INT, 0);
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
    }

    /** The spawn functions return an error number rather than set errno. */
    private static void check(String call, int r) {
        if (r != 0) {
            throw new NativeCallException(call, r, "");
        }
    }

    /** {@code ptrace(request, pid, addr, data)}: its result, or {@code -errno}. */
    public static long ptrace(int request, int pid, long addr, long data) {
        MemorySegment state = Posix.callState();
        long r;
        try {
            r = (long) MH$ptrace.invokeExact(state, request, pid, addr, data);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
        return r == -1 ? -Posix.errno(state) : r;
    }

    /** ptrace that must work: throws naming the request otherwise. */
    public static void ptraceOrThrow(int request, int pid, long addr, long data) {
        long r = ptrace(request, pid, addr, data);
        if (r < 0) {
            throw new NativeCallException("ptrace", (int) -r, "request=" + request + ", pid=" + pid + ", data=0x" + Long.toHexString(data));
        }
    }

    /**
     * Binds the calling thread and process {@code pid} to the CPU the thread
     * runs on now: a ptrace stop then wakes its tracer on the same CPU, with
     * no cross-CPU wake-up (a quarter less per syscall round trip on this
     * project's 2-core VM). Best effort: false when the host refuses.
     */
    public static boolean pinWith(int pid) {
        try (Arena arena = Arena.ofConfined()) {
            int cpu = (int) MH$sched_getcpu.invokeExact();
            if (cpu < 0 || cpu >= 1024) {
                return false;
            }
            MemorySegment mask = arena.allocate(128, 8);
            mask.set(JAVA_LONG, 8L * (cpu / 64), 1L << (cpu % 64));
            boolean self = (int) MH$sched_setaffinity.invokeExact(0, 128L, mask) == 0;
            boolean child = (int) MH$sched_setaffinity.invokeExact(pid, 128L, mask) == 0;
            return self && child;
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
    }

    /** {@code kill(pid, sig)}: 0 or {@code -errno}. Any thread may call it. */
    public static int kill(int pid, int sig) {
        MemorySegment state = Posix.callState();
        int r;
        try {
            r = (int) MH$kill.invokeExact(state, pid, sig);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
        return r == -1 ? -Posix.errno(state) : 0;
    }

    /**
     * The state buffers of one tracer thread: registers and siginfo, reused
     * for every stop, so a stop allocates nothing.
     */
    public static final class Tracee {
        private final int pid;
        private final MemorySegment regs;
        private final MemorySegment siginfo;
        private final MemorySegment status;
        private final MemorySegment syscallInfo;
        private final MemorySegment xstate;
        private final MemorySegment xstateIov;

        public Tracee(int pid, Arena arena) {
            this.pid = pid;
            this.regs = arena.allocate(user_regs_struct.$LAYOUT);
            this.siginfo = arena.allocate(SIGINFO_SIZE, 8);
            this.status = arena.allocate(JAVA_INT);
            this.syscallInfo = arena.allocate(SYSCALL_INFO_SIZE, 8);
            this.xstate = arena.allocate(XSTATE_BUFFER_SIZE, 64);
            this.xstateIov = arena.allocate(iovecLayout());
        }

        private static java.lang.foreign.StructLayout iovecLayout() {
            return java.lang.foreign.MemoryLayout.structLayout(ADDRESS.withName("iov_base"), JAVA_LONG.withName("iov_len"));
        }

        /**
         * PTRACE_GETREGSET NT_X86_XSTATE: the child's x87, SSE, AVX... state as
         * the XSAVE standard format lays it out, as long as the host's area for
         * user state; in its software-reserved bytes (offset 464) the host puts
         * the XCR0 of user features (asm/user.h's user_xstateregs).
         */
        public byte[] xstate() {
            xstateIov.set(ADDRESS, 0, xstate);
            xstateIov.set(JAVA_LONG, 8, XSTATE_BUFFER_SIZE);
            ptraceOrThrow(PTRACE_GETREGSET, pid, NT_X86_XSTATE, xstateIov.address());
            long length = xstateIov.get(JAVA_LONG, 8);
            return xstate.asSlice(0, length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }

        /**
         * PTRACE_SETREGSET NT_X86_XSTATE: the child's extended state from
         * {@code area}, which must be as long as {@link #xstate} gave it (the
         * host takes only a whole area: EFAULT otherwise); the host refuses
         * (EINVAL) features it does not have, a compacted header and reserved
         * MXCSR bits.
         */
        public void setXstate(byte[] area) {
            if (area.length > XSTATE_BUFFER_SIZE) {
                throw new IllegalArgumentException("an XSAVE area of " + area.length + " bytes: more than any CPU has");
            }
            MemorySegment.copy(area, 0, xstate, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, area.length);
            xstateIov.set(ADDRESS, 0, xstate);
            xstateIov.set(JAVA_LONG, 8, area.length);
            ptraceOrThrow(PTRACE_SETREGSET, pid, NT_X86_XSTATE, xstateIov.address());
        }

        /**
         * The arch of the syscall the child is stopped at
         * (PTRACE_GET_SYSCALL_INFO; struct ptrace_syscall_info's u32 arch at
         * offset 4), or -1 where the host cannot say.
         */
        public long syscallArch() {
            long r = ptrace(PTRACE_GET_SYSCALL_INFO, pid, SYSCALL_INFO_SIZE, syscallInfo.address());
            return r <= 0 ? -1 : Integer.toUnsignedLong(syscallInfo.get(JAVA_INT, 4));
        }

        public int pid() {
            return pid;
        }

        /** Waits for the child's next stop or end ({@code __WALL}); the wait status. EINTR is retried. */
        public int waitStatus() {
            MemorySegment state = Posix.callState();
            while (true) {
                int r;
                try {
                    r = (int) MH$waitpid.invokeExact(state, pid, status, __WALL);
                } catch (Throwable t) {
                    throw Posix.unreachable(t);
                }
                if (r == pid) {
                    return status.get(JAVA_INT, 0);
                }
                int errno = Posix.errno(state);
                if (r == -1 && errno != 4) {
                    throw new NativeCallException("waitpid", errno, "pid=" + pid);
                }
            }
        }

        /** PTRACE_GETREGS into this tracee's register buffer. */
        public void loadRegs() {
            ptraceOrThrow(PTRACE_GETREGS, pid, 0, regs.address());
        }

        /** PTRACE_SETREGS from the register buffer. */
        public void storeRegs() {
            ptraceOrThrow(PTRACE_SETREGS, pid, 0, regs.address());
        }

        /** Register {@code index} ({@link user_regs_struct}) of the loaded buffer. */
        public long reg(int index) {
            return regs.getAtIndex(JAVA_LONG, index);
        }

        public void setReg(int index, long value) {
            regs.setAtIndex(JAVA_LONG, index, value);
        }

        /** All registers of the buffer, for saving around an injected call. */
        public long[] saveRegs() {
            return regs.toArray(JAVA_LONG);
        }

        public void restoreRegs(long[] saved) {
            MemorySegment.copy(saved, 0, regs, JAVA_LONG, 0, saved.length);
        }

        /** PTRACE_GETSIGINFO: {signo, code, addr} of the signal the child stopped with. */
        public long[] siginfo() {
            ptraceOrThrow(PTRACE_GETSIGINFO, pid, 0, siginfo.address());
            return new long[] {siginfo.get(JAVA_INT, 0), siginfo.get(JAVA_INT, 8), siginfo.get(JAVA_LONG, 16)};
        }

        /** Resumes with {@code request} (PTRACE_SYSEMU, PTRACE_CONT), delivering {@code sig} (0 for none). */
        public void resume(int request, int sig) {
            ptraceOrThrow(request, pid, 0, sig);
        }
    }

    /** {@code WIFEXITED} and friends of a wait status. */
    public static boolean exited(int status) {
        return (status & 0x7f) == 0;
    }

    public static int exitCode(int status) {
        return (status >> 8) & 0xff;
    }

    public static boolean signaled(int status) {
        return (status & 0x7f) != 0 && (status & 0x7f) != 0x7f;
    }

    public static int termSig(int status) {
        return status & 0x7f;
    }

    public static boolean stopped(int status) {
        return (status & 0xff) == 0x7f;
    }

    public static int stopSig(int status) {
        return (status >> 8) & 0xff;
    }
}
