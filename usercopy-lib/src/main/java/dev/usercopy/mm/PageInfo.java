package dev.usercopy.mm;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One 8-byte word per frame: how many page-table leaves map the frame (a leaf
 * shared by forked address spaces counts once), and in the top bit whether
 * the frame is shared (writes go to it from every mapping) or copy-on-write
 * (a write by one of several mappers copies it). As in Redox, the bit means
 * nothing while the count is 0 or 1. A count of zero is a free frame.
 *
 * <p>Bit 62 marks a page-cache frame that has been mapped writable: msync, and
 * the frame's release, write it back to its file. It stays set (there is no
 * reverse map to take write access back from every mapper). Bit 61 says the
 * frame has been handed out before, so its bytes are not the memfd's zeros.
 */
final class PageInfo {
    static final long SHARED = 1L << 63;
    static final long WRITTEN = 1L << 62;
    static final long USED = 1L << 61;
    private static final long COUNT = ~(SHARED | WRITTEN | USED);

    private final AtomicLongArray words;

    PageInfo(long frames) {
        if (frames > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(frames + " frames is more than one PageInfo section holds");
        }
        words = new AtomicLongArray((int) frames);
    }

    long refcount(long frame) {
        return words.get((int) frame) & COUNT;
    }

    boolean isShared(long frame) {
        return (words.get((int) frame) & SHARED) != 0;
    }

    boolean isWritten(long frame) {
        return (words.get((int) frame) & WRITTEN) != 0;
    }

    void markWritten(long frame) {
        words.getAndUpdate((int) frame, w -> w | WRITTEN);
    }

    /**
     * A new frame's first reference, shared or copy-on-write; clears what its
     * last use left. Returns whether it had one: then it holds old bytes, and
     * a caller that needs zeros must clear it.
     */
    boolean first(long frame, boolean shared) {
        long old = words.getAndSet((int) frame, 1 | USED | (shared ? SHARED : 0));
        if ((old & COUNT) != 0) {
            throw new IllegalStateException("frame " + frame + " handed out while referenced (word 0x" + Long.toHexString(old) + ")");
        }
        return (old & USED) != 0;
    }

    void markShared(long frame) {
        words.getAndUpdate((int) frame, w -> w | SHARED);
    }

    void incref(long frame) {
        long w = words.getAndIncrement((int) frame);
        if ((w & COUNT) == 0) {
            words.getAndDecrement((int) frame);
            throw new IllegalStateException("incref of free frame " + frame);
        }
    }

    /**
     * Drops a reference; returns the references left (0: the frame is free,
     * its flags kept until reuse). At one reference the shared bit goes: it
     * means nothing there, and a page lent and given back must be
     * copy-on-write again at the next fork.
     */
    long decref(long frame) {
        long w = words.getAndDecrement((int) frame);
        if ((w & COUNT) == 0) {
            words.getAndIncrement((int) frame);
            throw new IllegalStateException("decref of free frame " + frame);
        }
        long left = (w & COUNT) - 1;
        if (left == 1) {
            words.getAndUpdate((int) frame, x -> (x & COUNT) == 1 ? x & ~SHARED : x);
        }
        return left;
    }
}
