package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Checked wrappers over {@link libc_h}: a failing call throws
 * {@link NativeCallException} naming the call, errno and the arguments.
 * Addresses are plain longs; {@link #segment} is the one way to view one.
 */
public final class Posix {
    private Posix() {}

    /** Each thread's errno capture buffer; reused, so a call allocates nothing. */
    private static final ThreadLocal<MemorySegment> CALL_STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(libc_h.CALL_STATE));

    public static final long PAGE_SIZE = pageSize();

    private static long pageSize() {
        MemorySegment state = CALL_STATE.get();
        long size = libc_h.sysconf(state, libc_h._SC_PAGESIZE);
        if (size <= 0) {
            throw new NativeCallException("sysconf", libc_h.errno(state), "_SC_PAGESIZE");
        }
        return size;
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    /** mmap; returns the address of the mapping. */
    public static long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        MemorySegment state = CALL_STATE.get();
        MemorySegment result = libc_h.mmap(state, MemorySegment.ofAddress(addr), length, prot, flags, fd, offset);
        if (result.address() == libc_h.MAP_FAILED) {
            throw new NativeCallException("mmap", libc_h.errno(state),
                    hex(addr) + ", " + length + ", prot=" + prot + ", flags=" + hex(flags) + ", fd=" + fd + ", offset=" + offset);
        }
        return result.address();
    }

    /** {@code write(fd, addr, count)}: the bytes written, or {@code -errno} (a probe's EFAULT is an answer, not a failure). */
    public static long write(int fd, long addr, long count) {
        MemorySegment state = CALL_STATE.get();
        long r = libc_h.write(state, fd, MemorySegment.ofAddress(addr), count);
        return r < 0 ? -libc_h.errno(state) : r;
    }

    public static void munmap(long addr, long length) {
        MemorySegment state = CALL_STATE.get();
        if (libc_h.munmap(state, MemorySegment.ofAddress(addr), length) != 0) {
            throw new NativeCallException("munmap", libc_h.errno(state), hex(addr) + ", " + length);
        }
    }

    public static void mprotect(long addr, long length, int prot) {
        MemorySegment state = CALL_STATE.get();
        if (libc_h.mprotect(state, MemorySegment.ofAddress(addr), length, prot) != 0) {
            throw new NativeCallException("mprotect", libc_h.errno(state), hex(addr) + ", " + length + ", prot=" + prot);
        }
    }

    public static void madvise(long addr, long length, int advice) {
        MemorySegment state = CALL_STATE.get();
        if (libc_h.madvise(state, MemorySegment.ofAddress(addr), length, advice) != 0) {
            throw new NativeCallException("madvise", libc_h.errno(state), hex(addr) + ", " + length + ", advice=" + advice);
        }
    }

    public static void msync(long addr, long length, int flags) {
        MemorySegment state = CALL_STATE.get();
        if (libc_h.msync(state, MemorySegment.ofAddress(addr), length, flags) != 0) {
            throw new NativeCallException("msync", libc_h.errno(state), hex(addr) + ", " + length + ", flags=" + flags);
        }
    }

    /** memfd_create; returns the file descriptor. */
    public static int memfdCreate(String name, int flags) {
        MemorySegment state = CALL_STATE.get();
        try (Arena arena = Arena.ofConfined()) {
            int fd = libc_h.memfd_create(state, arena.allocateFrom(name), flags);
            if (fd < 0) {
                throw new NativeCallException("memfd_create", libc_h.errno(state), "\"" + name + "\", flags=" + flags);
            }
            return fd;
        }
    }

    public static void ftruncate(int fd, long length) {
        MemorySegment state = CALL_STATE.get();
        if (libc_h.ftruncate(state, fd, length) != 0) {
            throw new NativeCallException("ftruncate", libc_h.errno(state), "fd=" + fd + ", " + length);
        }
    }

    public static void close(int fd) {
        MemorySegment state = CALL_STATE.get();
        if (libc_h.close(state, fd) != 0) {
            throw new NativeCallException("close", libc_h.errno(state), "fd=" + fd);
        }
    }

    /** sigaction; {@code act} and {@code oldact} may be {@link MemorySegment#NULL}. */
    public static void sigaction(int signum, MemorySegment act, MemorySegment oldact) {
        MemorySegment state = CALL_STATE.get();
        if (libc_h.sigaction(state, signum, act, oldact) != 0) {
            throw new NativeCallException("sigaction", libc_h.errno(state), "signum=" + signum);
        }
    }

    /**
     * Forks this process; the child exits at once without running any of the
     * JVM's code, and this waits for it. What it costs is what the host
     * kernel's fork costs for this process's memory.
     */
    public static void forkAndReap() {
        long r = usercopy_h.usercopy_fork_wait();
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
