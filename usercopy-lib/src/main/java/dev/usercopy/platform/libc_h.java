package dev.usercopy.platform;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The libc functions and constants the project uses, hand-written in the shape
 * jextract generates for {@code <sys/mman.h>}, {@code <signal.h>},
 * {@code <unistd.h>}, {@code <fcntl.h>}, {@code <sys/uio.h>} and
 * {@code <string.h>} (jextract cannot be installed
 * here): one holder class a function with {@code DESC}, {@code ADDR},
 * {@code HANDLE}.
 *
 * <p>Unlike jextract, calls that set errno are linked with
 * {@code captureCallState("errno")} and take the capture segment as their
 * first argument; {@link Posix} turns a failure into an exception.
 */
@SuppressWarnings("restricted")
public final class libc_h {
    private libc_h() {}

    static final Linker LINKER = Linker.nativeLinker();
    static final SymbolLookup SYMBOL_LOOKUP = LINKER.defaultLookup();

    public static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
    public static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;
    public static final ValueLayout C_POINTER = ValueLayout.ADDRESS;

    /** The layout of the segment a capturing call writes errno into. */
    public static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    public static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }

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

    static MemorySegment findOrThrow(String symbol) {
        return SYMBOL_LOOKUP.find(symbol)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: " + symbol));
    }

    private static MethodHandle capturing(MemorySegment addr, FunctionDescriptor desc) {
        return LINKER.downcallHandle(addr, desc, CAPTURE_ERRNO);
    }

    private static AssertionError unreachable(Throwable t) {
        return new AssertionError("should not reach here", t);
    }

    private static final class mmap {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_POINTER, C_LONG, C_INT, C_INT, C_INT, C_LONG);
        static final MemorySegment ADDR = findOrThrow("mmap");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /** {@code void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)} */
    public static MemorySegment mmap(MemorySegment callState, MemorySegment addr, long length, int prot, int flags, int fd, long offset) {
        try {
            return (MemorySegment) mmap.HANDLE.invokeExact(callState, addr, length, prot, flags, fd, offset);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class munmap {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG);
        static final MemorySegment ADDR = findOrThrow("munmap");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /** {@code int munmap(void *addr, size_t length)} */
    public static int munmap(MemorySegment callState, MemorySegment addr, long length) {
        try {
            return (int) munmap.HANDLE.invokeExact(callState, addr, length);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class mprotect {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_INT);
        static final MemorySegment ADDR = findOrThrow("mprotect");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /** {@code int mprotect(void *addr, size_t length, int prot)} */
    public static int mprotect(MemorySegment callState, MemorySegment addr, long length, int prot) {
        try {
            return (int) mprotect.HANDLE.invokeExact(callState, addr, length, prot);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class madvise {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_INT);
        static final MemorySegment ADDR = findOrThrow("madvise");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /** {@code int madvise(void *addr, size_t length, int advice)} */
    public static int madvise(MemorySegment callState, MemorySegment addr, long length, int advice) {
        try {
            return (int) madvise.HANDLE.invokeExact(callState, addr, length, advice);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class msync {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_INT);
        static final MemorySegment ADDR = findOrThrow("msync");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /** {@code int msync(void *addr, size_t length, int flags)} */
    public static int msync(MemorySegment callState, MemorySegment addr, long length, int flags) {
        try {
            return (int) msync.HANDLE.invokeExact(callState, addr, length, flags);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class memfd_create {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT);
        static final MemorySegment ADDR = findOrThrow("memfd_create");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /** {@code int memfd_create(const char *name, unsigned int flags)} */
    public static int memfd_create(MemorySegment callState, MemorySegment name, int flags) {
        try {
            return (int) memfd_create.HANDLE.invokeExact(callState, name, flags);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class ftruncate {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_INT, C_LONG);
        static final MemorySegment ADDR = findOrThrow("ftruncate");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /** {@code int ftruncate(int fd, off_t length)} */
    public static int ftruncate(MemorySegment callState, int fd, long length) {
        try {
            return (int) ftruncate.HANDLE.invokeExact(callState, fd, length);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class close {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_INT);
        static final MemorySegment ADDR = findOrThrow("close");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /** {@code int close(int fd)} */
    public static int close(MemorySegment callState, int fd) {
        try {
            return (int) close.HANDLE.invokeExact(callState, fd);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class sigaction {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_POINTER);
        static final MemorySegment ADDR = findOrThrow("sigaction");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /** {@code int sigaction(int signum, const struct sigaction *act, struct sigaction *oldact)} */
    public static int sigaction(MemorySegment callState, int signum, MemorySegment act, MemorySegment oldact) {
        try {
            return (int) sigaction.HANDLE.invokeExact(callState, signum, act, oldact);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class sysconf {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG, C_INT);
        static final MemorySegment ADDR = findOrThrow("sysconf");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /** {@code long sysconf(int name)} */
    public static long sysconf(MemorySegment callState, int name) {
        try {
            return (long) sysconf.HANDLE.invokeExact(callState, name);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class memcpy {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_POINTER, C_POINTER, C_LONG);
        static final MemorySegment ADDR = findOrThrow("memcpy");
        static final MethodHandle HANDLE = LINKER.downcallHandle(ADDR, DESC);
        static final MethodHandle CRITICAL = LINKER.downcallHandle(ADDR, DESC, Linker.Option.critical(true));
    }

    /** {@code void *memcpy(void *dest, const void *src, size_t n)}; faults here are not ours to fix up. */
    public static MemorySegment memcpy(MemorySegment dest, MemorySegment src, long n) {
        try {
            return (MemorySegment) memcpy.HANDLE.invokeExact(dest, src, n);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    /** {@link #memcpy} as a critical call, which may take heap segments. */
    public static MemorySegment memcpy$critical(MemorySegment dest, MemorySegment src, long n) {
        try {
            return (MemorySegment) memcpy.CRITICAL.invokeExact(dest, src, n);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    // ---------------------------------------------------------------- I/O: the kernel's own user copies

    private static final class pipe2 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT);
        static final MemorySegment ADDR = findOrThrow("pipe2");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /** {@code int pipe2(int pipefd[2], int flags)} */
    public static int pipe2(MemorySegment callState, MemorySegment pipefd, int flags) {
        try {
            return (int) pipe2.HANDLE.invokeExact(callState, pipefd, flags);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class read {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG);
        static final MemorySegment ADDR = findOrThrow("read");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /** {@code ssize_t read(int fd, void *buf, size_t count)} */
    public static long read(MemorySegment callState, int fd, MemorySegment buf, long count) {
        try {
            return (long) read.HANDLE.invokeExact(callState, fd, buf, count);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class write {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG);
        static final MemorySegment ADDR = findOrThrow("write");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /** {@code ssize_t write(int fd, const void *buf, size_t count)} */
    public static long write(MemorySegment callState, int fd, MemorySegment buf, long count) {
        try {
            return (long) write.HANDLE.invokeExact(callState, fd, buf, count);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class pread {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG, C_LONG);
        static final MemorySegment ADDR = findOrThrow("pread");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /** {@code ssize_t pread(int fd, void *buf, size_t count, off_t offset)} */
    public static long pread(MemorySegment callState, int fd, MemorySegment buf, long count, long offset) {
        try {
            return (long) pread.HANDLE.invokeExact(callState, fd, buf, count, offset);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class pwrite {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG, C_LONG);
        static final MemorySegment ADDR = findOrThrow("pwrite");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /** {@code ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)} */
    public static long pwrite(MemorySegment callState, int fd, MemorySegment buf, long count, long offset) {
        try {
            return (long) pwrite.HANDLE.invokeExact(callState, fd, buf, count, offset);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class process_vm_readv {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG, C_POINTER, C_LONG, C_LONG);
        static final MemorySegment ADDR = findOrThrow("process_vm_readv");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /**
     * {@code ssize_t process_vm_readv(pid_t pid, const struct iovec *local_iov, unsigned long liovcnt,
     * const struct iovec *remote_iov, unsigned long riovcnt, unsigned long flags)}
     */
    public static long process_vm_readv(MemorySegment callState, int pid, MemorySegment localIov, long liovcnt,
                                        MemorySegment remoteIov, long riovcnt, long flags) {
        try {
            return (long) process_vm_readv.HANDLE.invokeExact(callState, pid, localIov, liovcnt, remoteIov, riovcnt, flags);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class process_vm_writev {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG, C_POINTER, C_LONG, C_LONG);
        static final MemorySegment ADDR = findOrThrow("process_vm_writev");
        static final MethodHandle HANDLE = capturing(ADDR, DESC);
    }

    /**
     * {@code ssize_t process_vm_writev(pid_t pid, const struct iovec *local_iov, unsigned long liovcnt,
     * const struct iovec *remote_iov, unsigned long riovcnt, unsigned long flags)}
     */
    public static long process_vm_writev(MemorySegment callState, int pid, MemorySegment localIov, long liovcnt,
                                         MemorySegment remoteIov, long riovcnt, long flags) {
        try {
            return (long) process_vm_writev.HANDLE.invokeExact(callState, pid, localIov, liovcnt, remoteIov, riovcnt, flags);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }
}
