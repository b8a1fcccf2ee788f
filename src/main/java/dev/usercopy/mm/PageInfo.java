package dev.usercopy.mm;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One 8-byte word per frame: how many page-table leaves map the frame (a leaf
 * shared by forked address spaces counts once), and in the top bit whether
 * the frame is shared (writes go to it from every mapping) or copy-on-write
 * (a write by one of several mappers copies it). As in Redox, the bit means
 * nothing while the count is 0 or 1. Zero is a free frame.
 */
final class PageInfo {
    static final long SHARED = 1L << 63;
    private static final long COUNT = ~SHARED;

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

    /** A new frame's first reference, shared or copy-on-write. */
    void first(long frame, boolean shared) {
        long old = words.getAndSet((int) frame, 1 | (shared ? SHARED : 0));
        if (old != 0) {
            throw new IllegalStateException("frame " + frame + " handed out while referenced (word 0x" + Long.toHexString(old) + ")");
        }
    }

    void markShared(long frame) {
        words.getAndUpdate((int) frame, w -> w | SHARED);
    }

    void incref(long frame) {
        long w = words.getAndIncrement((int) frame);
        if ((w & COUNT) == 0) {
            throw new IllegalStateException("incref of free frame " + frame);
        }
    }

    /** Drops a reference; returns the references left (0: the frame is free). */
    long decref(long frame) {
        long w = words.decrementAndGet((int) frame);
        long count = w & COUNT;
        if (count == COUNT) {
            throw new IllegalStateException("decref of free frame " + frame);
        }
        if (count == 0) {
            words.set((int) frame, 0);
        }
        return count;
    }
}
