package dev.usercopy.platform;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The one door to guest ("user") memory: fallible copies between kernel
 * buffers ({@code byte[]} or segments the caller owns) and host addresses that
 * may be unmapped, protected, or past the end of a file.
 *
 * <p>Every method returns what the Linux routine of the same name returns:
 * the number of bytes NOT copied (0 on success), exact to the byte. Bytes
 * before the first inaccessible guest byte are copied. Past that point,
 * {@code copyFromUser} zeroes the kernel buffer (Linux's
 * {@code copy_from_user}) and {@code rawCopyFromUser} leaves it untouched
 * ({@code raw_copy_from_user}); the copies to user write no guest byte past
 * it. A fault never surfaces as a signal.
 *
 * <p>Bad kernel-side arguments (a range outside the array, a negative
 * length) throw {@link IndexOutOfBoundsException} or
 * {@link IllegalArgumentException} before anything is touched. Guest
 * addresses are not checked here: the address-space layer above owns them.
 */
public final class UserCopy {
    private UserCopy() {}

    static {
        FaultHandler.install();
    }

    private static final Linker.Option CRITICAL = Linker.Option.critical(true);

    /** Which native routine moves the bytes; each form has its pair of routines, {@link #routines()}. */
    public enum Form {
        /** One {@code rep movsb} (label usercopy0). */
        FLAT,
        /** Align the destination, {@code rep movsq}, tail bytes (usercopy1, 1b, 1c, 1d). */
        ALIGNED,
        /**
         * Chosen per call by size, by the CPU's features (see
         * {@link #cpuFeatures()}) and from 4 KiB by the distance
         * (dst - src) mod 4 KiB: mov sequences up to 64 bytes, an AVX2 loop
         * below 4 KiB, and from there {@code rep movsb} unless the destination
         * is 1..31 or 33..63 bytes ahead (its slow case), where the AVX2 loop stays
         * (usercopy4a..9r). The default.
         */
        ADAPTIVE;

        private static final Routines FLAT_ROUTINES = new Routines("copy_from_user_flat", "copy_to_user_flat");
        private static final Routines ALIGNED_ROUTINES = new Routines("copy_from_user", "copy_to_user");
        private static final Routines ADAPTIVE_ROUTINES = new Routines("copy_from_user_adaptive", "copy_to_user_adaptive");

        /**
         * This form's routines. A comparison with static finals, not a field
         * of the constant: HotSpot folds static finals and record components
         * into constants, but not an enum's own fields, and a downcall through
         * a handle it cannot fold is not inlined, nor is the heap segment
         * around a {@code byte[]} optimised away (4x slower on a 64-byte copy).
         * With a constant form, as every caller but two benchmarks has, this
         * folds to one routine.
         */
        Routines routines() {
            return this == FLAT ? FLAT_ROUTINES : this == ALIGNED ? ALIGNED_ROUTINES : ADAPTIVE_ROUTINES;
        }

        /**
         * This form's {@code copy_from_user} as one downcall, plain or
         * critical, with nothing around it: the bare call, for benchmarks.
         * A plain downcall takes native segments only.
         */
        public long downcallFromUser(boolean critical, MemorySegment to, long from) {
            return routines().fromUser().call(critical, to, from, to.byteSize());
        }

        /** This form's {@code copy_to_user} as one downcall; see {@link #downcallFromUser}. */
        public long downcallToUser(boolean critical, long to, MemorySegment from) {
            return routines().toUser().call(critical, from, to, from.byteSize());
        }
    }

    /** The two routines of a form, one each way. */
    record Routines(Routine fromUser, Routine toUser) {
        Routines(String fromUser, String toUser) {
            this(Routine.fromUser(fromUser), Routine.toUser(toUser));
        }
    }

    /**
     * One copy routine as a plain and a critical downcall, both taking
     * (kernel segment, guest address, length) and returning the bytes not
     * copied, whichever way the bytes go; so one loop serves both directions.
     */
    record Routine(MethodHandle plain, MethodHandle critical) {
        /** {@code size_t copy_from_user*(void *dst, uintptr_t src, size_t n)} */
        static Routine fromUser(String name) {
            FunctionDescriptor desc = FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG);
            return new Routine(LibUsercopy.findFunction(name, desc), LibUsercopy.findFunction(name, desc, CRITICAL));
        }

        /** {@code size_t copy_to_user*(uintptr_t dst, const void *src, size_t n)}, taken as (src, dst, n). */
        static Routine toUser(String name) {
            FunctionDescriptor desc = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG);
            return new Routine(kernelFirst(LibUsercopy.findFunction(name, desc)),
                    kernelFirst(LibUsercopy.findFunction(name, desc, CRITICAL)));
        }

        private static MethodHandle kernelFirst(MethodHandle toUser) {
            MethodType type = MethodType.methodType(long.class, MemorySegment.class, long.class, long.class);
            return MethodHandles.permuteArguments(toUser, type, 1, 0, 2);
        }

        long call(boolean critical, MemorySegment kernel, long user, long n) {
            return critical ? critical(kernel, user, n) : plain(kernel, user, n);
        }

        private long critical(MemorySegment kernel, long user, long n) {
            try {
                return (long) critical.invokeExact(kernel, user, n);
            } catch (Throwable t) {
                throw Posix.unreachable(t);
            }
        }

        private long plain(MemorySegment kernel, long user, long n) {
            try {
                return (long) plain.invokeExact(kernel, user, n);
            } catch (Throwable t) {
                throw Posix.unreachable(t);
            }
        }

        /**
         * Copies all of {@code kernel}: one critical call up to
         * {@link #CRITICAL_CHUNK}, the rest in {@link #copyLong}. Kept this
         * small so that it inlines into every caller with its handle
         * constant; then the heap segment around a {@code byte[]} is never
         * allocated.
         */
        long copy(MemorySegment kernel, long user) {
            long n = kernel.byteSize();
            if (n > CRITICAL_CHUNK) {
                return copyLong(kernel, user, n);
            }
            // The call itself, not through critical(): the guest copies of mm reach here many
            // calls deep, and one level less keeps it within HotSpot's inlining depth.
            try {
                return (long) critical.invokeExact(kernel, user, n);
            } catch (Throwable t) {
                throw Posix.unreachable(t);
            }
        }

        /**
         * More than CRITICAL_CHUNK: one plain call from native memory,
         * critical pieces of CRITICAL_CHUNK from the heap (a plain call cannot
         * take a heap segment), stopping at the first piece that faults.
         */
        private long copyLong(MemorySegment kernel, long user, long n) {
            if (kernel.isNative()) {
                return plain(kernel, user, n);
            }
            for (long done = 0; done < n; done += CRITICAL_CHUNK) {
                long chunk = Math.min(CRITICAL_CHUNK, n - done);
                long left = critical(kernel.asSlice(done, chunk), user + done, chunk);
                if (left != 0) {
                    return n - done - chunk + left;
                }
            }
            return 0;
        }
    }

    /**
     * The most bytes one critical downcall moves. A critical call keeps its
     * thread in Java state, so a safepoint (a GC pause) waits for it to
     * return; larger copies from the heap go in pieces of this size, with a
     * safepoint chance between them, and larger ones from native memory as
     * plain downcalls. How long one such call runs, cache-hot and from DRAM,
     * is measured by bench/CriticalChunkBench (bench/README.md, and the
     * README's "Using it"): some tens of microseconds at most.
     */
    public static final int CRITICAL_CHUNK = 256 * 1024;

    /** The features {@link Form#ADAPTIVE} uses, as CPUID reported them at load. */
    public static Set<CpuFeature> cpuFeatures() {
        return CpuFeature.fromBits(LibUsercopy.cpuFeatures());
    }

    /**
     * Makes {@link Form#ADAPTIVE} use only the detected features that are in
     * {@code keep} (never one the CPU lacks), like Linux's {@code clearcpuid=};
     * returns the set now in use. Global: for tests of the fallbacks.
     */
    static Set<CpuFeature> restrictCpuFeatures(Set<CpuFeature> keep) {
        return CpuFeature.fromBits(LibUsercopy.setCpuFeatures(CpuFeature.toBits(keep)));
    }

    private static void checkLength(long length) {
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length);
        }
    }

    /**
     * Copies {@code length} guest bytes at {@code from} into
     * {@code to[toOffset..]}. Returns bytes not copied; those last bytes of
     * the kernel buffer are zeroed, as Linux's {@code copy_from_user} does,
     * so a reused buffer never hands old kernel bytes to a guest.
     */
    public static long copyFromUser(byte[] to, int toOffset, long from, int length) {
        return copyFromUser(Form.ADAPTIVE, to, toOffset, from, length);
    }

    public static long copyFromUser(Form form, byte[] to, int toOffset, long from, int length) {
        long left = rawCopyFromUser(form, to, toOffset, from, length);
        if (left != 0) {
            Arrays.fill(to, toOffset + length - (int) left, toOffset + length, (byte) 0);
        }
        return left;
    }

    /** {@link #copyFromUser(byte[], int, long, int)} that leaves the bytes not copied as they were (Linux's {@code raw_copy_from_user}). */
    public static long rawCopyFromUser(byte[] to, int toOffset, long from, int length) {
        // Not through rawCopyFromUser(Form, ...): one level less, so that a syscall's copy, many
        // calls deep, still inlines whole and its heap segments are never allocated.
        Objects.checkFromIndexSize(toOffset, length, to.length);
        return Form.ADAPTIVE_ROUTINES.fromUser().copy(MemorySegment.ofArray(to).asSlice(toOffset, length), from);
    }

    public static long rawCopyFromUser(Form form, byte[] to, int toOffset, long from, int length) {
        Objects.checkFromIndexSize(toOffset, length, to.length);
        return form.routines().fromUser().copy(MemorySegment.ofArray(to).asSlice(toOffset, length), from);
    }

    /** Copies {@code to.byteSize()} guest bytes at {@code from} into {@code to}. Returns bytes not copied, which are zeroed in {@code to}. */
    public static long copyFromUser(MemorySegment to, long from) {
        return copyFromUser(Form.ADAPTIVE, to, from);
    }

    public static long copyFromUser(Form form, MemorySegment to, long from) {
        long left = rawCopyFromUser(form, to, from);
        if (left != 0) {
            to.asSlice(to.byteSize() - left).fill((byte) 0);
        }
        return left;
    }

    /** {@link #copyFromUser(MemorySegment, long)} that leaves the bytes not copied as they were. */
    public static long rawCopyFromUser(MemorySegment to, long from) {
        return Form.ADAPTIVE_ROUTINES.fromUser().copy(to, from); // no form to choose: two calls fewer to inline
    }

    public static long rawCopyFromUser(Form form, MemorySegment to, long from) {
        return form.routines().fromUser().copy(to, from);
    }

    /** Copies {@code from[fromOffset..fromOffset+length)} to guest address {@code to}. Returns bytes not copied. */
    public static long copyToUser(long to, byte[] from, int fromOffset, int length) {
        Objects.checkFromIndexSize(fromOffset, length, from.length); // one level less, as rawCopyFromUser(byte[], ...)
        return Form.ADAPTIVE_ROUTINES.toUser().copy(MemorySegment.ofArray(from).asSlice(fromOffset, length), to);
    }

    public static long copyToUser(Form form, long to, byte[] from, int fromOffset, int length) {
        Objects.checkFromIndexSize(fromOffset, length, from.length);
        return form.routines().toUser().copy(MemorySegment.ofArray(from).asSlice(fromOffset, length), to);
    }

    /** Copies all of {@code from} to guest address {@code to}. Returns bytes not copied. */
    public static long copyToUser(long to, MemorySegment from) {
        return Form.ADAPTIVE_ROUTINES.toUser().copy(from, to); // no form to choose: two calls fewer to inline
    }

    public static long copyToUser(Form form, long to, MemorySegment from) {
        return form.routines().toUser().copy(from, to);
    }

    private static final FunctionDescriptor STRNCPY = FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG);
    /** {@code long strncpy_from_user(char *dst, uintptr_t src, long count)}: length, count, or -EFAULT. */
    private static final MethodHandle MH$strncpy_from_user$critical =
            LibUsercopy.findFunction("strncpy_from_user", STRNCPY, CRITICAL);
    private static final FunctionDescriptor CLEAR = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG);
    /** {@code size_t clear_user(uintptr_t dst, size_t n)}: bytes not cleared. */
    private static final MethodHandle MH$clear_user = LibUsercopy.findFunction("clear_user", CLEAR);
    private static final MethodHandle MH$clear_user$critical = LibUsercopy.findFunction("clear_user", CLEAR, CRITICAL);

    /**
     * Copies a NUL-terminated guest string into {@code to[toOffset..]}, at
     * most {@code count} bytes, the NUL included when it fits. Returns the
     * length without the NUL if a NUL was found within {@code count},
     * {@code count} if not, or {@code -EFAULT} if a byte before either could
     * not be read (Linux's {@code strncpy_from_user}).
     */
    public static long strncpyFromUser(byte[] to, int toOffset, long from, int count) {
        Objects.checkFromIndexSize(toOffset, count, to.length);
        MemorySegment dst = MemorySegment.ofArray(to);
        for (int done = 0; done < count; done += CRITICAL_CHUNK) {
            int chunk = Math.min(CRITICAL_CHUNK, count - done);
            long got;
            try {
                got = (long) MH$strncpy_from_user$critical.invokeExact(dst.asSlice(toOffset + done, chunk), from + done, (long) chunk);
            } catch (Throwable t) {
                throw Posix.unreachable(t);
            }
            if (got < 0) {
                return got;
            }
            if (got < chunk) {
                return done + got;
            }
        }
        return count;
    }

    /** Zeroes {@code length} guest bytes at {@code to}. Returns bytes not cleared. */
    public static long clearUser(long to, long length) {
        checkLength(length);
        try {
            return length <= CRITICAL_CHUNK
                    ? (long) MH$clear_user$critical.invokeExact(to, length)
                    : (long) MH$clear_user.invokeExact(to, length);
        } catch (Throwable t) {
            throw Posix.unreachable(t);
        }
    }
}
