package dev.usercopy.mm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the host has mapped in one view of an address space (the JVM's
 * reservation, or a guest process's own memory), as runs of pages that map
 * consecutive frames with one protection; everything else is the reserved,
 * inaccessible state. Adjacent runs that continue each other's frames with
 * the same protection are merged, as the host kernel merges their VMAs, so
 * {@link #vmas()} is the number of host mappings the reservation costs.
 */
public final class HostMap {
    /**
     * Pages [start, start + pages) map frames {@code frame...} with {@code prot}.
     *
     * @param start the first guest page number
     * @param pages the number of pages, at least 1
     * @param frame the frame number page {@code start} maps; each next page maps the next frame
     * @param prot the host protection, {@link Prot} bits
     */
    public record Run(long start, long pages, long frame, int prot) {
        /** {@return the guest page number just past the run (exclusive)} */
        public long end() {
            return start + pages;
        }

        /**
         * Where a page of the run is in physical memory.
         *
         * @param page a guest page number inside the run
         * @return the frame number it maps
         */
        public long frameAt(long page) {
            return frame + (page - start);
        }
    }

    private final TreeMap<Long, Run> runs = new TreeMap<>();
    private final long size;
    /** Sum over runs of 1 + (1 if a reserved gap precedes it). */
    private long contributions;

    /**
     * An empty map: everything reserved and inaccessible.
     *
     * @param size pages of the view, the address space's size in pages
     */
    public HostMap(long size) {
        this.size = size;
    }

    /**
     * The host mappings over the guest range: the runs, the reserved gaps
     * between them, and the gap after the last one if it does not end the range.
     *
     * @return that count, kept up to date by every change (no walk)
     */
    public long vmas() {
        return contributions + trailingGap();
    }

    private long trailingGap() {
        return runs.isEmpty() || runs.lastEntry().getValue().end() < size ? 1 : 0;
    }

    /** {@return the runs in page order, live: not to be changed while iterated} */
    Iterable<Run> runs() {
        return runs.values();
    }

    /**
     * The run that maps a page.
     *
     * @param page a guest page number
     * @return the whole run that holds it, or null where nothing is mapped
     */
    public Run at(long page) {
        Map.Entry<Long, Run> e = runs.floorEntry(page);
        return e != null && e.getValue().end() > page ? e.getValue() : null;
    }

    /**
     * Whether [from, to) is mapped exactly as one stretch of {@code frame}... with {@code prot}.
     *
     * @param from the first guest page number
     * @param to the guest page number past the last (exclusive)
     * @param frame the frame number page {@code from} should map
     * @param prot {@link Prot} bits
     * @return whether one run covers the range with those frames and that protection
     */
    public boolean maps(long from, long to, long frame, int prot) {
        Run r = at(from);
        return r != null && r.end() >= to && r.prot() == prot && r.frameAt(from) == frame;
    }

    /**
     * Whether a change to a range touches anything mapped.
     *
     * @param from the first guest page number
     * @param to the guest page number past the last (exclusive)
     * @return whether any page of [from, to) is mapped
     */
    public boolean anyIn(long from, long to) {
        Map.Entry<Long, Run> e = runs.lowerEntry(to);
        return e != null && e.getValue().end() > from;
    }

    /**
     * Runs overlapping [from, to), clipped to it.
     *
     * @param from the first guest page number
     * @param to the guest page number past the last (exclusive)
     * @return new runs, in page order, each inside the range
     */
    public List<Run> within(long from, long to) {
        List<Run> out = new ArrayList<>();
        Map.Entry<Long, Run> first = runs.floorEntry(from);
        Long key = first != null && first.getValue().end() > from ? first.getKey() : runs.ceilingKey(from);
        for (Run r : key == null ? List.<Run>of() : runs.tailMap(key, true).values()) {
            if (r.start() >= to) {
                break;
            }
            long s = Math.max(r.start(), from);
            long e = Math.min(r.end(), to);
            out.add(new Run(s, e - s, r.frameAt(s), r.prot()));
        }
        return out;
    }

    /**
     * Records that the pages now map consecutive frames with a protection,
     * replacing what they mapped, and merges with neighbours that continue them.
     *
     * @param start the first guest page number
     * @param pages the number of pages, at least 1
     * @param frame the frame number page {@code start} maps
     * @param prot {@link Prot} bits
     */
    public void map(long start, long pages, long frame, int prot) {
        long anchor = anchor(start);
        long last = last(start + pages);
        long before = window(anchor, last);
        cut(start, start + pages);
        runs.put(start, new Run(start, pages, frame, prot));
        mergeAround(start);
        contributions += window(anchor, last) - before;
    }

    /**
     * Records that the pages are back in the reserved, inaccessible state;
     * parts of runs outside them stay.
     *
     * @param start the first guest page number
     * @param pages the number of pages
     */
    public void unmap(long start, long pages) {
        long anchor = anchor(start);
        long last = last(start + pages);
        long before = window(anchor, last);
        cut(start, start + pages);
        contributions += window(anchor, last) - before;
    }

    /** Where the runs a change to [from, ...) can affect begin: the run before it, if any. */
    private long anchor(long from) {
        Long lo = runs.lowerKey(from);
        return lo != null ? lo : from;
    }

    /** Where they end: the first run at or after {@code to}, whose gap the change may open or close. */
    private long last(long to) {
        Long hi = runs.ceilingKey(to);
        return hi != null ? hi : Long.MAX_VALUE;
    }

    /** Removes [from, to) from the runs, keeping the parts of runs outside it. */
    private void cut(long from, long to) {
        for (Run r : within(from, to)) {
            Run whole = at(r.start());
            runs.remove(whole.start());
            if (whole.start() < from) {
                runs.put(whole.start(), new Run(whole.start(), from - whole.start(), whole.frame(), whole.prot()));
            }
            if (whole.end() > to) {
                runs.put(to, new Run(to, whole.end() - to, whole.frameAt(to), whole.prot()));
            }
        }
    }

    private void mergeAround(long start) {
        Run r = runs.get(start);
        Map.Entry<Long, Run> left = runs.lowerEntry(start);
        if (left != null && continues(left.getValue(), r)) {
            runs.remove(start);
            r = new Run(left.getKey(), left.getValue().pages() + r.pages(), left.getValue().frame(), r.prot());
            runs.put(r.start(), r);
        }
        Run right = runs.get(r.end());
        if (right != null && continues(r, right)) {
            runs.remove(right.start());
            runs.put(r.start(), new Run(r.start(), r.pages() + right.pages(), r.frame(), r.prot()));
        }
    }

    private static boolean continues(Run a, Run b) {
        return a.end() == b.start() && a.prot() == b.prot() && a.frame() + a.pages() == b.frame();
    }

    /**
     * The VMA contributions of the runs starting in [anchor, last]. With both
     * ends taken before a change, that is everything the change can alter:
     * a run past {@code last} keeps its predecessor's end and so its gap.
     */
    private long window(long anchor, long last) {
        long sum = 0;
        for (Run r : runs.subMap(anchor, true, last, true).values()) {
            sum += 1 + (gapBefore(r) ? 1 : 0);
        }
        return sum;
    }

    private boolean gapBefore(Run r) {
        if (r.start() == 0) {
            return false;
        }
        Map.Entry<Long, Run> prev = runs.lowerEntry(r.start());
        return prev == null || prev.getValue().end() < r.start();
    }

    /**
     * A copy of the runs a change to [from, to) can affect, to try the change
     * on first: the difference of its {@link #vmas()} before and after the
     * change is the change's exact cost here.
     */
    HostMap scratch(long from, long to) {
        HostMap copy = new HostMap(size);
        long last = last(to);
        for (Run r : runs.subMap(anchor(from), true, last, true).values()) {
            copy.runs.put(r.start(), r);
        }
        copy.contributions = copy.recount() - copy.trailingGap();
        return copy;
    }

    /** The VMA count recomputed from scratch, for the invariant check. */
    long recount() {
        long n = trailingGap();
        for (Run r : runs.values()) {
            n += 1 + (gapBefore(r) ? 1 : 0);
        }
        return n;
    }
}
