package dev.usercopy.platform;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static dev.usercopy.platform.libc_h.C_INT;
import static dev.usercopy.platform.libc_h.C_LONG;
import static dev.usercopy.platform.libc_h.C_POINTER;

/**
 * Bindings to libusercopy.so (native/*.S) in jextract's shape.
 *
 * <p>Guest ("user") addresses are passed as {@code uintptr_t} (a Java
 * {@code long}): the routines never dereference them outside the exception
 * table, and passing a long spares a segment per call. Kernel buffers are
 * segments. Each copy has a plain handle and a {@code $critical} one; only the
 * critical one accepts heap segments, and it holds off safepoints for as long
 * as it runs, so {@link UserCopy} bounds what one critical call copies.
 */
@SuppressWarnings("restricted")
public final class usercopy_h {
    private usercopy_h() {}

    static final SymbolLookup SYMBOL_LOOKUP = BundledLibrary.load();
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option CRITICAL = Linker.Option.critical(true);

    static MemorySegment findOrThrow(String symbol) {
        return SYMBOL_LOOKUP.find(symbol)
                .orElseThrow(() -> new UnsatisfiedLinkError("libusercopy symbol not found: " + symbol));
    }

    private static AssertionError unreachable(Throwable t) {
        return new AssertionError("should not reach here", t);
    }

    /** {@code size_t f(void *dst, const void *src, size_t n)} with one side a uintptr_t. */
    private static final FunctionDescriptor COPY_FROM = FunctionDescriptor.of(C_LONG, C_POINTER, C_LONG, C_LONG);
    private static final FunctionDescriptor COPY_TO = FunctionDescriptor.of(C_LONG, C_LONG, C_POINTER, C_LONG);

    private static final class copy_from_user {
        static final FunctionDescriptor DESC = COPY_FROM;
        static final MemorySegment ADDR = findOrThrow("copy_from_user");
        static final MethodHandle HANDLE = LINKER.downcallHandle(ADDR, DESC);
        static final MethodHandle HANDLE$critical = LINKER.downcallHandle(ADDR, DESC, CRITICAL);
    }

    /** {@code size_t copy_from_user(void *dst, uintptr_t src, size_t n)}, alignment-aware: bytes not copied. */
    public static long copy_from_user(MemorySegment dst, long src, long n) {
        try {
            return (long) copy_from_user.HANDLE.invokeExact(dst, src, n);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    public static long copy_from_user$critical(MemorySegment dst, long src, long n) {
        try {
            return (long) copy_from_user.HANDLE$critical.invokeExact(dst, src, n);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class copy_to_user {
        static final FunctionDescriptor DESC = COPY_TO;
        static final MemorySegment ADDR = findOrThrow("copy_to_user");
        static final MethodHandle HANDLE = LINKER.downcallHandle(ADDR, DESC);
        static final MethodHandle HANDLE$critical = LINKER.downcallHandle(ADDR, DESC, CRITICAL);
    }

    /** {@code size_t copy_to_user(uintptr_t dst, const void *src, size_t n)}, alignment-aware: bytes not copied. */
    public static long copy_to_user(long dst, MemorySegment src, long n) {
        try {
            return (long) copy_to_user.HANDLE.invokeExact(dst, src, n);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    public static long copy_to_user$critical(long dst, MemorySegment src, long n) {
        try {
            return (long) copy_to_user.HANDLE$critical.invokeExact(dst, src, n);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class copy_from_user_flat {
        static final FunctionDescriptor DESC = COPY_FROM;
        static final MemorySegment ADDR = findOrThrow("copy_from_user_flat");
        static final MethodHandle HANDLE = LINKER.downcallHandle(ADDR, DESC);
        static final MethodHandle HANDLE$critical = LINKER.downcallHandle(ADDR, DESC, CRITICAL);
    }

    /** {@code size_t copy_from_user_flat(void *dst, uintptr_t src, size_t n)}, one rep movsb: bytes not copied. */
    public static long copy_from_user_flat(MemorySegment dst, long src, long n) {
        try {
            return (long) copy_from_user_flat.HANDLE.invokeExact(dst, src, n);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    public static long copy_from_user_flat$critical(MemorySegment dst, long src, long n) {
        try {
            return (long) copy_from_user_flat.HANDLE$critical.invokeExact(dst, src, n);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class copy_to_user_flat {
        static final FunctionDescriptor DESC = COPY_TO;
        static final MemorySegment ADDR = findOrThrow("copy_to_user_flat");
        static final MethodHandle HANDLE = LINKER.downcallHandle(ADDR, DESC);
        static final MethodHandle HANDLE$critical = LINKER.downcallHandle(ADDR, DESC, CRITICAL);
    }

    /** {@code size_t copy_to_user_flat(uintptr_t dst, const void *src, size_t n)}, one rep movsb: bytes not copied. */
    public static long copy_to_user_flat(long dst, MemorySegment src, long n) {
        try {
            return (long) copy_to_user_flat.HANDLE.invokeExact(dst, src, n);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    public static long copy_to_user_flat$critical(long dst, MemorySegment src, long n) {
        try {
            return (long) copy_to_user_flat.HANDLE$critical.invokeExact(dst, src, n);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class copy_from_user_adaptive {
        static final FunctionDescriptor DESC = COPY_FROM;
        static final MemorySegment ADDR = findOrThrow("copy_from_user_adaptive");
        static final MethodHandle HANDLE = LINKER.downcallHandle(ADDR, DESC);
        static final MethodHandle HANDLE$critical = LINKER.downcallHandle(ADDR, DESC, CRITICAL);
    }

    /** {@code size_t copy_from_user_adaptive(void *dst, uintptr_t src, size_t n)}, picked by size and CPU: bytes not copied. */
    public static long copy_from_user_adaptive(MemorySegment dst, long src, long n) {
        try {
            return (long) copy_from_user_adaptive.HANDLE.invokeExact(dst, src, n);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    public static long copy_from_user_adaptive$critical(MemorySegment dst, long src, long n) {
        try {
            return (long) copy_from_user_adaptive.HANDLE$critical.invokeExact(dst, src, n);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class copy_to_user_adaptive {
        static final FunctionDescriptor DESC = COPY_TO;
        static final MemorySegment ADDR = findOrThrow("copy_to_user_adaptive");
        static final MethodHandle HANDLE = LINKER.downcallHandle(ADDR, DESC);
        static final MethodHandle HANDLE$critical = LINKER.downcallHandle(ADDR, DESC, CRITICAL);
    }

    /** {@code size_t copy_to_user_adaptive(uintptr_t dst, const void *src, size_t n)}, picked by size and CPU: bytes not copied. */
    public static long copy_to_user_adaptive(long dst, MemorySegment src, long n) {
        try {
            return (long) copy_to_user_adaptive.HANDLE.invokeExact(dst, src, n);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    public static long copy_to_user_adaptive$critical(long dst, MemorySegment src, long n) {
        try {
            return (long) copy_to_user_adaptive.HANDLE$critical.invokeExact(dst, src, n);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class usercopy_cpu_features {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG);
        static final MethodHandle HANDLE = LINKER.downcallHandle(findOrThrow("usercopy_cpu_features"), DESC);
    }

    /** {@code long usercopy_cpu_features(void)}: the FEAT_* bits (ERMS 1, FSRM 2, AVX2 4) the adaptive form uses. */
    public static long usercopy_cpu_features() {
        try {
            return (long) usercopy_cpu_features.HANDLE.invokeExact();
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class usercopy_set_cpu_features {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG, C_LONG);
        static final MethodHandle HANDLE = LINKER.downcallHandle(findOrThrow("usercopy_set_cpu_features"), DESC);
    }

    /** {@code long usercopy_set_cpu_features(long keep)}: use only the detected features in keep; returns those in use. */
    public static long usercopy_set_cpu_features(long keep) {
        try {
            return (long) usercopy_set_cpu_features.HANDLE.invokeExact(keep);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class strncpy_from_user {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG, C_POINTER, C_LONG, C_LONG);
        static final MemorySegment ADDR = findOrThrow("strncpy_from_user");
        static final MethodHandle HANDLE$critical = LINKER.downcallHandle(ADDR, DESC, CRITICAL);
    }

    /** {@code long strncpy_from_user(char *dst, uintptr_t src, long count)}: length, count, or -EFAULT. */
    public static long strncpy_from_user$critical(MemorySegment dst, long src, long count) {
        try {
            return (long) strncpy_from_user.HANDLE$critical.invokeExact(dst, src, count);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class clear_user {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG, C_LONG, C_LONG);
        static final MemorySegment ADDR = findOrThrow("clear_user");
        static final MethodHandle HANDLE = LINKER.downcallHandle(ADDR, DESC);
        static final MethodHandle HANDLE$critical = LINKER.downcallHandle(ADDR, DESC, CRITICAL);
    }

    /** {@code size_t clear_user(uintptr_t dst, size_t n)}: bytes not cleared. */
    public static long clear_user(long dst, long n) {
        try {
            return (long) clear_user.HANDLE.invokeExact(dst, n);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    public static long clear_user$critical(long dst, long n) {
        try {
            return (long) clear_user.HANDLE$critical.invokeExact(dst, n);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    /** The address of {@code void usercopy_signal_handler(int, siginfo_t *, void *)}. */
    public static MemorySegment usercopy_signal_handler() {
        return findOrThrow("usercopy_signal_handler");
    }

    private static final class usercopy_set_chain {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_INT, C_POINTER);
        static final MethodHandle HANDLE = LINKER.downcallHandle(findOrThrow("usercopy_set_chain"), DESC);
    }

    /** {@code int usercopy_set_chain(int sig, void *handler)}: where faults outside the table go. */
    public static int usercopy_set_chain(int sig, MemorySegment handler) {
        try {
            return (int) usercopy_set_chain.HANDLE.invokeExact(sig, handler);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class usercopy_chain {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_INT);
        static final MethodHandle HANDLE = LINKER.downcallHandle(findOrThrow("usercopy_chain"), DESC);
    }

    /** {@code void *usercopy_chain(int sig)} */
    public static MemorySegment usercopy_chain(int sig) {
        try {
            return (MemorySegment) usercopy_chain.HANDLE.invokeExact(sig);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class usercopy_counter {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG, C_INT);
        static final MethodHandle HANDLE = LINKER.downcallHandle(findOrThrow("usercopy_counter"), DESC, CRITICAL);
    }

    /** {@code long usercopy_counter(int which)}: 0 SIGSEGV fixups, 1 SIGBUS fixups, 2 faults passed on. */
    public static long usercopy_counter(int which) {
        try {
            return (long) usercopy_counter.HANDLE.invokeExact(which);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class usercopy_extable_size {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG);
        static final MethodHandle HANDLE = LINKER.downcallHandle(findOrThrow("usercopy_extable_size"), DESC);
    }

    /** {@code long usercopy_extable_size(void)} */
    public static long usercopy_extable_size() {
        try {
            return (long) usercopy_extable_size.HANDLE.invokeExact();
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class usercopy_extable_entry {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG, C_LONG, C_INT);
        static final MethodHandle HANDLE = LINKER.downcallHandle(findOrThrow("usercopy_extable_entry"), DESC);
    }

    /** {@code long usercopy_extable_entry(long i, int which)}: instruction (0) or fixup (1) address. */
    public static long usercopy_extable_entry(long i, int which) {
        try {
            return (long) usercopy_extable_entry.HANDLE.invokeExact(i, which);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class usercopy_extable_hits {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG, C_LONG);
        static final MethodHandle HANDLE = LINKER.downcallHandle(findOrThrow("usercopy_extable_hits"), DESC, CRITICAL);
    }

    /** {@code long usercopy_extable_hits(long i)}: fixups taken through entry i. */
    public static long usercopy_extable_hits(long i) {
        try {
            return (long) usercopy_extable_hits.HANDLE.invokeExact(i);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class usercopy_abi {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG, C_INT);
        static final MethodHandle HANDLE = LINKER.downcallHandle(findOrThrow("usercopy_abi"), DESC);
    }

    /** {@code long usercopy_abi(int which)}: 0 is the offset of RIP in ucontext_t the handler was built with. */
    public static long usercopy_abi(int which) {
        try {
            return (long) usercopy_abi.HANDLE.invokeExact(which);
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    private static final class usercopy_fork_wait {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_LONG);
        static final MethodHandle HANDLE = LINKER.downcallHandle(findOrThrow("usercopy_fork_wait"), DESC);
    }

    /** {@code long usercopy_fork_wait(void)}: fork, the child exits at once, the parent waits. 0 or -errno. */
    public static long usercopy_fork_wait() {
        try {
            return (long) usercopy_fork_wait.HANDLE.invokeExact();
        } catch (Throwable t) {
            throw unreachable(t);
        }
    }

    /** The address of a global symbol of the library, such as a fixup label, or 0 if absent. */
    public static long symbolAddress(String name) {
        return SYMBOL_LOOKUP.find(name).map(MemorySegment::address).orElse(0L);
    }
}
