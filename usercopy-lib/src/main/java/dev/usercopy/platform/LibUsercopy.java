package dev.usercopy.platform;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The functions of libusercopy.so (native/*.S) other than the copies, which
 * {@link UserCopy.Form} and {@link UserCopy} link themselves: one handle a
 * function ({@code MH$name}), found by {@link #findFunction}, the library's
 * one restricted lookup. Guest addresses cross as {@code long}s.
 */
final class LibUsercopy {
    private LibUsercopy() {}

    private static final SymbolLookup LIBRARY = BundledLibrary.load();

    /** The address of a global symbol of the library, such as a label of the exception table, or 0 if absent. */
    static long symbolAddress(String name) {
        return LIBRARY.find(name).map(MemorySegment::address).orElse(0L);
    }

    /**
     * The downcall handle of libusercopy function {@code name}; a
     * {@code Linker.Option.critical(true)} handle may take heap segments and
     * holds off safepoints while it runs.
     */
    @SuppressWarnings("restricted")
    static MethodHandle findFunction(String name, FunctionDescriptor desc, Linker.Option... options) {
        MemorySegment address = LIBRARY.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libusercopy symbol not found: " + name));
        try {
            return Posix.LINKER.downcallHandle(address, desc, options);
        } catch (IllegalCallerException e) {
            throw BundledLibrary.nativeAccessDenied(e);
        }
    }

    private static final Linker.Option CRITICAL = Linker.Option.critical(true);

    private static final MethodHandle MH$usercopy_cpu_features =
            findFunction("usercopy_cpu_features", FunctionDescriptor.of(JAVA_LONG));
    private static final MethodHandle MH$usercopy_set_cpu_features =
            findFunction("usercopy_set_cpu_features", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
    private static final MethodHandle MH$usercopy_set_chain =
            findFunction("usercopy_set_chain", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle MH$usercopy_chain =
            findFunction("usercopy_chain", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final MethodHandle MH$usercopy_counter =
            findFunction("usercopy_counter", FunctionDescriptor.of(JAVA_LONG, JAVA_INT), CRITICAL);
    private static final MethodHandle MH$usercopy_extable_size =
            findFunction("usercopy_extable_size", FunctionDescriptor.of(JAVA_LONG));
    private static final MethodHandle MH$usercopy_extable_entry =
            findFunction("usercopy_extable_entry", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MH$usercopy_extable_hits =
            findFunction("usercopy_extable_hits", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG), CRITICAL);
    private static final MethodHandle MH$usercopy_abi =
            findFunction("usercopy_abi", FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
    private static final MethodHandle MH$usercopy_fork_wait =
            findFunction("usercopy_fork_wait", FunctionDescriptor.of(JAVA_LONG));

    /** {@code void usercopy_signal_handler(int, siginfo_t *, void *)}: its address, for sigaction. */
    static final MemorySegment SIGNAL_HANDLER = LIBRARY.find("usercopy_signal_handler")
            .orElseThrow(() -> new UnsatisfiedLinkError("libusercopy symbol not found: usercopy_signal_handler"));

    /** The FEAT_* bits (ERMS 1, FSRM 2, AVX2 4) the adaptive form uses. */
    static long cpuFeatures() {
        try {
            return (long) MH$usercopy_cpu_features.invokeExact();
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
    }

    /** Uses only the detected features in {@code keep}; returns those in use. */
    static long setCpuFeatures(long keep) {
        try {
            return (long) MH$usercopy_set_cpu_features.invokeExact(keep);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
    }

    /** Where faults outside the table go for {@code sig}; 0, or -1 for a signal other than SIGSEGV/SIGBUS. */
    static int setChain(int sig, MemorySegment handler) {
        try {
            return (int) MH$usercopy_set_chain.invokeExact(sig, handler);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
    }

    /** The handler set by {@link #setChain} ({@code NULL} if none). */
    static MemorySegment chain(int sig) {
        try {
            return (MemorySegment) MH$usercopy_chain.invokeExact(sig);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
    }

    /** 0 SIGSEGV fixups, 1 SIGBUS fixups, 2 faults passed on. */
    static long counter(int which) {
        try {
            return (long) MH$usercopy_counter.invokeExact(which);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
    }

    /** The number of entries in the exception table. */
    static long extableSize() {
        try {
            return (long) MH$usercopy_extable_size.invokeExact();
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
    }

    /** The address of entry i's instruction (which = 0), fixup (1) or label name, a C string (2); 0 out of range. */
    static long extableEntry(long i, int which) {
        try {
            return (long) MH$usercopy_extable_entry.invokeExact(i, which);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
    }

    /** Fixups taken through entry i; -1 out of range. */
    static long extableHits(long i) {
        try {
            return (long) MH$usercopy_extable_hits.invokeExact(i);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
    }

    /** 0: the offset of RIP in ucontext_t the handler was built with. */
    static long abi(int which) {
        try {
            return (long) MH$usercopy_abi.invokeExact(which);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
    }

    /** fork; the child exits at once, the parent waits. 0 or -errno. */
    static long forkWait() {
        try {
            return (long) MH$usercopy_fork_wait.invokeExact();
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
    }
}
