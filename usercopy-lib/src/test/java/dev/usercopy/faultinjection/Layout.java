package dev.usercopy.faultinjection;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The plain-Java reference model of a run of user pages: what each page is
 * and the bytes a reader would see. Bytes past the last page are unmapped.
 * Copies update {@link #content} as the real memory must change.
 */
final class Layout {
    static final int PAGE = 4096;

    final PageKind[] kinds;
    /** What each byte holds now; for pages that are not readable, what they held (never observed). */
    final byte[] content;

    Layout(PageKind[] kinds, byte[] content) {
        if (content.length != kinds.length * PAGE) {
            throw new IllegalArgumentException(content.length + " bytes for " + kinds.length + " pages");
        }
        this.kinds = kinds;
        this.content = content;
    }

    int pages() {
        return kinds.length;
    }

    long size() {
        return (long) kinds.length * PAGE;
    }

    PageKind kindAt(long offset) {
        return offset >= 0 && offset < size() ? kinds[(int) (offset / PAGE)] : null;
    }

    boolean readable(long offset) {
        PageKind k = kindAt(offset);
        return k != null && k.readable;
    }

    boolean writable(long offset) {
        PageKind k = kindAt(offset);
        return k != null && k.writable;
    }

    /** Bytes from {@code offset} (up to {@code length}) a copy may touch before the first it may not. */
    long reach(long offset, long length, boolean write) {
        long i = 0;
        while (i < length) {
            long at = offset + i;
            if (write ? !writable(at) : !readable(at)) {
                return i;
            }
            i = Math.min(length, (at / PAGE + 1) * PAGE - offset); // the rest of this page is alike
        }
        return length;
    }

    /**
     * A random layout of {@code pages} pages of the given level's kinds, in
     * runs (so neighbours are often alike, as real mappings are), with bytes
     * whose NULs come at a random density (so strings end anywhere).
     */
    static Layout random(SplittableRandom rnd, boolean host, int pages) {
        PageKind[] choice = PageKind.ofLevel(host);
        PageKind[] kinds = new PageKind[pages];
        int p = 0;
        while (p < pages) {
            PageKind k = choice[rnd.nextInt(choice.length)];
            int run = rnd.nextInt(8) == 0 ? 1 + rnd.nextInt(Math.max(1, pages)) : 1 + rnd.nextInt(3);
            for (int i = 0; i < run && p < pages; i++) {
                kinds[p++] = k;
            }
        }
        return new Layout(kinds, randomBytes(rnd, pages * PAGE));
    }

    static byte[] randomBytes(SplittableRandom rnd, int n) {
        byte[] b = new byte[n];
        int nulEvery = 1 << (4 + rnd.nextInt(12)); // one NUL in 16 .. 32768 bytes
        for (int i = 0; i < n; i++) {
            int v = rnd.nextInt(nulEvery) == 0 ? 0 : 1 + rnd.nextInt(255);
            b[i] = (byte) v;
        }
        return b;
    }

    /** Pages [from, to) as a layout of their own, content and all. */
    Layout slice(int from, int to) {
        return new Layout(Arrays.copyOfRange(kinds, from, to), Arrays.copyOfRange(content, from * PAGE, to * PAGE));
    }

    Layout with(int page, PageKind kind) {
        PageKind[] k = kinds.clone();
        k[page] = kind;
        return new Layout(k, content.clone());
    }

    Layout copy() {
        return new Layout(kinds.clone(), content.clone());
    }

    /** The kinds as runs, e.g. {@code [2 x guest rw private, 1 x guest PROT_NONE]}. */
    String describe() {
        List<String> runs = new ArrayList<>();
        int i = 0;
        while (i < kinds.length) {
            int j = i;
            while (j < kinds.length && kinds[j] == kinds[i]) {
                j++;
            }
            runs.add((j - i) + " x " + kinds[i].name());
            i = j;
        }
        return "[" + String.join(", ", runs) + "]";
    }
}
