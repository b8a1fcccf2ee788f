package dev.usercopy.sys;

import java.util.List;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.Grant;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.Prot;
import dev.usercopy.mm.Provider;
import dev.usercopy.uapi.Errno;

/**
 * mremap, as Linux's mm/mremap.c for what a C library does with it
 * (glibc's realloc of a large block): a shrink unmaps the tail; a growth
 * extends in place when the pages after the mapping are free, and with
 * MREMAP_MAYMOVE otherwise moves it; MREMAP_FIXED moves it to a given
 * address, MREMAP_DONTUNMAP leaves the old range mapped and empty.
 *
 * <p>A move is a copy here: a new anonymous mapping, the present pages
 * copied through the kernel's view of their frames, the old range unmapped.
 * Linux moves the page-table entries instead; the guest sees the same bytes
 * at the new address either way, but only private anonymous memory can be
 * moved so: moving or growing a shared or file mapping is ENOMEM here (a
 * guest would see Linux's answer for an address space with no room).
 * {@code old_len} 0 (duplicating a shared mapping) is ENOMEM for the same
 * reason.
 */
final class Remap {
    private static final long PAGE = AddressSpace.PAGE;

    private Remap() {}

    static long mremap(Task t) {
        long addr = t.arg(0);
        long oldLenIn = t.arg(1);
        long newLenIn = t.arg(2);
        long flags = t.arg(3);
        long newAddr = t.arg(4);
        boolean mayMove = (flags & Memory.MREMAP_MAYMOVE) != 0;
        boolean fixed = (flags & Memory.MREMAP_FIXED) != 0;
        boolean dontUnmap = (flags & Memory.MREMAP_DONTUNMAP) != 0;
        if ((flags & ~(long) (Memory.MREMAP_MAYMOVE | Memory.MREMAP_FIXED | Memory.MREMAP_DONTUNMAP)) != 0
                || fixed && !mayMove || dontUnmap && (!mayMove || oldLenIn != newLenIn) || (addr & (PAGE - 1)) != 0) {
            return -Errno.EINVAL.number();
        }
        long oldLen = Memory.pageUp(oldLenIn);
        long newLen = Memory.pageUp(newLenIn);
        if (newLen == 0 || Long.compareUnsigned(newLen, GuestMemory.TASK_SIZE) > 0) {
            return -Errno.EINVAL.number(); // nothing, or more than user space
        }
        AddressSpace space = t.space();
        if (fixed || dontUnmap) {
            return moveTo(t, addr, oldLen, newLen, newAddr, fixed, dontUnmap);
        }
        if (Long.compareUnsigned(oldLen, newLen) >= 0) {
            if (oldLen != newLen) {
                long r = unmap(space, addr + newLen, oldLen - newLen);
                if (r != 0) {
                    return r;
                }
            }
            return addr;
        }
        List<Grant> grants = space.grants();
        long[] vma = Memory.vmaAt(grants, addr);
        long r = checkResize(grants, vma, addr, oldLen, newLen);
        if (r != 0) {
            return r;
        }
        Grant g = grants.get((int) vma[3]);
        long top = Math.min(space.size(), GuestMemory.TASK_SIZE);
        long delta = newLen - oldLen;
        if (addr + oldLen == vma[1] * PAGE && Long.compareUnsigned(addr + newLen, top) <= 0 && free(grants, addr + oldLen, addr + newLen)
                && (Memory.isAnonymousPrivate(g) || g.provider() instanceof Provider.AllocatedShared)) {
            int type = g.provider().shared() ? MapFlags.SHARED : MapFlags.PRIVATE;
            space.mmap(addr + oldLen, delta, (int) vma[2], type | MapFlags.ANONYMOUS | MapFlags.FIXED_NOREPLACE);
            return addr;
        }
        if (!mayMove) {
            return -Errno.ENOMEM.number();
        }
        long to = Placement.of(t).find(0, newLen, newLen % Placement.PMD == 0);
        if (to < 0) {
            return -Errno.ENOMEM.number();
        }
        return move(space, g, addr, oldLen, to, newLen, false);
    }

    /**
     * vma_to_resize: the mapping at {@code addr} (EFAULT when none), old_len
     * 0 only for a shared one (EINVAL; ENOMEM here, see the class comment),
     * the old range inside that one mapping (EFAULT), a device mapping never
     * grows (EFAULT). Returns 0 or -errno.
     */
    private static long checkResize(List<Grant> grants, long[] vma, long addr, long oldLen, long newLen) {
        if (vma == null) {
            return -Errno.EFAULT.number();
        }
        Grant g = grants.get((int) vma[3]);
        if (oldLen == 0) {
            return g.provider().shared() ? -Errno.ENOMEM.number() : -Errno.EINVAL.number();
        }
        if (Long.compareUnsigned(oldLen, vma[1] * PAGE - addr) > 0) {
            return -Errno.EFAULT.number();
        }
        if (newLen != oldLen && g.provider() instanceof Provider.PhysBorrowed) {
            return -Errno.EFAULT.number();
        }
        return 0;
    }

    /**
     * mremap_to: the new address checked (EINVAL unaligned, past user space,
     * or overlapping the old range), with MREMAP_FIXED whatever is there
     * unmapped, the old range's excess unmapped, then the old mapping checked
     * and moved; MREMAP_DONTUNMAP without FIXED takes the new address as a
     * hint.
     */
    private static long moveTo(Task t, long addr, long oldLen, long newLen, long newAddr, boolean fixed, boolean dontUnmap) {
        AddressSpace space = t.space();
        long top = GuestMemory.TASK_SIZE;
        if (fixed) {
            if ((newAddr & (PAGE - 1)) != 0 || Long.compareUnsigned(newLen, top) > 0 || Long.compareUnsigned(newAddr, top - newLen) > 0) {
                return -Errno.EINVAL.number();
            }
            if (Long.compareUnsigned(addr + oldLen, newAddr) > 0 && Long.compareUnsigned(newAddr + newLen, addr) > 0) {
                return -Errno.EINVAL.number();
            }
            long r = unmap(space, newAddr, newLen);
            if (r != 0) {
                return r;
            }
        }
        if (Long.compareUnsigned(oldLen, newLen) > 0) {
            long r = unmap(space, addr + newLen, oldLen - newLen);
            if (r != 0) {
                return r;
            }
            oldLen = newLen;
        }
        List<Grant> grants = space.grants();
        long[] vma = Memory.vmaAt(grants, addr);
        long r = checkResize(grants, vma, addr, oldLen, newLen);
        if (r != 0) {
            return r;
        }
        Grant g = grants.get((int) vma[3]);
        if (dontUnmap && g.provider() instanceof Provider.PhysBorrowed) {
            return -Errno.EINVAL.number();
        }
        long to = fixed ? newAddr : Placement.of(t).find(newAddr, newLen, false);
        if (to < 0) {
            return -Errno.ENOMEM.number();
        }
        return move(space, g, addr, oldLen, to, newLen, dontUnmap);
    }

    /** Moves [addr, +oldLen) to [to, +newLen) by copy: private anonymous memory only. */
    private static long move(AddressSpace space, Grant g, long addr, long oldLen, long to, long newLen, boolean keepOld) {
        if (!Memory.isAnonymousPrivate(g)) {
            return -Errno.ENOMEM.number();
        }
        int prot = g.prot();
        space.mmap(to, newLen, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
        Memory.copyPages(space, addr, to, Math.min(oldLen, newLen));
        if (prot != (Prot.READ | Prot.WRITE)) {
            space.mprotect(to, newLen, prot);
        }
        if (keepOld) {
            space.madviseDontNeed(addr, oldLen); // MREMAP_DONTUNMAP: the old range stays, without its pages
        } else {
            space.munmap(addr, oldLen);
        }
        return to;
    }

    /** do_munmap's answer for [addr, +length): 0 or -errno; the part past the address space holds nothing. */
    private static long unmap(AddressSpace space, long addr, long length) {
        if ((addr & (PAGE - 1)) != 0 || Long.compareUnsigned(addr, GuestMemory.TASK_SIZE) > 0
                || Long.compareUnsigned(length, GuestMemory.TASK_SIZE - addr) > 0 || length == 0) {
            return -Errno.EINVAL.number();
        }
        long end = Math.min(addr + length, space.size());
        if (addr < end) {
            space.munmap(addr, end - addr);
        }
        return 0;
    }

    private static boolean free(List<Grant> grants, long from, long to) {
        for (Grant g : grants) {
            if (g.start() * PAGE < to && g.end() * PAGE > from) {
                return false;
            }
        }
        return true;
    }
}
