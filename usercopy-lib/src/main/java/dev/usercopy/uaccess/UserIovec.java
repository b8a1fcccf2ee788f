package dev.usercopy.uaccess;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.HostIo;
import dev.usercopy.uapi.Errno;

/**
 * A guest's {@code struct iovec} array, imported as Linux's
 * {@code import_iovec} does, for readv and writev: the buffers the host
 * kernel then fills or drains directly ({@link AddressSpace#hostIo}).
 */
public final class UserIovec {
    /** Linux's {@code UIO_MAXIOV} (IOV_MAX). */
    public static final int IOV_MAX = 1024;
    /** Linux's {@code MAX_RW_COUNT}: the most one read or write moves. */
    public static final long MAX_RW_COUNT = 0x7ffff000L;
    private static final long SIZEOF_IOVEC = 16;

    private final AddressSpace space;
    /** (address, length) pairs, lengths capped so their sum is at most MAX_RW_COUNT. */
    private final long[] ranges;

    private UserIovec(AddressSpace space, long[] ranges) {
        this.space = space;
        this.ranges = ranges;
    }

    /**
     * Reads {@code count} iovecs at guest {@code iov} with Linux's checks, in
     * its order: more than {@link #IOV_MAX} is EINVAL; an array the guest
     * may not read is EFAULT; a length that is negative as a
     * {@code ssize_t} is EINVAL; then each buffer must lie inside user
     * space (EFAULT; a single buffer is checked after its length is capped,
     * several before, as Linux's one-segment fast path does), and lengths
     * past a total of {@link #MAX_RW_COUNT} are cut. {@code count} is the
     * C {@code unsigned int} the kernel passes on (the high half of the
     * register is dropped).
     *
     * @param space the guest's address space
     * @param iov the guest address of the first {@code struct iovec} (16 bytes each)
     * @param count the number of iovecs, as the syscall's unsigned int
     * @return the buffers; no page of them is touched yet
     */
    public static UserIovec importFrom(AddressSpace space, long iov, int count) {
        long n = Integer.toUnsignedLong(count);
        if (n > IOV_MAX) {
            throw new ErrnoException(Errno.EINVAL, iov, n, "more than " + IOV_MAX + " iovecs");
        }
        if (n == 0) {
            return new UserIovec(space, new long[0]);
        }
        MemorySegment raw = UserConstPtr.of(space, iov, ValueLayout.JAVA_BYTE).getAsSlice(n * SIZEOF_IOVEC);
        long[] ranges = new long[(int) (2 * n)];
        for (int i = 0; i < n; i++) {
            ranges[2 * i] = raw.get(ValueLayout.JAVA_LONG_UNALIGNED, SIZEOF_IOVEC * i);
            ranges[2 * i + 1] = raw.get(ValueLayout.JAVA_LONG_UNALIGNED, SIZEOF_IOVEC * i + 8);
            if (ranges[2 * i + 1] < 0) {
                throw new ErrnoException(Errno.EINVAL, iov + SIZEOF_IOVEC * i, ranges[2 * i + 1], "iovec " + i + "'s length is negative as a ssize_t");
            }
        }
        if (n == 1) {
            ranges[1] = Math.min(ranges[1], MAX_RW_COUNT);
            checkInside(space, ranges, 0);
            return new UserIovec(space, ranges);
        }
        long total = 0;
        for (int i = 0; i < n; i++) {
            checkInside(space, ranges, i);
            ranges[2 * i + 1] = Math.min(ranges[2 * i + 1], MAX_RW_COUNT - total);
            total += ranges[2 * i + 1];
        }
        return new UserIovec(space, ranges);
    }

    private static void checkInside(AddressSpace space, long[] ranges, int i) {
        if (!HostIo.accessOk(space, ranges[2 * i], ranges[2 * i + 1])) {
            throw new ErrnoException(Errno.EFAULT, ranges[2 * i], ranges[2 * i + 1], "iovec " + i + " is outside user space");
        }
    }

    /** {@return how many buffers, 0 to {@link #IOV_MAX}, empty ones included} */
    public int count() {
        return ranges.length / 2;
    }

    /** {@return their total length in bytes, at most {@link #MAX_RW_COUNT}} */
    public long total() {
        long n = 0;
        for (int i = 1; i < ranges.length; i += 2) {
            n += ranges[i];
        }
        return n;
    }

    /**
     * The buffers without their first {@code by} bytes (a writev that goes
     * on after a partial count): buffers emptied drop out, one is kept.
     *
     * @param by bytes to drop, 0 to {@link #total()}
     * @return the rest of the buffers
     * @throws IllegalArgumentException if {@code by} is negative or past the total
     */
    public UserIovec advance(long by) {
        if (by < 0 || by > total()) {
            throw new IllegalArgumentException("advance by " + by + " of " + total() + " bytes");
        }
        int i = 0;
        long[] out = ranges.clone();
        while (by > 0) {
            long n = Math.min(by, out[i + 1]);
            out[i] += n;
            out[i + 1] -= n;
            by -= n;
            if (out[i + 1] == 0 && i + 2 < out.length) {
                i += 2;
            }
        }
        return new UserIovec(space, java.util.Arrays.copyOfRange(out, i, out.length));
    }

    /**
     * {@code readv(2)} from a host file straight into the buffers, as
     * {@link UserWritable#readFrom(int, boolean)} does for one.
     *
     * @param fd a host file descriptor the caller owns
     * @param regularFile whether {@code fd} is a regular file: the transfer may then go on in chunks
     * @return the host's count, -errno when nothing was read, 0 for no buffers
     */
    public long readFrom(int fd, boolean regularFile) {
        return ranges.length == 0 ? 0 : space.hostIo(HostIo.READV, fd, ranges, 0, regularFile);
    }

    /**
     * {@code writev(2)} of the buffers to a host file, as
     * {@link UserReadable#writeTo(int, boolean)} does for one.
     *
     * @param fd a host file descriptor the caller owns
     * @param regularFile whether {@code fd} is a regular file: the transfer may then go on in chunks
     * @return the host's count, -errno when nothing was written, 0 for no buffers
     */
    public long writeTo(int fd, boolean regularFile) {
        return ranges.length == 0 ? 0 : space.hostIo(HostIo.WRITEV, fd, ranges, 0, regularFile);
    }
}
