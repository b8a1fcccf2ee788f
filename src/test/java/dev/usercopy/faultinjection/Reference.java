package dev.usercopy.faultinjection;

import java.util.Arrays;

import dev.usercopy.platform.Errno;

/**
 * What a copy must do to a {@link Layout}, worked out byte by byte in plain
 * Java: Linux's contract for each {@link Op}, nothing taken from the code
 * under test.
 */
final class Reference {
    private Reference() {}

    static final long EFAULT = -Errno.EFAULT.number();

    /**
     * @param result      the return value the path must give
     * @param kernelAfter the whole kernel buffer afterwards (bytes past what was copied untouched)
     * @param userWrite   bytes that land at {@code case.offset()} in user memory (empty if none)
     * @param stop        the layout offset where the copy met a byte it may not touch, or -1
     * @param outcome     the summary's column
     */
    record Expected(long result, byte[] kernelAfter, byte[] userWrite, long stop, String outcome) {
        /** The summary's row: what the copy ran into. */
        String faultKind(Layout model) {
            if (stop < 0) {
                return "none";
            }
            PageKind k = model.kindAt(stop);
            return k == null ? (model.kinds[0].host ? "host PROT_NONE (SIGSEGV)" : "guest unmapped") : k.label;
        }
    }

    static Expected expect(Layout m, Op op, long offset, int length, byte[] kernelBefore, int kOff) {
        byte[] k = kernelBefore.clone();
        switch (op) {
            case FROM_USER -> {
                int n = (int) m.reach(offset, length, false);
                System.arraycopy(m.content, (int) offset, k, kOff, n);
                Arrays.fill(k, kOff + n, kOff + length, (byte) 0); // copy_from_user zeroes what it could not copy
                return new Expected(length - n, k, new byte[0], n < length ? offset + n : -1, copyOutcome(n, length));
            }
            case TO_USER -> {
                int n = (int) m.reach(offset, length, true);
                return new Expected(length - n, k, Arrays.copyOfRange(kernelBefore, kOff, kOff + n),
                        n < length ? offset + n : -1, copyOutcome(n, length));
            }
            case CLEAR_USER -> {
                int n = (int) m.reach(offset, length, true);
                return new Expected(length - n, k, new byte[n], n < length ? offset + n : -1, copyOutcome(n, length));
            }
            case STRNCPY_FROM_USER -> {
                for (int i = 0; i < length; i++) {
                    long at = offset + i;
                    if (!m.readable(at)) {
                        return new Expected(EFAULT, k, new byte[0], at, "-EFAULT");
                    }
                    byte c = m.content[(int) at];
                    k[kOff + i] = c;
                    if (c == 0) {
                        return new Expected(i, k, new byte[0], -1, "string ended");
                    }
                }
                return new Expected(length, k, new byte[0], -1, length == 0 ? "empty" : "count reached");
            }
            default -> throw new AssertionError(op);
        }
    }

    private static String copyOutcome(long copied, long length) {
        if (length == 0) {
            return "empty";
        }
        if (copied == length) {
            return "full";
        }
        return copied == 0 ? "EFAULT, nothing" : "EFAULT, partial";
    }
}
