package dev.usercopy.sys;

import java.util.List;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.Grant;

/**
 * Where mmap and mremap put a mapping whose address is theirs to choose, as
 * Linux x86-64 does without address randomization (a guest is
 * deterministic; {@code setarch -R} shows the same natively):
 * {@code arch_get_unmapped_area_topdown}.
 *
 * <ul>
 * <li>A hint is taken, rounded down to a page, when [hint, hint + length)
 *     is free and inside user space; a hint below mmap_min_addr is first
 *     raised to it ({@code round_hint_to_min}).</li>
 * <li>Otherwise the highest free range that ends at or below
 *     {@code mmap_base}: the top of user space less a gap for the stack of
 *     RLIMIT_STACK (as it was when the program started) plus the stack
 *     guard gap, at least 128 MiB and at most 5/6 of user space
 *     ({@code mmap_base()} in arch/x86/mm/mmap.c).</li>
 * <li>None there: the lowest free range from a third of user space up
 *     (the bottom-up fallback), which is also the whole layout when
 *     RLIMIT_STACK is unlimited ({@code mmap_is_legacy}).</li>
 * <li>A private anonymous mapping without a hint whose length is a multiple
 *     of 2 MiB is aligned to 2 MiB ({@code thp_get_unmapped_area}): a range
 *     2 MiB longer is found, and the mapping placed at its highest
 *     2 MiB-aligned start (Linux takes the offset of anonymous memory as 0,
 *     so mremap's moves are aligned too).</li>
 * </ul>
 *
 * <p>User space is [MIN_ADDRESS, min(size, TASK_SIZE)) of the address space.
 */
public final class Placement {
    static final long PMD = 2L << 20;
    static final long GAP_MIN = 128L << 20;
    /** Linux's stack_guard_gap: 256 pages. */
    static final long STACK_GUARD_GAP = 256 * AddressSpace.PAGE;
    private static final long PAGE = AddressSpace.PAGE;

    private final List<Grant> grants;
    private final long top;
    private final long base;
    private final boolean legacy;

    private Placement(List<Grant> grants, long top, long stackLimit) {
        this.grants = grants;
        this.top = top;
        this.legacy = stackLimit == ResourceLimits.INFINITY;
        this.base = mmapBase(top, stackLimit);
    }

    static Placement of(Task t) {
        AddressSpace space = t.space();
        return new Placement(space.grants(), userTop(space), t.limits().stackAtStart());
    }

    /**
     * Where an mmap of {@code length} bytes without a hint would go in
     * {@code space} now, for a stack limit of {@code stackLimit} (the
     * loader places a program's interpreter so): -1 when there is no room.
     */
    public static long unhinted(AddressSpace space, long stackLimit, long length) {
        return new Placement(space.grants(), userTop(space), stackLimit).find(0, length, false);
    }

    /** The end of user space in {@code space}: its size, at most Linux's TASK_SIZE. */
    public static long userTop(AddressSpace space) {
        return Math.min(space.size(), GuestMemory.TASK_SIZE);
    }

    /** mmap_base for a user space ending at {@code top}: below the stack's gap. */
    public static long mmapBase(long top, long stackLimit) {
        long gap = stackLimit;
        if (gap + STACK_GUARD_GAP > gap) { // values near RLIM_INFINITY would wrap
            gap += STACK_GUARD_GAP;
        }
        long gapMax = top / 6 * 5;
        if (Long.compareUnsigned(gap, GAP_MIN) < 0) {
            gap = GAP_MIN;
        } else if (Long.compareUnsigned(gap, gapMax) > 0) {
            gap = gapMax;
        }
        long b = (top - gap) & -PAGE;
        return b > AddressSpace.MIN_ADDRESS ? b : top;
    }

    /** do_mmap's round_hint_to_min: a hint under mmap_min_addr asks for mmap_min_addr. */
    static long roundHintToMin(long hint) {
        hint &= -PAGE;
        return hint != 0 && Long.compareUnsigned(hint, AddressSpace.MIN_ADDRESS) < 0 ? AddressSpace.MIN_ADDRESS : hint;
    }

    long base() {
        return base;
    }

    /**
     * The address for {@code length} bytes (page-aligned) with {@code hint}
     * (0 for none), or -1 when user space has no room. {@code thp}: try the
     * 2 MiB alignment first.
     */
    long find(long hint, long length, boolean thp) {
        if (thp) {
            long padded = length + PMD;
            if (padded > length) {
                long r = find(0, padded, false);
                if (r >= 0) {
                    long sub = -r & (PMD - 1);
                    return !legacy && sub == 0 ? r + PMD : r + sub;
                }
            }
        }
        hint &= -PAGE;
        if (hint != 0 && Long.compareUnsigned(hint, top - length) <= 0 && Long.compareUnsigned(length, top) <= 0 && free(hint, hint + length)) {
            return hint;
        }
        if (!legacy) {
            long r = topDown(length, base);
            if (r >= 0) {
                return r;
            }
        }
        return bottomUp(length, (top / 3 + PAGE - 1) & -PAGE);
    }

    /** Whether no grant overlaps [from, to). */
    boolean isFree(long from, long to) {
        return free(from, to);
    }

    private boolean free(long from, long to) {
        for (Grant g : grants) {
            if (g.start() * PAGE < to && g.end() * PAGE > from) {
                return false;
            }
        }
        return true;
    }

    /** The highest start of a free range of {@code length} ending at or below {@code limit}. */
    private long topDown(long length, long limit) {
        long end = limit; // the upper end of the gap above grant i
        for (int i = grants.size() - 1; i >= -1 && end > AddressSpace.MIN_ADDRESS; i--) {
            long gapStart = Math.max(i >= 0 ? grants.get(i).end() * PAGE : 0, AddressSpace.MIN_ADDRESS);
            if (gapStart < end && end - gapStart >= length) {
                return end - length;
            }
            if (i >= 0) {
                end = Math.min(end, grants.get(i).start() * PAGE);
            }
        }
        return -1;
    }

    /** The lowest start of a free range of {@code length} at or above {@code from}, ending at or below the top. */
    private long bottomUp(long length, long from) {
        long start = Math.max(from, AddressSpace.MIN_ADDRESS);
        for (Grant g : grants) {
            long gs = g.start() * PAGE;
            long ge = g.end() * PAGE;
            if (ge <= start) {
                continue;
            }
            if (gs - start >= length) {
                break;
            }
            start = Math.max(start, ge);
        }
        return start <= top - length ? start : -1;
    }
}
