package dev.usercopy.uaccess;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.platform.Errno;

/** The errors and small conversions the user-access types share. */
final class Faults {
    private Faults() {}

    /** EFAULT for a copy of {@code length} bytes at {@code address} that stopped {@code left} short. */
    static ErrnoException efault(long address, long length, long left, String what) {
        return new ErrnoException(Errno.EFAULT, address, length, length - left,
                what + " stopped at guest 0x" + Long.toHexString(address + length - left));
    }

    /** {@code length} as an array length, or EINVAL. */
    static int arrayLength(long address, long length) {
        if (length > Integer.MAX_VALUE - 8) {
            throw new ErrnoException(Errno.EINVAL, address, length, "too long for one kernel buffer");
        }
        return (int) length;
    }

    /** The first kernel buffer a long copy gets; it doubles as bytes arrive. */
    static final int FIRST_BUFFER = 1 << 20;

    /**
     * {@code length} guest bytes at {@code address} in a new kernel buffer
     * (longs back it, so it is 8-aligned) of exactly that length. The buffer
     * grows as bytes arrive, from {@link #FIRST_BUFFER} and doubling, so a
     * length the guest has not mapped costs at most twice what it has:
     * one bad length cannot make the kernel allocate gigabytes. EINVAL if
     * longer than an array can be; EFAULT with the bytes done.
     */
    static MemorySegment copyGrowing(AddressSpace space, long address, long length, String what) {
        int n = arrayLength(address, length);
        MemorySegment buf = kernelBuffer(Math.min(n, FIRST_BUFFER));
        long done = 0;
        while (true) {
            long left = space.copyFromUser(buf.asSlice(done), address + done);
            if (left != 0) {
                throw efault(address, length, length - (buf.byteSize() - left), what);
            }
            done = buf.byteSize();
            if (done == n) {
                return buf;
            }
            MemorySegment bigger = kernelBuffer((int) Math.min(n, 2 * done));
            MemorySegment.copy(buf, 0, bigger, 0, done);
            buf = bigger;
        }
    }

    /** A heap buffer of {@code n} bytes aligned to 8 (longs back it). */
    static MemorySegment kernelBuffer(int n) {
        return MemorySegment.ofArray(new long[(n + 7) / 8]).asSlice(0, n);
    }

    /** The first {@code n} bytes of a readable slice, little-endian. */
    static ByteBuffer readNumber(UserReadable slice, int n) {
        if (slice.length() < n) {
            throw new ErrnoException(Errno.EINVAL, slice.address(), slice.length(), "slice shorter than the " + n + "-byte value");
        }
        byte[] buf = new byte[n];
        long left = slice.space().copyFromUser(buf, 0, slice.address(), n);
        if (left != 0) {
            throw efault(slice.address(), n, left, "read of a " + n + "-byte value");
        }
        return ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Strict UTF-8 (no overlong forms, surrogates or truncated sequences):
     * EILSEQ naming the guest address of the first malformed byte, with the
     * well-formed bytes before it as done.
     */
    static String utf8(byte[] bytes, long address, long length) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            throw new ErrnoException(Errno.EILSEQ, address, length, in.position(),
                    "invalid UTF-8 at guest 0x" + Long.toHexString(address + in.position()));
        }
        return out.flip().toString();
    }
}
