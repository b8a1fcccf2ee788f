package dev.usercopy.mm;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Guest page -> frame, in two levels: a top array of leaves of 512 entries.
 *
 * <p>Leaves are shared copy-on-write across fork: a fork copies the top array
 * and counts one more user of each leaf, so it costs one step per 512 pages
 * however many are present. A frame's {@link PageInfo} refcount counts the
 * distinct leaves that map it; a shared leaf is copied (and every frame it
 * maps gains a reference) before its first change.
 *
 * <p>Entry encoding: frame number << 12 | flags; 0 is "not present".
 * Not thread-safe: the memory manager's lock covers it.
 */
final class PageTable {
    /** Bytes of a guest page, and of the frame it maps. */
    static final long PAGE = 4096;
    static final int LEAF_BITS = 9;
    static final int LEAF_SIZE = 1 << LEAF_BITS;

    static final long PRESENT = 1;
    /** Maps one of the zeroed frames; never writable, never refcounted. */
    static final long ZERO = 2;
    /** Maps a frame outside the allocator (PhysBorrowed); never refcounted. */
    static final long BORROWED = 4;
    /** An External page the lender has agreed may be written (it resolved a write for it). */
    static final long LENT_WRITABLE = 8;

    static long frame(long pte) {
        return pte >>> 12;
    }

    /** Frame numbers an entry can hold: shifted by 12, a larger one would lose its high bits and name another frame. */
    static final long MAX_FRAME = (1L << 51) - 1;

    static long entry(long frame, long flags) {
        if (frame < 0 || frame > MAX_FRAME) {
            throw new IllegalArgumentException("frame " + frame + " does not fit a page-table entry");
        }
        return frame << 12 | flags | PRESENT;
    }

    static boolean present(long pte) {
        return (pte & PRESENT) != 0;
    }

    static boolean refcounted(long pte) {
        return (pte & (PRESENT | ZERO | BORROWED)) == PRESENT;
    }

    private static final class Leaf {
        final long[] entries;
        int users = 1;
        int present;

        Leaf() {
            entries = new long[LEAF_SIZE];
        }

        Leaf(Leaf from) {
            entries = from.entries.clone();
            present = from.present;
        }
    }

    private final PageInfo info;
    private final LongConsumer onFree;
    private final Leaf[] top;

    /** {@code onFree} receives each frame whose last reference goes. */
    PageTable(long pages, PageInfo info, LongConsumer onFree) {
        this.info = info;
        this.onFree = onFree;
        this.top = new Leaf[(int) ((pages + LEAF_SIZE - 1) >>> LEAF_BITS)];
    }

    private PageTable(PageTable from, Leaf[] top) {
        this.info = from.info;
        this.onFree = from.onFree;
        this.top = top;
    }

    long get(long page) {
        Leaf leaf = top[(int) (page >>> LEAF_BITS)];
        return leaf == null ? 0 : leaf.entries[(int) (page & (LEAF_SIZE - 1))];
    }

    /** Whether the leaf holding {@code page} is shared with a forked address space. */
    boolean leafShared(long page) {
        Leaf leaf = top[(int) (page >>> LEAF_BITS)];
        return leaf != null && leaf.users > 1;
    }

    void set(long page, long pte) {
        put(page, pte, true);
    }

    /** Like {@link #set}, for a new frame whose first reference the caller already took ({@link PageInfo#first}). */
    void install(long page, long pte) {
        put(page, pte, false);
    }

    private void put(long page, long pte, boolean takeReference) {
        int i = (int) (page >>> LEAF_BITS);
        Leaf leaf = top[i];
        if (leaf == null) {
            if (pte == 0) {
                return;
            }
            leaf = top[i] = new Leaf();
        } else if (leaf.users > 1) {
            leaf = unshare(i);
        }
        int j = (int) (page & (LEAF_SIZE - 1));
        long old = leaf.entries[j];
        if (takeReference && refcounted(pte)) {
            info.incref(frame(pte)); // before the decref: old and new may be the same frame
        }
        leaf.entries[j] = pte;
        leaf.present += (present(pte) ? 1 : 0) - (present(old) ? 1 : 0);
        if (refcounted(old)) {
            drop(frame(old));
        }
        if (leaf.present == 0) {
            top[i] = null;
        }
    }

    private void drop(long frame) {
        if (info.decref(frame) == 0) {
            onFree.accept(frame);
        }
    }

    private Leaf unshare(int i) {
        Leaf shared = top[i];
        Leaf copy = new Leaf(shared);
        for (long pte : copy.entries) {
            if (refcounted(pte)) {
                info.incref(frame(pte));
            }
        }
        shared.users--;
        top[i] = copy;
        return copy;
    }

    /** A page table for a forked child that shares every leaf with this one. */
    PageTable forkShared() {
        Leaf[] copy = top.clone();
        for (Leaf leaf : copy) {
            if (leaf != null) {
                leaf.users++;
            }
        }
        return new PageTable(this, copy);
    }

    /** A page table for a forked child with its own copy of every leaf (page-by-page fork). */
    PageTable forkCopied() {
        Leaf[] copy = new Leaf[top.length];
        for (int i = 0; i < top.length; i++) {
            if (top[i] != null) {
                copy[i] = new Leaf(top[i]);
                for (long pte : copy[i].entries) {
                    if (refcounted(pte)) {
                        info.incref(frame(pte));
                    }
                }
            }
        }
        return new PageTable(this, copy);
    }

    /** Drops every leaf; frames whose last reference goes are passed to onFree. */
    void release() {
        for (int i = 0; i < top.length; i++) {
            Leaf leaf = top[i];
            if (leaf == null) {
                continue;
            }
            top[i] = null;
            if (--leaf.users == 0) {
                for (long pte : leaf.entries) {
                    if (refcounted(pte)) {
                        drop(frame(pte));
                    }
                }
            }
        }
    }

    /** The first present page at or after {@code page}, below {@code end}; -1 if none. */
    long nextPresent(long page, long end) {
        long p = page;
        while (p < end) {
            Leaf leaf = top[(int) (p >>> LEAF_BITS)];
            long leafEnd = Math.min(end, ((p >>> LEAF_BITS) + 1) << LEAF_BITS);
            if (leaf != null) {
                for (; p < leafEnd; p++) {
                    if (present(leaf.entries[(int) (p & (LEAF_SIZE - 1))])) {
                        return p;
                    }
                }
            }
            p = leafEnd;
        }
        return -1;
    }

    /** Adds, for every distinct leaf not seen yet, its refcounted frames to {@code refs}. */
    void countReferences(Map<Object, Boolean> seenLeaves, Map<Long, Long> refs) {
        for (Leaf leaf : top) {
            if (leaf != null && seenLeaves.put(leaf, Boolean.TRUE) == null) {
                for (long pte : leaf.entries) {
                    if (refcounted(pte)) {
                        refs.merge(frame(pte), 1L, Long::sum);
                    }
                }
            }
        }
    }

    static Map<Object, Boolean> identitySet() {
        return new IdentityHashMap<>();
    }
}
