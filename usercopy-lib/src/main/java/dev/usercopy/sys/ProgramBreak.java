package dev.usercopy.sys;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.Grant;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.Prot;

/**
 * The program break ({@code brk}), as Linux's {@code mm/mmap.c} keeps it:
 * the heap is an anonymous private read-write mapping from the start of the
 * break (the page after the program's last segment) up to the break rounded
 * up to a page. Growing maps the new pages (fresh, so zeroed); shrinking
 * unmaps whole pages past the new break. The bytes past the break in its
 * last page stay as they were, so a shrink within a page and a regrow give
 * them back unchanged, while a shrink that drops pages and a regrow give
 * zeros.
 *
 * <p>brk never fails with an errno: a request it refuses (below the start,
 * onto another mapping, past the address space, over RLIMIT_DATA, out of
 * memory) returns the break as it was.
 */
public final class ProgramBreak {
    private static final long PAGE = AddressSpace.PAGE;

    private final AddressSpace space;
    private final long start;
    private long current;

    ProgramBreak(AddressSpace space, long start) {
        this.space = space;
        this.start = pageUp(start);
        this.current = this.start;
    }

    /** A fork's break over {@code child}, the fork of this break's space: where this one is. */
    ProgramBreak forkCopy(AddressSpace child) {
        ProgramBreak b = new ProgramBreak(child, start);
        b.current = current;
        return b;
    }

    /** Where the break started. */
    public long start() {
        return start;
    }

    /** The break now. */
    public long current() {
        return current;
    }

    private static long pageUp(long a) {
        return (a + PAGE - 1) & -PAGE;
    }

    /**
     * Linux's brk: below the start (0 included), over RLIMIT_DATA or
     * unrepresentable: the break as it was; in the same page: just moved;
     * down: the pages past the new break unmapped, provided the heap
     * reaches into them; up: the new pages mapped, provided nothing is
     * mapped from the old break's page end to one page past the new one
     * (Linux keeps that guard page between the heap and the next mapping).
     */
    long brk(long request, long dataLimit) {
        if (Long.compareUnsigned(request, start) < 0) {
            return current;
        }
        if (dataLimit != ResourceLimits.INFINITY && Long.compareUnsigned(request - start, dataLimit) > 0) {
            return current;
        }
        long newEnd = pageUp(request);
        long oldEnd = pageUp(current);
        if (Long.compareUnsigned(newEnd, request) < 0) {
            return current; // rounding wrapped past 2^64
        }
        if (newEnd == oldEnd) {
            current = request;
            return current;
        }
        try {
            if (Long.compareUnsigned(request, current) <= 0) {
                // Linux: the heap must reach into [newEnd, oldEnd), or nothing happens.
                if (!mapped(newEnd, oldEnd)) {
                    return current;
                }
                space.munmap(newEnd, oldEnd - newEnd);
                current = request;
                return current;
            }
            long limit = Math.min(space.size(), GuestMemory.TASK_SIZE);
            if (Long.compareUnsigned(newEnd, limit - PAGE) > 0 || mapped(oldEnd, newEnd + PAGE)) {
                return current;
            }
            space.mmap(oldEnd, newEnd - oldEnd, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED_NOREPLACE);
            current = request;
            return current;
        } catch (ErrnoException e) {
            return current; // out of frames or host mappings: brk says so by not moving
        }
    }

    /** Whether any page of [from, to) is mapped. */
    private boolean mapped(long from, long to) {
        long a = from / PAGE;
        long b = Math.min(to, space.size()) / PAGE;
        for (Grant g : space.grants()) {
            if (g.start() < b && g.end() > a) {
                return true;
            }
        }
        return false;
    }
}
