package dev.usercopy.sys;

import java.util.List;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.Grant;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.Prot;
import dev.usercopy.mm.Provider;
import dev.usercopy.uaccess.UserSlice;
import dev.usercopy.uapi.Errno;

/**
 * brk, mmap, munmap, mprotect, madvise, mremap and msync: the syscalls'
 * own checks (unsigned arguments, page rounding, flags), then the
 * {@link AddressSpace}, which keeps Linux's errno order for the rest.
 *
 * <p>Where mmap is free to choose, it chooses as Linux x86-64 does with
 * address randomization off ({@link Placement}): top-down below a base
 * under the stack, a hint taken when it is free, large anonymous mappings
 * aligned to 2 MiB.
 *
 * <p>A file mapping maps the host file the guest's descriptor holds (see
 * {@code mapFile}).
 */
final class Memory {
    static final long PAGE = AddressSpace.PAGE;
    static final int MAP_TYPE = 0x0f;
    static final int MAP_HUGETLB = 0x40000;
    /** x86's MAP_ABOVE4G: a placement hint, accepted by MAP_SHARED_VALIDATE (a host check shows it). */
    static final int MAP_ABOVE4G = 0x80;
    /** Linux's LEGACY_MAP_MASK: the flags MAP_SHARED_VALIDATE accepts. */
    static final int LEGACY_MAP_FLAGS = 0x01 | 0x02 | 0x10 | 0x20 | 0x800 | 0x1000 | 0x4000000 | 0x100 | 0x2000 | 0x4000 | 0x8000 | 0x10000
            | 0x20000 | 0x40000;
    static final int MREMAP_MAYMOVE = 1;
    static final int MREMAP_FIXED = 2;
    static final int MREMAP_DONTUNMAP = 4;
    static final int MS_ASYNC = 1;
    static final int MS_INVALIDATE = 2;
    static final int MS_SYNC = 4;

    private Memory() {}

    static void register(Syscalls.Registry r) {
        r.add(12, "brk", "p:p", t -> t.brk().brk(t.arg(0), t.limits().soft(ResourceLimits.RLIMIT_DATA)));
        r.add(9, "mmap", "p:pudxdx", Memory::mmap);
        r.add(11, "munmap", "pu", Memory::munmap);
        r.add(10, "mprotect", "pux", Memory::mprotect);
        r.add(28, "madvise", "pud", Advice::madvise);
        r.add(25, "mremap", "p:puuxp", Remap::mremap);
        r.add(26, "msync", "pux", Memory::msync);
    }

    static long pageUp(long length) {
        return (length + PAGE - 1) & -PAGE;
    }

    /**
     * x86-64's mmap: an unaligned offset is EINVAL before anything; then
     * the descriptor (EBADF); then
     * do_mmap's checks (the length, the address) and the placement.
     */
    private static long mmap(Task t) {
        long addr = t.arg(0);
        long length = t.arg(1);
        int prot = (int) t.arg(2);
        int flags = (int) t.arg(3);
        long offset = t.arg(5);
        if ((offset & (PAGE - 1)) != 0) {
            return -Errno.EINVAL.number();
        }
        OpenFile file = null;
        if ((flags & MapFlags.ANONYMOUS) == 0) {
            file = t.files().get(t.intArg(4)); // EBADF
            if (file.isPath()) {
                return -Errno.EBADF.number(); // fget does not see O_PATH descriptors
            }
        } else if ((flags & MAP_HUGETLB) != 0) {
            return -Errno.ENOMEM.number(); // no huge pages are reserved for guests
        }
        AddressSpace space = t.space();
        if ((flags & (MapFlags.FIXED | MapFlags.FIXED_NOREPLACE)) != 0) {
            if (file == null) {
                return space.mmap(addr, length, prot, flags);
            }
            return mapFile(t, file, addr, length, prot, flags, offset);
        }
        // do_mmap's checks before it places the mapping, in its order.
        if (length == 0) {
            return -Errno.EINVAL.number();
        }
        long aligned = pageUp(length);
        if (aligned == 0 || Long.compareUnsigned(aligned, Math.min(space.size(), GuestMemory.TASK_SIZE)) > 0) {
            return -Errno.ENOMEM.number();
        }
        if (Long.compareUnsigned((offset >>> 12) + (aligned >>> 12), offset >>> 12) < 0) {
            return -Errno.EOVERFLOW.number();
        }
        boolean thp = file == null && (flags & MAP_TYPE) == MapFlags.PRIVATE && addr == 0 && aligned % Placement.PMD == 0;
        long at = Placement.of(t).find(Placement.roundHintToMin(addr), aligned, thp);
        if (at < 0) {
            return -Errno.ENOMEM.number();
        }
        if (file == null) {
            return space.mmap(at, length, prot, (flags & ~MapFlags.FIXED) | MapFlags.FIXED_NOREPLACE);
        }
        // MAP_FIXED, not NOREPLACE, which MAP_SHARED_VALIDATE would refuse: the range was just found free by this task's only thread.
        return mapFile(t, file, at, length, prot, flags | MapFlags.FIXED, offset);
    }

    /**
     * A file mapping of a guest descriptor, with do_mmap's file checks in
     * its order once the address is known: the offset's range (EOVERFLOW),
     * the mapping type (EINVAL; EOPNOTSUPP for flags MAP_SHARED_VALIDATE
     * does not know), a shared writable mapping of a descriptor not open for
     * writing and any mapping of one not open for reading (EACCES), and a
     * file that cannot be mapped: a directory, pipe, socket or device
     * (ENODEV). The host file is the one the descriptor holds, reached
     * through {@code /proc/self/fd}; the address space reads it through its
     * page cache, and writes back only what a shared mapping of a
     * descriptor open for writing wrote.
     */
    private static long mapFile(Task t, OpenFile file, long at, long length, int prot, int flags, long offset) {
        AddressSpace space = t.space();
        if ((flags & MapFlags.FIXED) != 0 || (flags & MapFlags.FIXED_NOREPLACE) != 0) {
            // The address checks first, as do_mmap makes them, by asking for nothing but the checks.
            long n = pageUp(length);
            if (length == 0) {
                return -Errno.EINVAL.number();
            }
            if (n == 0 || Long.compareUnsigned(n, Math.min(space.size(), GuestMemory.TASK_SIZE)) > 0) {
                return -Errno.ENOMEM.number();
            }
            if (Long.compareUnsigned(at, space.size() - n) > 0) {
                return -Errno.ENOMEM.number();
            }
            if ((at & (PAGE - 1)) != 0) {
                return -Errno.EINVAL.number();
            }
            if (at < AddressSpace.MIN_ADDRESS) {
                return -Errno.EPERM.number();
            }
            if ((flags & MapFlags.FIXED_NOREPLACE) != 0 && !Placement.of(t).isFree(at, at + n)) {
                return -Errno.EEXIST.number();
            }
        }
        if (offset < 0 || pageUp(length) > Long.MAX_VALUE - offset) {
            return -Errno.EOVERFLOW.number();
        }
        boolean shared;
        switch (flags & MAP_TYPE) {
            case MapFlags.SHARED -> shared = true;
            case MapFlags.SHARED_VALIDATE -> {
                if ((flags & ~(LEGACY_MAP_FLAGS | MAP_ABOVE4G)) != 0) { // MAP_FIXED_NOREPLACE too, as Linux
                    return -Errno.EOPNOTSUPP.number();
                }
                shared = true;
            }
            case MapFlags.PRIVATE -> shared = false;
            default -> {
                return -Errno.EINVAL.number();
            }
        }
        if (shared && (prot & Prot.WRITE) != 0 && !file.writable() || !file.readable()) {
            return -Errno.EACCES.number();
        }
        if (!file.regular() || file.type() == dev.usercopy.platform.HostFiles.S_IFBLK) {
            return -Errno.ENODEV.number();
        }
        java.nio.file.Path path;
        try {
            path = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/" + file.hostFd()));
        } catch (java.io.IOException e) {
            return -Errno.ENODEV.number();
        }
        if (!path.isAbsolute()) {
            return -Errno.ENODEV.number(); // no file of a file system (anon_inode:, pipe:)
        }
        // The address space knows neither placement hint: both are done with here. It opens the file
        // through the descriptor's link, never by the path just read: that may name another file by now.
        return space.mmapFile(at, length, prot, flags & ~(MAP_ABOVE4G | MapFlags.FIXED_NOREPLACE) | MapFlags.FIXED,
                java.nio.file.Path.of("/proc/self/fd/" + file.hostFd()), offset, file.writable());
    }

    /**
     * Linux's checks: an unaligned start, a start or range past user space,
     * or length 0 are EINVAL; unmapping nothing is success. The part past
     * this address space holds nothing to unmap.
     */
    private static long munmap(Task t) {
        long addr = t.arg(0);
        long length = t.arg(1);
        if ((addr & (PAGE - 1)) != 0 || Long.compareUnsigned(addr, GuestMemory.TASK_SIZE) > 0
                || Long.compareUnsigned(length, GuestMemory.TASK_SIZE - addr) > 0 || length == 0) {
            return -Errno.EINVAL.number();
        }
        long end = Math.min(addr + pageUp(length), t.space().size());
        if (addr < end) {
            t.space().munmap(addr, end - addr);
        }
        return 0;
    }

    /** prot is an unsigned long: bits above 32 are unknown bits, EINVAL where Linux checks them. */
    private static long mprotect(Task t) {
        long prot = t.arg(2);
        int p = (int) prot | ((prot >>> 32) != 0 ? 0x10 : 0); // 0x10: no PROT_ bit, refused in its turn
        t.space().mprotect(t.arg(0), t.arg(1), p);
        return 0;
    }

    /**
     * msync's own checks first: unknown flags, an unaligned address, ASYNC
     * with SYNC (EINVAL); then the address space's walk. MS_ASYNC writes
     * back too (Linux 6 leaves it to writeback; writing now is the same to
     * a reader). MS_INVALIDATE has nothing to drop: the frames are the page
     * cache.
     */
    private static long msync(Task t) {
        long flags = t.arg(2);
        long addr = t.arg(0);
        if ((flags & ~(long) (MS_ASYNC | MS_INVALIDATE | MS_SYNC)) != 0 || (addr & (PAGE - 1)) != 0
                || (flags & MS_ASYNC) != 0 && (flags & MS_SYNC) != 0) {
            return -Errno.EINVAL.number();
        }
        t.space().msync(addr, t.arg(1));
        return 0;
    }

    /** Whether two grants next to each other would be one VMA in Linux: anonymous private memory with one protection. */
    static boolean mergeable(Grant a, Grant b) {
        return a.end() == b.start() && a.prot() == b.prot() && isAnonymousPrivate(a) && isAnonymousPrivate(b);
    }

    static boolean isAnonymousPrivate(Grant g) {
        return g.provider() instanceof Provider.Allocated a && a.cowFile() == null;
    }

    /**
     * The VMA, as Linux would have merged it, that holds {@code addr}: the
     * run of mergeable grants around it, as {start page, end page, prot,
     * index of a grant}; null when {@code addr} is not mapped.
     */
    static long[] vmaAt(List<Grant> grants, long addr) {
        long page = Long.divideUnsigned(addr, PAGE);
        for (int i = 0; i < grants.size(); i++) {
            Grant g = grants.get(i);
            if (g.start() <= page && page < g.end()) {
                int lo = i;
                while (lo > 0 && mergeable(grants.get(lo - 1), grants.get(lo))) {
                    lo--;
                }
                int hi = i;
                while (hi + 1 < grants.size() && mergeable(grants.get(hi), grants.get(hi + 1))) {
                    hi++;
                }
                return new long[] {grants.get(lo).start(), grants.get(hi).end(), g.prot(), i};
            }
        }
        return null;
    }

    /** The bytes of present pages of [from, from + length) copied to [to, ...), through the kernel's view of the frames. */
    static void copyPages(AddressSpace space, long from, long to, long length) {
        byte[] page = new byte[(int) PAGE];
        for (long off = 0; off < length; off += PAGE) {
            AddressSpace.PageState state = space.pageState(from + off);
            if (state == AddressSpace.PageState.UNMAPPED || state == AddressSpace.PageState.LAZY || state == AddressSpace.PageState.ZEROED) {
                continue; // reads as zeros, as the fresh page at the destination does
            }
            if (space.peekPage(from + off, page)) {
                UserSlice.wo(space, to + off, PAGE).copyFromSlice(page);
            }
        }
    }

    static ErrnoException enomem(long addr, long length, String why) {
        return new ErrnoException(Errno.ENOMEM, addr, length, why);
    }
}
