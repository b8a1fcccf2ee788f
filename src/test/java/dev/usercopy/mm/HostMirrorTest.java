package dev.usercopy.mm;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The seam a guest process attaches to: a mirror attached to an address
 * space at any time, told the pages mapped then and every change after,
 * maps exactly what the JVM's own mirror maps, page by page, after every
 * operation (mmap, writes, mprotect, munmap, madvise, fork and the
 * copy-on-write breaks after it).
 */
class HostMirrorTest extends MmScenario {
    static final int RW = Prot.READ | Prot.WRITE;
    static final int PAGES = 64;

    /** A mirror that only remembers what it was told, page by page. */
    static final class Recording implements HostMirror {
        final TreeMap<Long, long[]> pages = new TreeMap<>();
        long calls;

        @Override
        public void map(long from, long to, long frame, int prot) {
            calls++;
            for (long p = from; p < to; p++) {
                pages.put(p, new long[] {frame + (p - from), prot});
            }
        }

        @Override
        public void unmap(long from, long to) {
            calls++;
            pages.subMap(from, true, to, false).clear();
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42, 20261128})
    void anAttachedMirrorMapsWhatTheJvmMaps(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        machine();
        List<AddressSpace> spaces = new ArrayList<>(List.of(space()));
        List<Recording> mirrors = new ArrayList<>();
        mirrors.add(null);
        for (int step = 0; step < 400; step++) {
            int i = rnd.nextInt(spaces.size());
            AddressSpace as = spaces.get(i);
            long at = BASE + PAGE * rnd.nextInt(PAGES);
            long len = PAGE * (1 + rnd.nextInt(8));
            String op = "?";
            try {
                switch (rnd.nextInt(9)) {
                    case 0 -> {
                        op = "mmap";
                        as.mmap(at, len, rnd.nextBoolean() ? RW : Prot.READ, (rnd.nextBoolean() ? MapFlags.PRIVATE : MapFlags.SHARED) | MapFlags.FIXED);
                    }
                    case 1, 2 -> {
                        op = "write";
                        int n = 1 + rnd.nextInt(9000);
                        as.copyToUser(at + rnd.nextInt((int) PAGE), new byte[n], 0, n);
                    }
                    case 3 -> {
                        op = "read";
                        as.copyFromUser(new byte[300], 0, at + rnd.nextInt((int) PAGE), 300);
                    }
                    case 4 -> {
                        op = "mprotect";
                        as.mprotect(at, len, rnd.nextInt(8));
                    }
                    case 5 -> {
                        op = "munmap";
                        as.munmap(at, len);
                    }
                    case 6 -> {
                        op = "madvise";
                        as.madviseDontNeed(at, len);
                    }
                    case 7 -> {
                        op = "fork";
                        if (spaces.size() < 4) {
                            spaces.add(fork(as));
                            mirrors.add(null);
                        }
                    }
                    default -> {
                        op = "attach";
                        if (mirrors.get(i) == null) {
                            Recording r = new Recording();
                            as.attach(r);
                            mirrors.set(i, r);
                        }
                    }
                }
            } catch (ErrnoException e) {
                // an errno is an answer; the mirrors must still agree
            }
            for (int j = 0; j < spaces.size(); j++) {
                Recording r = mirrors.get(j);
                if (r != null) {
                    for (long p = BASE / PAGE; p < BASE / PAGE + PAGES + 8; p++) {
                        long[] want = spaces.get(j).jvmMapping(p);
                        long[] got = r.pages.get(p);
                        String where = "seed " + seed + " step " + step + " (" + op + " on space " + i + "), space " + j + " page 0x"
                                + Long.toHexString(p * PAGE);
                        if (want == null) {
                            assertEquals(null, got, where);
                        } else {
                            assertArrayEquals(want, got, where);
                        }
                    }
                }
            }
            check();
        }
    }
}
