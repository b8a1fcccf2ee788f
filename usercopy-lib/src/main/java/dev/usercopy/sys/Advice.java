package dev.usercopy.sys;

import java.util.List;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.Grant;
import dev.usercopy.mm.Prot;
import dev.usercopy.mm.Provider;
import dev.usercopy.uapi.Errno;

/**
 * madvise, as Linux's mm/madvise.c: the advice checked (EINVAL for one
 * Linux does not know), then the range (alignment, wrap, length 0), then
 * the walk over the mappings, which applies the advice to each and says
 * ENOMEM at the end when the range had a hole.
 *
 * <p>What each advice does here: DONTNEED drops private pages
 * ({@link AddressSpace#madviseDontNeed}); POPULATE_READ/WRITE fault the
 * pages in; FREE, which lets the kernel drop pages when it likes, keeps
 * them (a choice Linux may make too); the hints (NORMAL, RANDOM,
 * SEQUENTIAL, WILLNEED, COLD, PAGEOUT, HUGEPAGE, NOHUGEPAGE, COLLAPSE,
 * MERGEABLE, UNMERGEABLE, DONTDUMP, DODUMP) change nothing a guest can see;
 * DONTFORK/DOFORK/WIPEONFORK/KEEPONFORK are checked and not recorded
 * (guests do not fork yet). REMOVE on a shared mapping and the guard-region
 * advice are EOPNOTSUPP, not implemented; HWPOISON and SOFT_OFFLINE are
 * EPERM, as for a user without CAP_SYS_ADMIN: a guest never poisons host
 * memory.
 */
final class Advice {
    static final int MADV_NORMAL = 0;
    static final int MADV_RANDOM = 1;
    static final int MADV_SEQUENTIAL = 2;
    static final int MADV_WILLNEED = 3;
    static final int MADV_DONTNEED = 4;
    static final int MADV_FREE = 8;
    static final int MADV_REMOVE = 9;
    static final int MADV_DONTFORK = 10;
    static final int MADV_DOFORK = 11;
    static final int MADV_MERGEABLE = 12;
    static final int MADV_UNMERGEABLE = 13;
    static final int MADV_HUGEPAGE = 14;
    static final int MADV_NOHUGEPAGE = 15;
    static final int MADV_DONTDUMP = 16;
    static final int MADV_DODUMP = 17;
    static final int MADV_WIPEONFORK = 18;
    static final int MADV_KEEPONFORK = 19;
    static final int MADV_COLD = 20;
    static final int MADV_PAGEOUT = 21;
    static final int MADV_POPULATE_READ = 22;
    static final int MADV_POPULATE_WRITE = 23;
    static final int MADV_DONTNEED_LOCKED = 24;
    static final int MADV_COLLAPSE = 25;
    static final int MADV_HWPOISON = 100;
    static final int MADV_SOFT_OFFLINE = 101;
    static final int MADV_GUARD_INSTALL = 102;
    static final int MADV_GUARD_REMOVE = 103;
    private static final long PAGE = AddressSpace.PAGE;

    private Advice() {}

    static boolean known(int advice) {
        return advice >= MADV_NORMAL && advice <= MADV_WILLNEED || advice == MADV_DONTNEED
                || advice >= MADV_FREE && advice <= MADV_COLLAPSE
                || advice >= MADV_HWPOISON && advice <= MADV_GUARD_REMOVE;
    }

    static long madvise(Task t) {
        long addr = t.arg(0);
        long lengthIn = t.arg(1);
        int advice = t.intArg(2);
        if (!known(advice) || (addr & (PAGE - 1)) != 0) {
            return -Errno.EINVAL.number();
        }
        long length = Memory.pageUp(lengthIn);
        if (lengthIn != 0 && length == 0) {
            return -Errno.EINVAL.number(); // a small negative length rounded up to 0
        }
        long end = addr + length;
        if (Long.compareUnsigned(end, addr) < 0) {
            return -Errno.EINVAL.number();
        }
        if (end == addr) {
            return 0;
        }
        AddressSpace space = t.space();
        switch (advice) {
            case MADV_HWPOISON, MADV_SOFT_OFFLINE -> {
                return -Errno.EPERM.number();
            }
            case MADV_DONTNEED, MADV_DONTNEED_LOCKED -> {
                space.madviseDontNeed(addr, length);
                return 0;
            }
            default -> { }
        }
        long from = Long.divideUnsigned(addr, PAGE);
        long to = Long.divideUnsigned(end, PAGE);
        List<Grant> grants = space.grants();
        long covered = from;
        boolean hole = false;
        for (Grant g : grants) {
            if (g.end() <= from || g.start() >= to) {
                continue;
            }
            hole |= g.start() > covered;
            long first = Math.max(g.start(), from);
            long last = Math.min(g.end(), to);
            long r = apply(space, g, advice, first * PAGE, (last - first) * PAGE);
            if (r != 0) {
                return r;
            }
            covered = last;
        }
        return hole || covered < to ? -Errno.ENOMEM.number() : 0;
    }

    /** The advice on the part [addr, addr + length) of grant {@code g}: 0 or -errno. */
    private static long apply(AddressSpace space, Grant g, int advice, long addr, long length) {
        boolean anonPrivate = Memory.isAnonymousPrivate(g);
        boolean shared = g.provider().shared();
        return switch (advice) {
            case MADV_FREE -> anonPrivate ? 0 : -Errno.EINVAL.number();
            case MADV_REMOVE -> !shared ? (anonPrivate ? -Errno.EINVAL.number() : -Errno.EACCES.number()) : -Errno.EOPNOTSUPP.number();
            case MADV_WIPEONFORK, MADV_KEEPONFORK -> anonPrivate ? 0 : -Errno.EINVAL.number();
            case MADV_DOFORK, MADV_DODUMP -> g.provider() instanceof Provider.PhysBorrowed ? -Errno.EINVAL.number() : 0;
            case MADV_GUARD_INSTALL, MADV_GUARD_REMOVE -> -Errno.EOPNOTSUPP.number();
            case MADV_POPULATE_READ, MADV_POPULATE_WRITE -> populate(space, g, addr, length, advice == MADV_POPULATE_WRITE);
            default -> 0;
        };
    }

    private static long populate(AddressSpace space, Grant g, long addr, long length, boolean write) {
        boolean allowed = write ? (g.prot() & Prot.WRITE) != 0 : g.prot() != Prot.NONE;
        if (!allowed) {
            return -Errno.EINVAL.number();
        }
        try {
            space.populate(addr, length, write);
            return 0;
        } catch (ErrnoException e) {
            return -(e.errno() == Errno.EFAULT ? Errno.EFAULT : Errno.ENOMEM).number();
        }
    }
}
