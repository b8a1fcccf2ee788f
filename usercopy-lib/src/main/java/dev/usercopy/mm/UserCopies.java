package dev.usercopy.mm;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

import dev.usercopy.uapi.Errno;
import dev.usercopy.platform.Reservation;

import static dev.usercopy.mm.PageTable.PAGE;

/**
 * The user copies of one address space: each is a fault-fixup copy through
 * the JVM's mirror ({@link Reservation}) that stops at the first byte the
 * host refuses, asks the fault path to resolve it, and resumes there
 * ({@link #resumable}). A range that does not lie wholly inside user space
 * copies nothing (Linux's {@code access_ok}), except under
 * {@link Profile#LUDICROUS}, whose copies reach guest addresses modulo the
 * size and fault in the guard region instead. Copies take no lock.
 */
final class UserCopies {
    /** Consecutive faults at one address after which a copy gives up with EFAULT (a racing unmap). */
    private static final int MAX_RETRIES = 64;

    /** The fault path, entered under the manager's lock: makes a guest byte accessible, or says it may not be (false). */
    @FunctionalInterface
    interface Resolver {
        boolean resolve(long address, boolean write);
    }

    private final Reservation reservation;
    private final long size;
    /** Copies skip the range check ({@link Profile#LUDICROUS}). */
    private final boolean unchecked;
    private final Resolver resolver;

    UserCopies(Reservation reservation, long size, boolean unchecked, Resolver resolver) {
        this.reservation = reservation;
        this.size = size;
        this.unchecked = unchecked;
        this.resolver = resolver;
    }

    /** Linux's {@code access_ok}: [addr, addr + length) lies inside user space, without overflow; length 0 anywhere. */
    boolean accessOk(long addr, long length) {
        return length == 0 || (addr >= 0 && length > 0 && addr <= size - length);
    }

    /**
     * {@link Resolver#resolve} for a copy of {@code length} at {@code start} that got
     * {@code done} bytes in: an ENOMEM says so. {@code masked}: the unchecked
     * copies reach guest addresses modulo the size, so resolve that one.
     */
    private boolean resolveDuringCopy(long start, long length, long done, boolean write, boolean masked) {
        try {
            return resolver.resolve(masked ? (start + done) & (size - 1) : start + done, write);
        } catch (ErrnoException e) {
            throw new ErrnoException(e.errno(), start, length, done, "copy stopped at guest 0x" + Long.toHexString(start + done) + ": " + e.reason());
        }
    }

    long copyFromUser(MemorySegment to, long from) {
        long left = rawCopyFromUser(to, from);
        if (left != 0) {
            to.asSlice(to.byteSize() - left).fill((byte) 0);
        }
        return left;
    }

    // Each copy makes its first pass straight through the reservation, with nothing allocated
    // and few calls to inline (a syscall's copy inlines whole into its caller, so the UserSlice
    // it came through is never allocated either); only a stop, to resolve a fault, builds the
    // pass that resumes there.

    long copyFromUser(byte[] to, int offset, long from, int length) {
        Objects.checkFromIndexSize(offset, length, to.length);
        // The first pass here, not through rawCopyFromUser: one call level less (see above).
        long left = unchecked || !accessOk(from, length) ? length : reservation.rawCopyFromUser(to, offset, from, length);
        if (left != 0) {
            left = slowCopyFromUser(to, offset, from, length, left);
        }
        return left;
    }

    /** {@link #copyFromUser(byte[], int, long, int)} after its first pass stopped {@code left} short: the general path, then the zeroing. */
    private long slowCopyFromUser(byte[] to, int offset, long from, int length, long left) {
        left = unchecked || !accessOk(from, length) ? rawCopyFromUser(MemorySegment.ofArray(to).asSlice(offset, length), from)
                : resumeFromUser(to, offset, from, length, length - left);
        if (left != 0) {
            Arrays.fill(to, offset + length - (int) left, offset + length, (byte) 0);
        }
        return left;
    }

    long rawCopyFromUser(MemorySegment to, long from) {
        long n = to.byteSize();
        if (unchecked) {
            return resumable(from, n, false, done -> reservation.rawCopyFromUserUnchecked(to.asSlice(done), from + done));
        }
        if (!accessOk(from, n)) {
            return n;
        }
        long left = reservation.rawCopyFromUser(to, from);
        return left == 0 ? 0 : resume(from, n, false, n - left, done -> reservation.rawCopyFromUser(to.asSlice(done), from + done));
    }

    long rawCopyFromUser(byte[] to, int offset, long from, int length) {
        Objects.checkFromIndexSize(offset, length, to.length);
        if (unchecked || !accessOk(from, length)) {
            return rawCopyFromUser(MemorySegment.ofArray(to).asSlice(offset, length), from);
        }
        long left = reservation.rawCopyFromUser(to, offset, from, length);
        return left == 0 ? 0 : resumeFromUser(to, offset, from, length, length - left);
    }

    private long resumeFromUser(byte[] to, int offset, long from, int length, long done) {
        MemorySegment kernel = MemorySegment.ofArray(to).asSlice(offset, length);
        return resume(from, length, false, done, at -> reservation.rawCopyFromUser(kernel.asSlice(at), from + at));
    }

    long copyToUser(long to, MemorySegment from) {
        long n = from.byteSize();
        if (unchecked) {
            return resumable(to, n, true, done -> reservation.copyToUserUnchecked(to + done, from.asSlice(done)));
        }
        if (!accessOk(to, n)) {
            return n;
        }
        long left = reservation.copyToUser(to, from);
        return left == 0 ? 0 : resume(to, n, true, n - left, done -> reservation.copyToUser(to + done, from.asSlice(done)));
    }

    long copyToUser(long to, byte[] from, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, from.length);
        if (unchecked || !accessOk(to, length)) {
            return copyToUser(to, MemorySegment.ofArray(from).asSlice(offset, length));
        }
        long left = reservation.copyToUser(to, from, offset, length);
        return left == 0 ? 0 : resumeToUser(to, from, offset, length, length - left);
    }

    private long resumeToUser(long to, byte[] from, int offset, int length, long done) {
        MemorySegment kernel = MemorySegment.ofArray(from).asSlice(offset, length);
        return resume(to, length, true, done, at -> reservation.copyToUser(to + at, kernel.asSlice(at)));
    }

    long clearUser(long to, long length) {
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length);
        }
        if (unchecked) {
            return resumable(to, length, true, done -> reservation.clearUserUnchecked(to + done, length - done));
        }
        if (!accessOk(to, length)) {
            return length;
        }
        return resumable(to, length, true, done -> reservation.clearUser(to + done, length - done));
    }

    /** One native pass of a copy from {@code done} bytes in: returns the bytes of the whole copy not done. */
    @FunctionalInterface
    private interface Pass {
        long from(long done);
    }

    /**
     * Runs {@code pass} until the copy of {@code length} bytes at guest
     * {@code start} is done or meets a byte it may not access: each stop is a
     * fault to resolve, after which the next pass resumes at that byte.
     * Returns the bytes not copied.
     */
    private long resumable(long start, long length, boolean write, Pass pass) {
        long left = pass.from(0);
        return left == 0 ? 0 : resume(start, length, write, length - left, pass);
    }

    /** {@link #resumable} after a pass stopped {@code done} bytes in: resolves that stop, then passes on. */
    private long resume(long start, long length, boolean write, long done, Pass pass) {
        int retries = 0;
        while (retries <= MAX_RETRIES && resolveDuringCopy(start, length, done, write, unchecked)) {
            long left = pass.from(done);
            if (left == 0) {
                return 0;
            }
            long now = length - left;
            retries = now == done ? retries + 1 : 0;
            done = now;
        }
        return length - done;
    }

    long strncpyFromUser(byte[] to, int offset, long from, int count) {
        Objects.checkFromIndexSize(offset, count, to.length);
        int done = 0;
        int retries = 0;
        while (done < count) {
            long at = from + done;
            int piece = (int) Math.min(count - done, PAGE - Math.floorMod(at, PAGE));
            long got = reservation.strncpyFromUser(to, offset + done, at, piece);
            if (got == -Errno.EFAULT.number()) {
                if (++retries > MAX_RETRIES || !resolveDuringCopy(from, count, done, false, false)) {
                    return got;
                }
                continue;
            }
            retries = 0;
            if (got < piece) {
                return done + got;
            }
            done += piece;
        }
        return count;
    }

    long strnlenUser(long from, long count) {
        if (count <= 0 || from < 0 || from >= size) {
            return 0;
        }
        byte[] scratch = new byte[(int) PAGE];
        long done = 0; // from + done stays inside user space: a copy past its end is -EFAULT first
        while (done < count) {
            long at = from + done;
            int piece = (int) Math.min(count - done, PAGE - at % PAGE);
            long got = strncpyFromUser(scratch, 0, at, piece);
            if (got < 0) {
                return 0;
            }
            if (got < piece) {
                return done + got + 1;
            }
            done += piece;
        }
        return count + 1;
    }

    long copyFromUserNofault(MemorySegment to, long from) {
        long n = to.byteSize();
        if (!unchecked && !accessOk(from, n)) {
            return -Errno.EFAULT.number();
        }
        long left = unchecked ? reservation.rawCopyFromUserUnchecked(to, from) : reservation.rawCopyFromUser(to, from);
        return left == 0 ? 0 : -Errno.EFAULT.number();
    }

    long copyFromUserNofault(byte[] to, int offset, long from, int length) {
        Objects.checkFromIndexSize(offset, length, to.length);
        return copyFromUserNofault(MemorySegment.ofArray(to).asSlice(offset, length), from);
    }

    long copyToUserNofault(long to, MemorySegment from) {
        long n = from.byteSize();
        if (!unchecked && !accessOk(to, n)) {
            return -Errno.EFAULT.number();
        }
        long left = unchecked ? reservation.copyToUserUnchecked(to, from) : reservation.copyToUser(to, from);
        return left == 0 ? 0 : -Errno.EFAULT.number();
    }

    long copyToUserNofault(long to, byte[] from, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, from.length);
        return copyToUserNofault(to, MemorySegment.ofArray(from).asSlice(offset, length));
    }

    long strncpyFromUserNofault(byte[] to, int offset, long from, int count) {
        Objects.checkFromIndexSize(offset, count, to.length);
        if (count == 0) {
            return 0;
        }
        long got = reservation.strncpyFromUser(to, offset, from, count);
        if (got >= count) {
            to[offset + count - 1] = 0;
            return count;
        }
        return got >= 0 ? got + 1 : got;
    }}
