package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * What the host says about itself that a guest's syscalls pass on: its
 * clocks, its name ({@code uname}), its load ({@code sysinfo}), random bytes,
 * the user's ids and groups, and resource limits. In {@link Posix}'s shape:
 * one handle a function, calls that set errno linked with its capture. Kernel
 * structs cross as byte arrays (a scratch segment per thread in between), so
 * the syscall layer above never sees a host address.
 *
 * <p>The struct sizes are x86-64's; {@code HostSystemTest} holds them against
 * the C headers.
 */
public final class HostSystem {
    private HostSystem() {}

    /** {@code sizeof(struct utsname)}: six fields of 65 bytes. */
    public static final int UTSNAME_SIZE = 6 * 65;
    /** {@code sizeof(struct sysinfo)} on x86-64. */
    public static final int SYSINFO_SIZE = 112;
    /** Linux's RLIM_NLIMITS: the resources prlimit knows. */
    public static final int RLIM_NLIMITS = 16;

    private static final int SCRATCH = 512;
    private static final ThreadLocal<MemorySegment> BUFFER = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(SCRATCH, 16));

    private static final MethodHandle MH$clock_gettime = Posix.findFunction("clock_gettime",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), Posix.CAPTURE_ERRNO);
    private static final MethodHandle MH$clock_getres = Posix.findFunction("clock_getres",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), Posix.CAPTURE_ERRNO);
    private static final MethodHandle MH$uname = Posix.findFunction("uname",
            FunctionDescriptor.of(JAVA_INT, ADDRESS), Posix.CAPTURE_ERRNO);
    private static final MethodHandle MH$sysinfo = Posix.findFunction("sysinfo",
            FunctionDescriptor.of(JAVA_INT, ADDRESS), Posix.CAPTURE_ERRNO);
    private static final MethodHandle MH$getrandom = Posix.findFunction("getrandom",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT), Posix.CAPTURE_ERRNO);
    private static final MethodHandle MH$prlimit = Posix.findFunction("prlimit",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), Posix.CAPTURE_ERRNO);
    private static final MethodHandle MH$getresuid = Posix.findFunction("getresuid",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), Posix.CAPTURE_ERRNO);
    private static final MethodHandle MH$getresgid = Posix.findFunction("getresgid",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), Posix.CAPTURE_ERRNO);
    private static final MethodHandle MH$getgroups = Posix.findFunction("getgroups",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), Posix.CAPTURE_ERRNO);

    /**
     * {@code clock_gettime(clock, ts)}: 0 with {sec, nsec} in {@code out}, or
     * {@code -errno} (EINVAL for a clock the host does not have).
     */
    public static int clockGettime(int clock, long[] out) {
        return clockCall(MH$clock_gettime, clock, out);
    }

    /** {@code clock_getres(clock, ts)}, as {@link #clockGettime}. */
    public static int clockGetres(int clock, long[] out) {
        return clockCall(MH$clock_getres, clock, out);
    }

    private static int clockCall(MethodHandle handle, int clock, long[] out) {
        MemorySegment state = Posix.callState();
        MemorySegment ts = BUFFER.get();
        int r;
        try {
            r = (int) handle.invokeExact(state, clock, ts);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
        if (r != 0) {
            return -Posix.errno(state);
        }
        out[0] = ts.get(JAVA_LONG, 0);
        out[1] = ts.get(JAVA_LONG, 8);
        return 0;
    }

    /** The host's {@code struct utsname}, as the kernel hands it out. */
    public static byte[] uname() {
        return structCall(MH$uname, UTSNAME_SIZE, "uname");
    }

    /** The host's {@code struct sysinfo} now. */
    public static byte[] sysinfo() {
        return structCall(MH$sysinfo, SYSINFO_SIZE, "sysinfo");
    }

    private static byte[] structCall(MethodHandle handle, int size, String name) {
        MemorySegment state = Posix.callState();
        MemorySegment buf = BUFFER.get();
        int r;
        try {
            r = (int) handle.invokeExact(state, buf);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
        if (r != 0) {
            throw new NativeCallException(name, Posix.errno(state), "");
        }
        return buf.asSlice(0, size).toArray(JAVA_BYTE);
    }

    /**
     * {@code getrandom} into {@code dst[0, length)} with {@code flags}: the
     * count of bytes, or {@code -errno}. At most {@value #SCRATCH} bytes a
     * call; a caller loops.
     */
    public static long getrandom(byte[] dst, int length, int flags) {
        int n = Math.min(length, SCRATCH);
        MemorySegment state = Posix.callState();
        MemorySegment buf = BUFFER.get();
        long r;
        try {
            r = (long) MH$getrandom.invokeExact(state, buf, (long) n, flags);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
        if (r < 0) {
            return -Posix.errno(state);
        }
        MemorySegment.copy(buf, JAVA_BYTE, 0, dst, 0, (int) r);
        return r;
    }

    /**
     * {@code sched_getaffinity} of this JVM's main thread (never pinned,
     * unlike a tracer thread and its guest), for a mask buffer of
     * {@code len} bytes (unsigned), into {@code out} (4096 bytes): the
     * mask's length, or {@code -errno} (EINVAL for a length the host
     * refuses).
     */
    public static long schedGetaffinity(int len, byte[] out) {
        long asked = Integer.toUnsignedLong(len);
        // A longer buffer is cut to ours (the host writes its mask's size, far less), keeping a length the host refuses refused.
        long given = asked > out.length && asked % 8 == 0 ? out.length : asked;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(out.length, 8); // a given length past it is one the host refuses before writing
            long r = HostFiles.syscall(204, ProcessHandle.current().pid(), given, b.address(), 0, 0, 0);
            if (r > 0) {
                MemorySegment.copy(b, JAVA_BYTE, 0, out, 0, (int) Math.min(r, out.length));
            }
            return r;
        }
    }

    /** This process's {soft, hard} limit of {@code resource} (0..15); RLIM_INFINITY is -1. */
    public static long[] getrlimit(int resource) {
        MemorySegment state = Posix.callState();
        MemorySegment buf = BUFFER.get();
        int r;
        try {
            r = (int) MH$prlimit.invokeExact(state, 0, resource, MemorySegment.NULL, buf);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
        if (r != 0) {
            throw new NativeCallException("prlimit", Posix.errno(state), "0, " + resource + ", NULL, old");
        }
        return new long[] {buf.get(JAVA_LONG, 0), buf.get(JAVA_LONG, 8)};
    }

    /** The real, effective and saved user ids of this process. */
    public static int[] getresuid() {
        return idCall(MH$getresuid, "getresuid");
    }

    /** The real, effective and saved group ids of this process. */
    public static int[] getresgid() {
        return idCall(MH$getresgid, "getresgid");
    }

    private static int[] idCall(MethodHandle handle, String name) {
        MemorySegment state = Posix.callState();
        MemorySegment buf = BUFFER.get();
        int r;
        try {
            r = (int) handle.invokeExact(state, buf, buf.asSlice(4), buf.asSlice(8));
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
        if (r != 0) {
            throw new NativeCallException(name, Posix.errno(state), "");
        }
        return new int[] {buf.get(JAVA_INT, 0), buf.get(JAVA_INT, 4), buf.get(JAVA_INT, 8)};
    }

    /** This process's supplementary group ids. */
    public static int[] getgroups() {
        MemorySegment state = Posix.callState();
        try (Arena arena = Arena.ofConfined()) {
            int n;
            try {
                n = (int) MH$getgroups.invokeExact(state, 0, MemorySegment.NULL);
            } catch (Throwable t) {
                throw Posix.unreachable(t);
            }
            if (n < 0) {
                throw new NativeCallException("getgroups", Posix.errno(state), "0, NULL");
            }
            MemorySegment list = arena.allocate(JAVA_INT, Math.max(1, n));
            int got;
            try {
                got = (int) MH$getgroups.invokeExact(state, n, list);
            } catch (Throwable t) {
                throw Posix.unreachable(t);
            }
            if (got < 0) {
                throw new NativeCallException("getgroups", Posix.errno(state), n + ", list");
            }
            return list.asSlice(0, 4L * got).toArray(JAVA_INT);
        }
    }
}
