package dev.usercopy.platform;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;

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

    /** Which native routine moves the bytes. */
    public enum Form {
        /** One {@code rep movsb} (label usercopy0). */
        FLAT,
        /** Align the destination, {@code rep movsq}, tail bytes (usercopy1, 1b, 1c, 1d). */
        ALIGNED,
        /**
         * Chosen per call by size and by the CPU's features (see
         * {@link #cpuFeatures()}): mov sequences up to 64 bytes, an AVX2 loop
         * up to 16 KiB, {@code rep movsb} above (usercopy4a..9r). The default.
         */
        ADAPTIVE
    }

    /**
     * The most bytes one critical downcall moves. A critical call keeps its
     * thread in Java state, so a safepoint (a GC pause) waits for it to
     * return; larger copies from the heap go in pieces of this size, with a
     * safepoint chance between them, and larger ones from native memory as
     * plain downcalls. bench/CriticalChunkBench on an AMD Zen 4 VM (2 cores):
     * one 256 KiB copy between a byte[] and guest memory takes 2.3-2.8 us
     * with both sides in cache and 11-22 us from DRAM, either form, source
     * misalignment 0, 1 or 8 and destination 0 or 1; so no critical call here
     * holds a safepoint off for more than some tens of microseconds.
     */
    public static final int CRITICAL_CHUNK = 256 * 1024;

    /** The features {@link Form#ADAPTIVE} uses, as CPUID reported them at load. */
    public static Set<CpuFeature> cpuFeatures() {
        return CpuFeature.fromBits(usercopy_h.usercopy_cpu_features());
    }

    /**
     * Makes {@link Form#ADAPTIVE} use only the detected features that are in
     * {@code keep} (never one the CPU lacks), like Linux's {@code clearcpuid=};
     * returns the set now in use. Global: for tests of the fallbacks.
     */
    static Set<CpuFeature> restrictCpuFeatures(Set<CpuFeature> keep) {
        return CpuFeature.fromBits(usercopy_h.usercopy_set_cpu_features(CpuFeature.toBits(keep)));
    }

    private static void checkLength(long length) {
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length);
        }
    }

    private static long fromUserCritical(Form form, MemorySegment to, long from, long n) {
        return switch (form) {
            case FLAT -> usercopy_h.copy_from_user_flat$critical(to, from, n);
            case ALIGNED -> usercopy_h.copy_from_user$critical(to, from, n);
            case ADAPTIVE -> usercopy_h.copy_from_user_adaptive$critical(to, from, n);
        };
    }

    private static long fromUserPlain(Form form, MemorySegment to, long from, long n) {
        return switch (form) {
            case FLAT -> usercopy_h.copy_from_user_flat(to, from, n);
            case ALIGNED -> usercopy_h.copy_from_user(to, from, n);
            case ADAPTIVE -> usercopy_h.copy_from_user_adaptive(to, from, n);
        };
    }

    private static long toUserCritical(Form form, long to, MemorySegment from, long n) {
        return switch (form) {
            case FLAT -> usercopy_h.copy_to_user_flat$critical(to, from, n);
            case ALIGNED -> usercopy_h.copy_to_user$critical(to, from, n);
            case ADAPTIVE -> usercopy_h.copy_to_user_adaptive$critical(to, from, n);
        };
    }

    private static long toUserPlain(Form form, long to, MemorySegment from, long n) {
        return switch (form) {
            case FLAT -> usercopy_h.copy_to_user_flat(to, from, n);
            case ALIGNED -> usercopy_h.copy_to_user(to, from, n);
            case ADAPTIVE -> usercopy_h.copy_to_user_adaptive(to, from, n);
        };
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
        return rawCopyFromUser(Form.ADAPTIVE, to, toOffset, from, length);
    }

    public static long rawCopyFromUser(Form form, byte[] to, int toOffset, long from, int length) {
        Objects.checkFromIndexSize(toOffset, length, to.length);
        MemorySegment dst = MemorySegment.ofArray(to).asSlice(toOffset, length);
        return length <= CRITICAL_CHUNK ? fromUserCritical(form, dst, from, length) : rawCopyFromUser(form, dst, from);
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
        return rawCopyFromUser(Form.ADAPTIVE, to, from);
    }

    public static long rawCopyFromUser(Form form, MemorySegment to, long from) {
        long n = to.byteSize();
        if (n <= CRITICAL_CHUNK) {
            return fromUserCritical(form, to, from, n);
        }
        if (to.isNative()) {
            return fromUserPlain(form, to, from, n);
        }
        for (long done = 0; done < n; done += CRITICAL_CHUNK) {
            long chunk = Math.min(CRITICAL_CHUNK, n - done);
            long left = fromUserCritical(form, to.asSlice(done, chunk), from + done, chunk);
            if (left != 0) {
                return n - done - chunk + left;
            }
        }
        return 0;
    }

    /** Copies {@code from[fromOffset..fromOffset+length)} to guest address {@code to}. Returns bytes not copied. */
    public static long copyToUser(long to, byte[] from, int fromOffset, int length) {
        return copyToUser(Form.ADAPTIVE, to, from, fromOffset, length);
    }

    public static long copyToUser(Form form, long to, byte[] from, int fromOffset, int length) {
        Objects.checkFromIndexSize(fromOffset, length, from.length);
        MemorySegment src = MemorySegment.ofArray(from).asSlice(fromOffset, length);
        return length <= CRITICAL_CHUNK ? toUserCritical(form, to, src, length) : copyToUser(form, to, src);
    }

    /** Copies all of {@code from} to guest address {@code to}. Returns bytes not copied. */
    public static long copyToUser(long to, MemorySegment from) {
        return copyToUser(Form.ADAPTIVE, to, from);
    }

    public static long copyToUser(Form form, long to, MemorySegment from) {
        long n = from.byteSize();
        if (n <= CRITICAL_CHUNK) {
            return toUserCritical(form, to, from, n);
        }
        if (from.isNative()) {
            return toUserPlain(form, to, from, n);
        }
        for (long done = 0; done < n; done += CRITICAL_CHUNK) {
            long chunk = Math.min(CRITICAL_CHUNK, n - done);
            long left = toUserCritical(form, to + done, from.asSlice(done, chunk), chunk);
            if (left != 0) {
                return n - done - chunk + left;
            }
        }
        return 0;
    }

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
            long got = usercopy_h.strncpy_from_user$critical(dst.asSlice(toOffset + done, chunk), from + done, chunk);
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
        return length <= CRITICAL_CHUNK
                ? usercopy_h.clear_user$critical(to, length)
                : usercopy_h.clear_user(to, length);
    }
}
