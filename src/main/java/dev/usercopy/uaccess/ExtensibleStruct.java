package dev.usercopy.uaccess;

import java.lang.foreign.MemorySegment;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.platform.Errno;

/**
 * Linux's extensible-struct ABI ({@code check_zeroed_user},
 * {@code copy_struct_from_user}; what {@code clone3}, {@code openat2} and
 * {@code sched_setattr} use), over a way of reading guest bytes that
 * {@link UserSlice} and {@link UserPointer} each supply: a guest struct
 * bigger than the kernel's is accepted only when its extra bytes are zero,
 * a smaller one is zero-extended. The checks run in Linux's order, so the
 * same guest memory gives the same outcome: the extra bytes first, read in
 * address order and stopping at the first non-zero one (E2BIG even when a
 * page after it could not be read), then the common bytes.
 */
final class ExtensibleStruct {
    private static final long PAGE = AddressSpace.PAGE;

    private ExtensibleStruct() {}

    /** Reads the guest bytes at {@code guest} into all of {@code to}: returns the bytes not read, or throws. */
    @FunctionalInterface
    interface Reader {
        long read(MemorySegment to, long guest);
    }

    /**
     * {@code check_zeroed_user}: true when the {@code size} bytes at
     * {@code address} are all zero (size 0 included), false when one is not.
     * EFAULT, with the zero bytes before it as done, when a byte before any
     * non-zero one cannot be read.
     */
    static boolean checkZeroed(Reader reader, long address, long size) {
        return firstNonZero(reader, address, size) < 0;
    }

    /** The offset of the first non-zero byte of the {@code size} at {@code address}, or -1; read a page at a time, in order. */
    private static long firstNonZero(Reader reader, long address, long size) {
        if (size == 0) {
            return -1;
        }
        byte[] bytes = new byte[(int) Math.min(size, PAGE)];
        MemorySegment buf = MemorySegment.ofArray(bytes);
        long done = 0;
        while (done < size) {
            long at = address + done;
            int n = (int) Math.min(size - done, PAGE - Math.floorMod(at, PAGE));
            long left;
            try {
                left = reader.read(buf.asSlice(0, n), at);
            } catch (ErrnoException e) {
                throw new ErrnoException(e.errno(), address, size, done, e.reason());
            }
            for (int i = 0; i < n - left; i++) {
                if (bytes[i] != 0) {
                    return done + i;
                }
            }
            if (left != 0) {
                throw Faults.efault(address, size, size - done - (n - left), "check for zero bytes");
            }
            done += n;
        }
        return -1;
    }

    /**
     * {@code copy_struct_from_user}: fills {@code dst} (the kernel's struct,
     * {@code ksize} bytes) from the guest's struct of {@code usize} bytes at
     * {@code src}. A shorter guest struct leaves zeros after its bytes; a
     * longer one is E2BIG unless its bytes past {@code ksize} are zero, which
     * are checked first. EFAULT when a byte the outcome needs cannot be read;
     * a fault in the common bytes leaves those before it copied and zeros
     * after them, as Linux's {@code copy_from_user} does. {@code dst} is
     * untouched on E2BIG.
     */
    static void copy(Reader reader, MemorySegment dst, long src, long usize) {
        long ksize = dst.byteSize();
        long size = Math.min(ksize, usize);
        if (usize < ksize) {
            dst.asSlice(size).fill((byte) 0);
        } else if (usize > ksize) {
            long nonZero;
            try {
                nonZero = firstNonZero(reader, src + ksize, usize - ksize);
            } catch (ErrnoException e) {
                throw new ErrnoException(e.errno(), src, usize, 0, "extra bytes of the struct: " + e.reason());
            }
            if (nonZero >= 0) {
                throw new ErrnoException(Errno.E2BIG, src, usize, 0, "the guest's struct has a non-zero byte past the kernel's "
                        + ksize + ", at guest 0x" + Long.toHexString(src + ksize + nonZero));
            }
        }
        if (size == 0) {
            return;
        }
        long left;
        try {
            left = reader.read(dst.asSlice(0, size), src);
        } catch (ErrnoException e) {
            dst.asSlice(0, size).fill((byte) 0); // refused before a byte moved
            throw new ErrnoException(e.errno(), src, usize, 0, e.reason());
        }
        if (left != 0) {
            dst.asSlice(size - left, left).fill((byte) 0);
            throw new ErrnoException(Errno.EFAULT, src, usize, size - left, "copy of a " + ksize + "-byte struct from a "
                    + usize + "-byte one stopped at guest 0x" + Long.toHexString(src + size - left));
        }
    }
}
