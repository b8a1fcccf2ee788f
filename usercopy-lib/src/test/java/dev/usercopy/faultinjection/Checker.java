package dev.usercopy.faultinjection;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Runs one copy through a {@link CopyPath} and holds everything it did
 * against {@link Reference}: the return value, every byte of the kernel
 * buffer (bytes past the copy untouched), and every byte of the user pages
 * it could have reached (bytes past the copy untouched), read back without a
 * usercopy. On success the model takes the copy's writes.
 */
final class Checker {
    private Checker() {}

    /** Bytes of the kernel buffer after the copy's end that must stay as they were. */
    static final int SLACK = 16;

    /** One copy: where, how long, where in the kernel buffer, and the buffer's prior bytes (from a seed). */
    record Case(long offset, int length, int kernelOffset, long kernelSeed) {
        @Override
        public String toString() {
            return "offset " + offset + " (page " + offset / Layout.PAGE + " + " + offset % Layout.PAGE + "), length " + length
                    + ", kernel offset " + kernelOffset;
        }

        static Case random(SplittableRandom rnd, Layout m) {
            long size = m.size();
            long offset;
            if (rnd.nextInt(4) == 0) {
                offset = rnd.nextLong(size);
            } else {
                long boundary = (long) Layout.PAGE * rnd.nextInt(m.pages() + 1);
                offset = Math.clamp(boundary + rnd.nextInt(-300, 301), 0, size - 1);
            }
            int r = rnd.nextInt(100);
            int length = r < 30 ? rnd.nextInt(17)
                    : r < 65 ? rnd.nextInt(600)
                    : r < 92 ? rnd.nextInt(3 * Layout.PAGE + 200)
                    : rnd.nextInt((int) size + Layout.PAGE);
            return new Case(offset, length, rnd.nextInt(16), rnd.nextLong());
        }
    }

    /** What happened: {@code failure} is null when everything matched. */
    record Verdict(String failure, Reference.Expected expected) {}

    static <M extends UserMemory> Verdict check(CopyPath<M> path, M memory, Layout model, Case c) {
        byte[] kernel = new byte[c.kernelOffset() + c.length() + SLACK];
        new SplittableRandom(c.kernelSeed()).nextBytes(kernel);
        Reference.Expected want = Reference.expect(model, path.op(), c.offset(), c.length(), kernel, c.kernelOffset());
        long got;
        try {
            got = path.run(memory, memory.address(c.offset()), kernel, c.kernelOffset(), c.length());
        } catch (RuntimeException | Error e) {
            StringWriter w = new StringWriter();
            e.printStackTrace(new PrintWriter(w));
            return new Verdict(path.name() + " threw instead of returning " + want.result() + ": " + w, want);
        }
        if (got != want.result()) {
            return new Verdict(path.name() + " returned " + got + ", the model says " + want.result(), want);
        }
        int d = Arrays.mismatch(kernel, want.kernelAfter());
        if (d >= 0) {
            String where = d < c.kernelOffset() ? "before the copy" : d >= c.kernelOffset() + copied(want, c) ? "past the copy" : "inside the copy";
            return new Verdict(path.name() + ": kernel buffer byte " + (d - c.kernelOffset()) + " (" + where + ") is "
                    + kernel[d] + ", the model says " + want.kernelAfter()[d], want);
        }
        System.arraycopy(want.userWrite(), 0, model.content, (int) c.offset(), want.userWrite().length);
        String user = checkUser(memory, model, c);
        return new Verdict(user == null ? null : path.name() + ": " + user, want);
    }

    private static long copied(Reference.Expected want, Case c) {
        return want.result() >= 0 && want.stop() >= 0 ? want.stop() - c.offset() : c.length();
    }

    /** The user pages the copy could reach, and one either side, against the model. */
    static String checkUser(UserMemory memory, Layout model, Case c) {
        int first = (int) Math.max(0, (c.offset() - 1) / Layout.PAGE);
        int last = (int) Math.min(model.pages() - 1, (c.offset() + c.length()) / Layout.PAGE);
        return checkPages(memory, model, first, last);
    }

    static String checkPages(UserMemory memory, Layout model, int first, int last) {
        byte[] page = new byte[Layout.PAGE];
        for (int p = first; p <= last; p++) {
            if (!memory.peekPage(p, page)) {
                continue;
            }
            int d = Arrays.mismatch(page, 0, Layout.PAGE, model.content, p * Layout.PAGE, (p + 1) * Layout.PAGE);
            if (d >= 0) {
                return "user byte at layout offset " + ((long) p * Layout.PAGE + d) + " (page " + p + ", " + model.kinds[p]
                        + ") is " + page[d] + ", the model says " + model.content[p * Layout.PAGE + d];
            }
        }
        return null;
    }
}
