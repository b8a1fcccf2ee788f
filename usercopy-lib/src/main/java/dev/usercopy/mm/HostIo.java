package dev.usercopy.mm;

import dev.usercopy.platform.HostCall;
import dev.usercopy.platform.Reservation;
import dev.usercopy.uapi.Errno;

/**
 * A host syscall that moves bytes straight between a host file descriptor
 * and guest memory ({@link AddressSpace#hostIo}): the host kernel copies
 * to or from the JVM's view of the guest's pages, so it decides the partial
 * counts and EFAULTs exactly as Linux decides them on the guest's own pages
 * (a pipe read into an unmapped buffer is EFAULT and leaves the bytes in
 * the pipe; a file read into a half-unmapped buffer is a short count).
 * Reading into a kernel buffer first and copying afterwards gets both wrong.
 */
public enum HostIo {
    /** {@code read(2)}: from the file into one guest range, at the file's position. */
    READ(HostCall.READ),
    /** {@code write(2)}: from one guest range to the file, at the file's position. */
    WRITE(HostCall.WRITE),
    /** {@code pread64(2)}: as READ, at a given file offset, the file's position untouched. */
    PREAD(HostCall.PREAD64),
    /** {@code pwrite64(2)}: as WRITE, at a given file offset, the file's position untouched. */
    PWRITE(HostCall.PWRITE64),
    /** {@code readv(2)}: from the file into several guest ranges in order, at the file's position. */
    READV(HostCall.READV),
    /** {@code writev(2)}: from several guest ranges in order to the file, at the file's position. */
    WRITEV(HostCall.WRITEV),
    /** {@code getdents64(2)}: a directory's entries as {@code struct linux_dirent64} records into one guest range. */
    GETDENTS64(HostCall.GETDENTS64);

    /**
     * Bytes resolved ahead of one host call. The JVM's view maps only
     * present pages, so the host stops at the first page not resolved: a
     * bound here keeps a huge buffer over lazily mapped memory from taking
     * frames (and host mappings) the call never fills. A regular file's
     * transfer goes on a chunk at a time; any other file's is one call, so
     * it moves at most this much (a pipe holds 1 MiB at most by default).
     */
    public static final long CHUNK = 1L << 20;

    /** Linux's highest user address that {@code access_ok} takes for an empty range (x86-64's TASK_SIZE_MAX). */
    public static final long USER_PTR_MAX = 0x7ffffffff000L;

    private final HostCall call;

    /**
     * Linux's {@code access_ok} for a host call's buffer: inside user space,
     * and an empty one at an address no higher than {@link #USER_PTR_MAX}
     * (Linux refuses {@code read(fd, kernel_address, 0)} with EFAULT).
     *
     * @param space the address space the buffer is in
     * @param addr the buffer's guest address
     * @param length the buffer's length in bytes
     * @return false where the call must fail with EFAULT before it moves a byte
     */
    public static boolean accessOk(AddressSpace space, long addr, long length) {
        return length == 0 ? Long.compareUnsigned(addr, USER_PTR_MAX) <= 0 : space.accessOk(addr, length);
    }

    HostIo(HostCall call) {
        this.call = call;
    }

    /** Whether the host writes guest memory. */
    boolean intoGuest() {
        return call.intoGuest();
    }

    boolean positional() {
        return this == PREAD || this == PWRITE;
    }

    boolean vector() {
        return this == READV || this == WRITEV;
    }

    /**
     * The transfer; see {@link AddressSpace#hostIo}. Each round resolves at
     * most {@link #CHUNK} bytes from where the last one stopped, up to the
     * first page the guest may not access (silently: the host finds it),
     * then makes the call over everything left. A racing munmap between the
     * two only makes the host meet a PROT_NONE page: a short count or
     * EFAULT, never another frame, since the JVM's view takes host access
     * away before a frame is freed.
     */
    long transfer(AddressSpace space, Reservation reservation, int fd, long[] ranges, long offset, boolean regularFile) {
        for (int i = 0; i < ranges.length; i += 2) {
            if (!accessOk(space, ranges[i], ranges[i + 1])) {
                return -Errno.EFAULT.number();
            }
        }
        long[] left = ranges.clone();
        long total = 0;
        while (true) {
            long want = Math.min(CHUNK, remaining(left));
            long populated = space.populatePrefix(left, want, intoGuest());
            long r = reservation.hostCall(call, fd, vector() ? left : new long[] {left[0], left[1]}, offset + total);
            if (r < 0) {
                return total > 0 ? total : r;
            }
            total += r;
            left = advance(left, r);
            if (!regularFile || r < populated || populated < want || remaining(left) == 0) {
                return total;
            }
        }
    }

    private static long remaining(long[] ranges) {
        long n = 0;
        for (int i = 1; i < ranges.length; i += 2) {
            n += ranges[i];
        }
        return n;
    }

    /** The ranges without their first {@code by} bytes (empty leading ranges dropped, one kept). */
    private static long[] advance(long[] ranges, long by) {
        int i = 0;
        long[] out = ranges.clone();
        while (by > 0 && i < out.length) {
            long n = Math.min(by, out[i + 1]);
            out[i] += n;
            out[i + 1] -= n;
            by -= n;
            if (out[i + 1] == 0 && i + 2 < out.length) {
                i += 2;
            } else {
                break;
            }
        }
        return java.util.Arrays.copyOfRange(out, i, out.length);
    }
}
