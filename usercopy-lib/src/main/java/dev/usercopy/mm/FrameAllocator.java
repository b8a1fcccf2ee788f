package dev.usercopy.mm;

import java.util.BitSet;

/**
 * Hands out frames from [first, end), single or as contiguous runs (so that
 * neighbouring guest pages map neighbouring file offsets and the host merges
 * their mappings). Next-fit from where the last run ended. Not thread-safe:
 * the memory manager's lock covers it.
 */
final class FrameAllocator {
    private final long first;
    private final long end;
    private final BitSet used;
    private long cursor;
    private long free;

    FrameAllocator(long first, long end) {
        if (end - first > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("too many frames for one allocator: " + (end - first));
        }
        this.first = first;
        this.end = end;
        this.used = new BitSet((int) (end - first));
        this.free = end - first;
    }

    long free() {
        return free;
    }

    long capacity() {
        return end - first;
    }

    boolean owns(long frame) {
        return frame >= first && frame < end;
    }

    boolean isAllocated(long frame) {
        return used.get((int) (frame - first));
    }

    /** The first frame of a run of {@code count} free frames, now allocated; -1 if there is none. */
    long allocate(long count) {
        if (count <= 0 || count > free) {
            return -1;
        }
        long found = search(cursor, end - first, count);
        if (found < 0) {
            found = search(0, Math.min(end - first, cursor + count - 1), count);
        }
        if (found < 0) {
            return -1;
        }
        used.set((int) found, (int) (found + count));
        cursor = found + count == end - first ? 0 : found + count;
        free -= count;
        return first + found;
    }

    /**
     * Frames [frame, frame + count), now allocated, if all of them are free;
     * else -1. How a fault asks for the frames that continue its neighbour's,
     * so the two pages' host mappings merge.
     */
    long allocateAt(long frame, long count) {
        if (count <= 0 || frame < first || frame > end - count) {
            return -1;
        }
        int from = (int) (frame - first);
        int taken = used.nextSetBit(from);
        if (taken >= 0 && taken < from + count) {
            return -1;
        }
        used.set(from, (int) (from + count));
        free -= count;
        return frame;
    }

    private long search(long from, long limit, long count) {
        int i = (int) from;
        while (i + count <= limit) {
            int start = used.nextClearBit(i);
            if (start + count > limit) {
                return -1;
            }
            int taken = used.nextSetBit(start);
            if (taken < 0 || taken >= start + count) {
                return start;
            }
            i = taken + 1;
        }
        return -1;
    }

    void release(long frame, long count) {
        int from = (int) (frame - first);
        for (int i = from; i < from + count; i++) {
            if (!used.get(i)) {
                throw new IllegalStateException("frame " + (first + i) + " freed twice");
            }
        }
        used.clear(from, (int) (from + count));
        free += count;
    }
}
