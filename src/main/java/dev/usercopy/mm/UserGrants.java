package dev.usercopy.mm;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

import dev.usercopy.platform.Errno;

/**
 * The grants of one address space, in pages: non-overlapping ranges in
 * address order and the holes between them (Redox's {@code UserGrants}).
 * Not thread-safe: the manager's lock covers it.
 */
final class UserGrants {
    private final TreeMap<Long, Grant> tree = new TreeMap<>();

    /** The grant that holds {@code page}, or null. */
    Grant at(long page) {
        Map.Entry<Long, Grant> e = tree.floorEntry(page);
        return e != null && e.getValue().contains(page) ? e.getValue() : null;
    }

    boolean overlaps(long from, long to) {
        Map.Entry<Long, Grant> e = tree.lowerEntry(to);
        return e != null && e.getValue().end() > from;
    }

    /**
     * {@code hint} if [hint, +n) is free and inside [min, limit), else the
     * lowest free range from {@code min}; -1 when none is long enough.
     */
    long findFree(long hint, long n, long min, long limit) {
        if (hint >= min && hint <= limit - n && !overlaps(hint, hint + n)) {
            return hint;
        }
        long candidate = min;
        for (Grant g : tree.values()) {
            if (g.start() - candidate >= n) {
                break;
            }
            candidate = Math.max(candidate, g.end());
        }
        return candidate + n > limit ? -1 : candidate;
    }

    /** Splits the grant that spans {@code page}, if any, so a grant starts there. */
    void splitAt(long page) {
        Map.Entry<Long, Grant> e = tree.lowerEntry(page);
        if (e == null || e.getValue().end() <= page) {
            return;
        }
        Grant g = e.getValue();
        tree.put(g.start(), g.slice(g.start(), page));
        tree.put(page, g.slice(page, g.end()));
    }

    /** The grants that overlap [from, to), in order. */
    List<Grant> in(long from, long to) {
        List<Grant> out = new ArrayList<>();
        Map.Entry<Long, Grant> first = tree.floorEntry(from);
        Long key = first != null && first.getValue().end() > from ? first.getKey() : tree.ceilingKey(from);
        if (key != null) {
            for (Grant g : tree.tailMap(key, true).values()) {
                if (g.start() >= to) {
                    break;
                }
                out.add(g);
            }
        }
        return out;
    }

    /** The first grant start at or after {@code page}, at most {@code limit}. */
    long nextStart(long page, long limit) {
        Long k = tree.ceilingKey(page);
        return k == null ? limit : Math.min(k, limit);
    }

    void put(Grant g) {
        tree.put(g.start(), g);
    }

    /** Takes the grants out of [from, to), splitting those that straddle its ends. */
    void remove(long from, long to) {
        splitAt(from);
        splitAt(to);
        tree.subMap(from, true, to, false).clear();
    }

    /** Gives the grants in [from, to) protection {@code prot}, splitting those that straddle its ends. */
    void protect(long from, long to, int prot) {
        splitAt(from);
        splitAt(to);
        for (Grant g : List.copyOf(tree.subMap(from, true, to, false).values())) {
            tree.put(g.start(), g.withProt(prot));
        }
    }

    Collection<Grant> values() {
        return tree.values();
    }

    List<Grant> snapshot() {
        return List.copyOf(tree.values());
    }

    void putAll(UserGrants other) {
        tree.putAll(other.tree);
    }

    void clear() {
        tree.clear();
    }

    /** The first page of [from, to) that none of {@code cover} (the grants in it, in order) holds, or -1. */
    static long firstHole(long from, long to, List<Grant> cover) {
        long p = from;
        for (Grant g : cover) {
            if (g.start() > p) {
                return p;
            }
            p = g.end();
        }
        return p < to ? p : -1;
    }

    /**
     * Where a change of [from, to) that walks the grants in order, as
     * Linux's mprotect does, stops: the first page not covered by a grant,
     * or the first grant {@code refusal} names an errno for.
     */
    Stop walk(long from, long to, Function<Grant, Errno> refusal) {
        long p = from;
        for (Grant g : in(from, to)) {
            if (g.start() > p) {
                return new Stop(p, Errno.ENOMEM);
            }
            Errno refused = refusal.apply(g);
            if (refused != null) {
                return new Stop(p, refused);
            }
            p = g.end();
        }
        return p < to ? new Stop(p, Errno.ENOMEM) : new Stop(to, null);
    }

    /** Where a walk stopped, and why (null: it did not). */
    record Stop(long page, Errno errno) {}
}
