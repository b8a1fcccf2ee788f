package dev.usercopy.faultinjection;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import dev.usercopy.mm.Grant;
import dev.usercopy.mm.MapFlags;

/**
 * Random {@link MmOp}s for {@link MmOracleTest}, aimed where mm goes wrong:
 * at the edges of the mappings a space has now (read from the guest), the
 * edges of the address space and of the files, with every prot and flag
 * combination, and ranges that are partial, unaligned, empty, negative,
 * huge or span holes.
 */
final class MmOpGenerator implements MmOracleRun.OpSource {
    private static final long PAGE = MmOracleRun.PAGE;
    private static final int MAX_SPACES = 4;

    private final SplittableRandom rnd;
    private final int length;
    private int made;

    MmOpGenerator(SplittableRandom rnd, int length) {
        this.rnd = rnd;
        this.length = length;
    }

    @Override
    public MmOp next(MmOracleRun run) {
        if (made++ >= length) {
            return null;
        }
        List<Integer> alive = run.alive();
        int space = alive.get(rnd.nextInt(alive.size()));
        List<Grant> grants = run.grants(space);
        int k = rnd.nextInt(100);
        if (k < 28 || grants.isEmpty() && k < 60) {
            return mmap(run, space, grants);
        }
        if (k < 59) {
            long[] r = range(run, grants);
            return k < 38 ? new MmOp.Munmap(space, r[0], r[1]) : k < 48 ? new MmOp.Mprotect(space, r[0], r[1], prot())
                    : k < 54 ? new MmOp.MadviseDontNeed(space, r[0], r[1]) : new MmOp.Msync(space, r[0], r[1]);
        }
        if (k < 67) {
            return new MmOp.CopyFrom(space, copyAddress(run, grants), copyLength());
        }
        if (k < 78) {
            return new MmOp.CopyTo(space, copyAddress(run, grants), copyLength(), rnd.nextLong());
        }
        if (k < 84) {
            long n = rnd.nextInt(40) == 0 ? (rnd.nextBoolean() ? Long.MAX_VALUE : 1L << 47) : copyLength();
            return new MmOp.Clear(space, copyAddress(run, grants), n);
        }
        if (k < 90) {
            return new MmOp.Strncpy(space, copyAddress(run, grants) - rnd.nextInt(MmOracleRun.STRNCPY_COUNT));
        }
        if (k < 96 && alive.size() < MAX_SPACES) {
            return new MmOp.Fork(space);
        }
        if (alive.size() > 1) {
            return new MmOp.Exit(alive.get(1 + rnd.nextInt(alive.size() - 1)));
        }
        return new MmOp.CopyFrom(space, copyAddress(run, grants), copyLength());
    }

    private int prot() {
        int p = rnd.nextInt(8);
        if (rnd.nextInt(40) == 0) {
            p |= rnd.nextBoolean() ? 0x8 : 0x10; // PROT_SEM, and a bit Linux does not know
        }
        return p;
    }

    private MmOp mmap(MmOracleRun run, int space, List<Grant> grants) {
        int type = rnd.nextInt(100);
        int flags = type < 50 ? MapFlags.PRIVATE : type < 94 ? MapFlags.SHARED : type < 97 ? 0 : MapFlags.SHARED | MapFlags.PRIVATE;
        int place = rnd.nextInt(100);
        long addr;
        if (place < 40) {
            flags |= MapFlags.FIXED;
            addr = fixedAddress(run, grants);
        } else if (place < 58) {
            flags |= MapFlags.FIXED_NOREPLACE;
            addr = fixedAddress(run, grants);
        } else if (place < 63) {
            flags |= MapFlags.FIXED | MapFlags.FIXED_NOREPLACE;
            addr = fixedAddress(run, grants);
        } else if (place < 72) {
            addr = 0;
        } else {
            addr = point(run, grants);
            if (rnd.nextInt(3) == 0) {
                addr += 1 + rnd.nextLong(PAGE - 1); // unaligned hint
            }
        }
        if (rnd.nextInt(5) == 0) {
            flags |= MapFlags.POPULATE;
        }
        long length = mapLength(run);
        if (rnd.nextInt(5) < 2) {
            int file = rnd.nextInt(MmOracleRun.FILES);
            long filePages = (run.fileSize(file) + PAGE - 1) / PAGE;
            long offset = rnd.nextLong(filePages + 2) * PAGE;
            int o = rnd.nextInt(40);
            if (o == 0) {
                offset += 1 + rnd.nextInt((int) PAGE - 1);
            } else if (o == 1) {
                offset = -PAGE;
            } else if (o == 2) {
                offset = Long.MAX_VALUE & -PAGE;
            }
            return new MmOp.Mmap(space, addr, length, prot(), flags, file, offset);
        }
        return new MmOp.Mmap(space, addr, length, prot(), flags, -1, 0);
    }

    private long mapLength(MmOracleRun run) {
        int k = rnd.nextInt(100);
        if (k < 3) {
            return 0;
        }
        if (k < 5) {
            return -PAGE;
        }
        if (k < 7) {
            return rnd.nextBoolean() ? run.size() + PAGE : 1L << 47;
        }
        long pages = k < 80 ? 1 + rnd.nextInt(4) : 1 + rnd.nextInt(16);
        return k % 5 == 0 ? pages * PAGE - rnd.nextInt((int) PAGE) : pages * PAGE;
    }

    /** Page-aligned mostly: at an edge of a mapping or anywhere; sometimes unaligned, low, past the end or negative. */
    private long fixedAddress(MmOracleRun run, List<Grant> grants) {
        int k = rnd.nextInt(100);
        if (k < 3) {
            return rnd.nextLong(MmOracleRun.MIN / PAGE) * PAGE; // below MIN_ADDRESS
        }
        if (k < 5) {
            return point(run, grants) + 1 + rnd.nextInt((int) PAGE - 1);
        }
        if (k < 7) {
            return run.size() - rnd.nextInt(3) * PAGE;
        }
        if (k < 8) {
            return -PAGE * (1 + rnd.nextInt(4));
        }
        return point(run, grants);
    }

    /** A page boundary of interest: a mapping's start or end, give or take a page, or any page from MIN_ADDRESS to the end. */
    private long point(MmOracleRun run, List<Grant> grants) {
        long sizePages = run.size() / PAGE;
        long minPage = MmOracleRun.MIN / PAGE;
        if (!grants.isEmpty() && rnd.nextInt(4) != 0) {
            Grant g = grants.get(rnd.nextInt(grants.size()));
            long p = switch (rnd.nextInt(5)) {
                case 0, 1 -> g.start();
                case 2 -> g.end();
                case 3 -> g.start() + rnd.nextLong(g.pages());
                default -> rnd.nextBoolean() ? g.start() - 1 : g.end() + 1;
            };
            return Math.clamp(p, minPage, sizePages) * PAGE;
        }
        return (minPage + rnd.nextLong(sizePages - minPage)) * PAGE;
    }

    /** The range of a munmap, mprotect, madvise or msync: half the time whole pages inside one mapping. */
    private long[] range(MmOracleRun run, List<Grant> grants) {
        if (!grants.isEmpty() && rnd.nextBoolean()) {
            Grant g = grants.get(rnd.nextInt(grants.size()));
            long first = g.start() + rnd.nextLong(g.pages());
            long pages = 1 + rnd.nextLong(g.end() - first);
            return new long[] {first * PAGE, pages * PAGE};
        }
        return new long[] {start(run, grants), rangeLength(run, grants)};
    }

    /** Where munmap, mprotect, madvise and msync start. */
    private long start(MmOracleRun run, List<Grant> grants) {
        int k = rnd.nextInt(100);
        if (k < 8) {
            return point(run, grants) + 1 + rnd.nextInt((int) PAGE - 1);
        }
        if (k < 10) {
            return -PAGE * (1 + rnd.nextInt(2));
        }
        if (k < 12) {
            return rnd.nextLong(MmOracleRun.MIN / PAGE + 1) * PAGE;
        }
        if (k < 14) {
            return run.size() - rnd.nextInt(2) * PAGE;
        }
        return point(run, grants);
    }

    /** Lengths of munmap, mprotect, madvise and msync. */
    private long rangeLength(MmOracleRun run, List<Grant> grants) {
        int k = rnd.nextInt(100);
        if (k < 5) {
            return 0;
        }
        if (k < 7) {
            return -1;
        }
        if (k < 9) {
            return Long.MIN_VALUE + PAGE;
        }
        if (k < 11) {
            return 1L << 47;
        }
        if (k < 13) {
            return run.size();
        }
        long pages = 1 + (k < 70 ? rnd.nextInt(4) : rnd.nextInt(24));
        return k % 6 == 0 ? pages * PAGE - 1 - rnd.nextInt((int) PAGE - 1) : pages * PAGE;
    }

    /** Inside a mapping, near a mapping's edge (a page boundary, give or take 64 bytes), or near the end of the address space. */
    private long copyAddress(MmOracleRun run, List<Grant> grants) {
        int k = rnd.nextInt(100);
        if (k < 6) {
            return run.size() - rnd.nextInt(80);
        }
        if (k < 8) {
            return -rnd.nextInt(64) - 1;
        }
        if (k < 50 && !grants.isEmpty()) {
            Grant g = grants.get(rnd.nextInt(grants.size()));
            return g.start() * PAGE + rnd.nextLong(g.pages() * PAGE); // anywhere inside a mapping
        }
        return point(run, grants) + rnd.nextInt(129) - 64;
    }

    private int copyLength() {
        int k = rnd.nextInt(100);
        if (k < 5) {
            return 0;
        }
        if (k < 60) {
            return 1 + rnd.nextInt(128);
        }
        if (k < 90) {
            return 1 + rnd.nextInt((int) (2 * PAGE));
        }
        return 1 + rnd.nextInt((int) (5 * PAGE));
    }

    /** A list of ops as a source, for replays and shrinking. */
    static MmOracleRun.OpSource replay(List<MmOp> ops) {
        List<MmOp> copy = new ArrayList<>(ops);
        return new MmOracleRun.OpSource() {
            private int at;

            @Override
            public MmOp next(MmOracleRun run) {
                return at < copy.size() ? copy.get(at++) : null;
            }
        };
    }
}
