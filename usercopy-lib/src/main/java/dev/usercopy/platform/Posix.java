package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc functions and constants the project uses, in the shape of Lucene's
 * {@code PosixNativeAccess}: one handle a function ({@code MH$name}), found by
 * one helper ({@link #findFunction}, the only restricted lookup), and one
 * method a call that turns a failure into a {@link NativeCallException}
 * naming the call, errno and the arguments. Calls that set errno are linked
 * with {@code captureCallState("errno")}. Addresses are plain longs;
 * {@link #segment} is the one way to view one.
 *
 * <p>The constants have their C names and values for x86-64 Linux; AbiTest
 * holds every one against the C headers.
 */
public final class Posix {
    private Posix() {}

    // <sys/mman.h>
    public static final int PROT_NONE = 0x0;
    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;
    public static final int PROT_EXEC = 0x4;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MAP_POPULATE = 0x8000;
    public static final int MAP_FIXED_NOREPLACE = 0x100000;
    public static final long MAP_FAILED = -1L;
    public static final int MADV_DONTNEED = 4;
    public static final int MADV_REMOVE = 9;
    public static final int MS_ASYNC = 1;
    public static final int MS_SYNC = 4;
    public static final int MFD_CLOEXEC = 0x1;
    // <signal.h>
    public static final int SIGBUS = 7;
    public static final int SIGSEGV = 11;
    public static final int SA_SIGINFO = 0x4;
    public static final int SA_ONSTACK = 0x08000000;
    public static final int SA_RESTART = 0x10000000;
    // <unistd.h>
    public static final int _SC_PAGESIZE = 30;
    // <fcntl.h>
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;

    static final Linker LINKER = Linker.nativeLinker();
    static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final StructLayout CALL_STATE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    /** Each thread's errno capture buffer; reused, so a call allocates nothing. */
    private static final ThreadLocal<MemorySegment> CALL_STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CALL_STATE_LAYOUT));

    /**
     * The downcall handle of libc function {@code name}. The one restricted
     * lookup of libc: when native access is denied it says which flag allows
     * it, and a missing symbol is an {@link UnsatisfiedLinkError}.
     */
    @SuppressWarnings("restricted")
    static MethodHandle findFunction(String name, FunctionDescriptor desc, Linker.Option... options) {
        MemorySegment address = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: " + name));
        try {
            return LINKER.downcallHandle(address, desc, options);
        } catch (IllegalCallerException e) {
            throw BundledLibrary.nativeAccessDenied(e);
        }
    }

    /** This thread's errno capture segment, for a call linked with {@link #CAPTURE_ERRNO}. */
    static MemorySegment callState() {
        return CALL_STATE.get();
    }

    /** The errno a capturing call left in {@code callState}. */
    static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }

    private static final MethodHandle MH$mmap = findFunction("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle MH$munmap = findFunction("munmap",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle MH$mprotect = findFunction("mprotect",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle MH$madvise = findFunction("madvise",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle MH$msync = findFunction("msync",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle MH$memfd_create = findFunction("memfd_create",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle MH$ftruncate = findFunction("ftruncate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle MH$close = findFunction("close",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle MH$sigaction = findFunction("sigaction",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle MH$sysconf = findFunction("sysconf",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle MH$write = findFunction("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE_ERRNO);
    private static final FunctionDescriptor MEMCPY = FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG);
    private static final MethodHandle MH$memcpy = findFunction("memcpy", MEMCPY);
    private static final MethodHandle MH$memcpy$critical = findFunction("memcpy", MEMCPY, Linker.Option.critical(true));

    public static final long PAGE_SIZE = pageSize();

    private static long pageSize() {
        MemorySegment state = CALL_STATE.get();
        long size;
        try {
            size = (long) MH$sysconf.invokeExact(state, _SC_PAGESIZE);
        } catch (Throwable t) {
            throw unreachable(t);
        }
        if (size <= 0) {
            throw new NativeCallException("sysconf", errno(state), "_SC_PAGESIZE");
        }
        return size;
    }

    /** invokeExact declares Throwable; a downcall throws nothing, so anything caught is a bug here. */
    static AssertionError unreachable(Throwable t) {
        return new AssertionError("a downcall threw", t);
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    /** mmap; returns the address of the mapping. */
    public static long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        MemorySegment state = CALL_STATE.get();
        MemorySegment result;
        try {
            result = (MemorySegment) MH$mmap.invokeExact(state, MemorySegment.ofAddress(addr), length, prot, flags, fd, offset);
        } catch (Throwable t) {
            throw unreachable(t);
        }
        if (result.address() == MAP_FAILED) {
            throw new NativeCallException("mmap", errno(state),
                    hex(addr) + ", " + length + ", prot=" + prot + ", flags=" + hex(flags) + ", fd=" + fd + ", offset=" + offset);
        }
        return result.address();
    }

    /** {@code write(fd, addr, count)}: the bytes written, or {@code -errno} (a probe's EFAULT is an answer, not a failure). */
    public static long write(int fd, long addr, long count) {
        MemorySegment state = CALL_STATE.get();
        long r;
        try {
            r = (long) MH$write.invokeExact(state, fd, MemorySegment.ofAddress(addr), count);
        } catch (Throwable t) {
            throw unreachable(t);
        }
        return r < 0 ? -errno(state) : r;
    }

    public static void munmap(long addr, long length) {
        MemorySegment state = CALL_STATE.get();
        int r;
        try {
            r = (int) MH$munmap.invokeExact(state, MemorySegment.ofAddress(addr), length);
        } catch (Throwable t) {
            throw unreachable(t);
        }
        if (r != 0) {
            throw new NativeCallException("munmap", errno(state), hex(addr) + ", " + length);
        }
    }

    public static void mprotect(long addr, long length, int prot) {
        MemorySegment state = CALL_STATE.get();
        int r;
        try {
            r = (int) MH$mprotect.invokeExact(state, MemorySegment.ofAddress(addr), length, prot);
        } catch (Throwable t) {
            throw unreachable(t);
        }
        if (r != 0) {
            throw new NativeCallException("mprotect", errno(state), hex(addr) + ", " + length + ", prot=" + prot);
        }
    }

    public static void madvise(long addr, long length, int advice) {
        MemorySegment state = CALL_STATE.get();
        int r;
        try {
            r = (int) MH$madvise.invokeExact(state, MemorySegment.ofAddress(addr), length, advice);
        } catch (Throwable t) {
            throw unreachable(t);
        }
        if (r != 0) {
            throw new NativeCallException("madvise", errno(state), hex(addr) + ", " + length + ", advice=" + advice);
        }
    }

    public static void msync(long addr, long length, int flags) {
        MemorySegment state = CALL_STATE.get();
        int r;
        try {
            r = (int) MH$msync.invokeExact(state, MemorySegment.ofAddress(addr), length, flags);
        } catch (Throwable t) {
            throw unreachable(t);
        }
        if (r != 0) {
            throw new NativeCallException("msync", errno(state), hex(addr) + ", " + length + ", flags=" + flags);
        }
    }

    /** memfd_create; returns the file descriptor. */
    public static int memfdCreate(String name, int flags) {
        MemorySegment state = CALL_STATE.get();
        try (Arena arena = Arena.ofConfined()) {
            int fd;
            try {
                fd = (int) MH$memfd_create.invokeExact(state, arena.allocateFrom(name), flags);
            } catch (Throwable t) {
                throw unreachable(t);
            }
            if (fd < 0) {
                throw new NativeCallException("memfd_create", errno(state), "\"" + name + "\", flags=" + flags);
            }
            return fd;
        }
    }

    public static void ftruncate(int fd, long length) {
        MemorySegment state = CALL_STATE.get();
        int r;
        try {
            r = (int) MH$ftruncate.invokeExact(state, fd, length);
        } catch (Throwable t) {
            throw unreachable(t);
        }
        if (r != 0) {
            throw new NativeCallException("ftruncate", errno(state), "fd=" + fd + ", " + length);
        }
    }

    public static void close(int fd) {
        MemorySegment state = CALL_STATE.get();
        int r;
        try {
            r = (int) MH$close.invokeExact(state, fd);
        } catch (Throwable t) {
            throw unreachable(t);
        }
        if (r != 0) {
            throw new NativeCallException("close", errno(state), "fd=" + fd);
        }
    }

    /** sigaction; {@code act} and {@code oldact} may be {@link MemorySegment#NULL}. */
    public static void sigaction(int signum, MemorySegment act, MemorySegment oldact) {
        MemorySegment state = CALL_STATE.get();
        int r;
        try {
            r = (int) MH$sigaction.invokeExact(state, signum, act, oldact);
        } catch (Throwable t) {
            throw unreachable(t);
        }
        if (r != 0) {
            throw new NativeCallException("sigaction", errno(state), "signum=" + signum);
        }
    }

    /** {@code memcpy(dest, src, n)}, a plain downcall; a fault here is not ours to fix up. Returns dest's address. */
    public static long memcpy(MemorySegment dest, MemorySegment src, long n) {
        try {
            return ((MemorySegment) MH$memcpy.invokeExact(dest, src, n)).address();
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    /** {@link #memcpy} as a critical downcall, which may take heap segments. */
    public static long memcpyCritical(MemorySegment dest, MemorySegment src, long n) {
        try {
            return ((MemorySegment) MH$memcpy$critical.invokeExact(dest, src, n)).address();
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    /**
     * Forks this process; the child exits at once without running any of the
     * JVM's code, and this waits for it. What it costs is what the host
     * kernel's fork costs for this process's memory.
     */
    public static void forkAndReap() {
        long r = LibUsercopy.forkWait();
        if (r < 0) {
            throw new NativeCallException("fork", (int) -r, "");
        }
    }

    /** A view of {@code length} bytes of host memory at {@code addr}. The caller owns the lifetime. */
    @SuppressWarnings("restricted")
    public static MemorySegment segment(long addr, long length) {
        return MemorySegment.ofAddress(addr).reinterpret(length);
    }
}
