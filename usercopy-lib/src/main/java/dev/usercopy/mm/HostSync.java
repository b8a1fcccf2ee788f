package dev.usercopy.mm;

import java.util.ArrayList;
import java.util.List;

import dev.usercopy.mm.Provider.Allocated;
import dev.usercopy.mm.Provider.AllocatedShared;
import dev.usercopy.mm.Provider.External;
import dev.usercopy.mm.Provider.FmapBorrowed;
import dev.usercopy.mm.Provider.PhysBorrowed;

import static dev.usercopy.mm.PageTable.BORROWED;
import static dev.usercopy.mm.PageTable.PAGE;
import static dev.usercopy.mm.PageTable.ZERO;

/**
 * Keeps the host mirrors of one address space in step with its grants and
 * page table. Every present page is mirrored with the protection its grant
 * allows, less write while the page is a zeroed frame, copy-on-write, or a
 * clean page of a shared file; so a guest access the host refuses means "not
 * present" or "not writable yet", and goes to the fault path.
 *
 * <p>The JVM's mirror is always first and always exact; other mirrors
 * ({@link #attach}) hear the same runs.
 */
final class HostSync {
    private final UserGrants grants;
    private final PageTable table;
    private final PageInfo info;
    private final JvmMirror jvm;
    private final List<HostMirror> mirrors = new ArrayList<>();

    HostSync(UserGrants grants, PageTable table, PageInfo info, JvmMirror jvm) {
        this.grants = grants;
        this.table = table;
        this.info = info;
        this.jvm = jvm;
        mirrors.add(jvm);
    }

    JvmMirror jvm() {
        return jvm;
    }

    /** Adds a mirror and tells it every page that is mapped now (not the JVM's parked ones). */
    void attach(HostMirror mirror) {
        for (HostMap.Run run : jvm.model().runs()) {
            if (run.prot() != Prot.NONE) {
                mirror.map(run.start(), run.end(), run.frame(), run.prot());
                continue;
            }
            for (long[] s : stretches(run, false)) { // present pages of PROT_NONE grants among parked ones
                mirror.map(s[0], s[1], run.frameAt(s[0]), Prot.NONE);
            }
        }
        mirrors.add(mirror);
    }

    /** Gives the JVM mirror's parked host mappings back to the reserved state (the VMA budget wants them). */
    void releaseParked() {
        List<long[]> parked = new ArrayList<>();
        for (HostMap.Run run : jvm.model().runs()) {
            if (run.prot() == Prot.NONE) {
                parked.addAll(stretches(run, true));
            }
        }
        for (long[] r : parked) {
            jvm.release(r[0], r[1]);
        }
    }

    /**
     * The stretches [from, to) of a {@code PROT_NONE} run of the JVM's mirror
     * that are parked, or (with {@code parked} false) that map present pages:
     * only a grant without access maps its present pages {@code PROT_NONE},
     * so a run no such grant overlaps is parked whole.
     */
    private List<long[]> stretches(HostMap.Run run, boolean parked) {
        boolean inaccessibleGrant = false;
        for (Grant g : grants.in(run.start(), run.end())) {
            inaccessibleGrant |= (g.prot() & Prot.ALL) == 0 && !Prot.readable(g.prot());
        }
        if (!inaccessibleGrant) {
            return parked ? List.of(new long[] {run.start(), run.end()}) : List.of();
        }
        List<long[]> out = new ArrayList<>();
        for (long p = run.start(); p < run.end(); ) {
            long q = p + 1;
            boolean isParked = desired(grants.at(p), p) == null;
            while (q < run.end() && (desired(grants.at(q), q) == null) == isParked) {
                q++;
            }
            if (isParked == parked) {
                out.add(new long[] {p, q});
            }
            p = q;
        }
        return out;
    }

    void detach(HostMirror mirror) {
        if (mirror != jvm) {
            mirrors.remove(mirror);
        }
    }

    /** What the host should map at {@code page}: {frame, prot}, or null for nothing. */
    long[] desired(Grant g, long page) {
        long pte = table.get(page);
        if (g == null || !PageTable.present(pte)) {
            return null;
        }
        int prot = g.prot() & Prot.ALL;
        if (Prot.readable(g.prot())) {
            prot |= Prot.READ; // x86 reads a writable page: taking write away must not take reading too
        }
        if ((prot & Prot.WRITE) != 0 && !writableNow(g, page, pte)) {
            prot &= ~Prot.WRITE;
        }
        return new long[] {PageTable.frame(pte), prot};
    }

    /** Whether a present page may be mapped writable now (its grant allowing it). */
    boolean writableNow(Grant g, long page, long pte) {
        if ((pte & ZERO) != 0) {
            return false;
        }
        if ((pte & BORROWED) != 0) {
            return true;
        }
        return switch (g.provider()) {
            case FmapBorrowed f -> info.isWritten(PageTable.frame(pte));
            case Allocated a -> info.isShared(PageTable.frame(pte)) || (!table.leafShared(page) && info.refcount(PageTable.frame(pte)) == 1);
            case AllocatedShared s -> true;
            case External x -> (pte & PageTable.LENT_WRITABLE) != 0;
            case PhysBorrowed b -> true;
        };
    }

    /** Brings every mirror of [from, to) in line with the grants and the page table. */
    void sync(long from, long to) {
        long p = from;
        while (p < to) {
            Grant g = grants.at(p);
            long[] want = desired(g, p);
            long q = p + 1;
            if (want == null) {
                long gEnd = g == null ? grants.nextStart(p, to) : Math.min(g.end(), to);
                while (q < gEnd && desired(g, q) == null) {
                    q++;
                }
                for (HostMirror m : mirrors) {
                    m.unmap(p, q);
                }
            } else {
                long gEnd = Math.min(g.end(), to);
                while (q < gEnd && continues(want, desired(g, q), q - p)) {
                    q++;
                }
                for (HostMirror m : mirrors) {
                    m.map(p, q, want[0], (int) want[1]);
                }
            }
            p = q;
        }
    }

    /** Takes every mirror's access to [from, to) away now, before the pages' frames are let go. */
    void takeAway(long from, long to) {
        for (HostMirror m : mirrors) {
            m.unmap(from, to);
        }
    }

    /** [from, to), which maps {@code frame...}, becomes {@code prot} in every mirror (fork takes write away). */
    void protect(long from, long to, long frame, int prot) {
        for (HostMirror m : mirrors) {
            if (m == jvm) {
                jvm.protect(from, to, frame, prot);
            } else {
                m.map(from, to, frame, prot);
            }
        }
    }

    /** How many JVM host mappings giving the grants in [from, to) protection {@code prot} adds (negative: frees). */
    long costOf(long from, long to, int prot) {
        HostMap trial = jvm.trial(from, to);
        long before = trial.vmas();
        long p = from;
        while (p < to) {
            Grant g = grants.at(p);
            long[] want = g == null ? null : desired(g.withProt(prot), p);
            long q = p + 1;
            while (q < to && continues(want, g == null ? null : desired(g.withProt(prot), q), q - p)) {
                q++;
            }
            if (want == null) {
                trial.unmap(p, q - p);
            } else {
                trial.map(p, q - p, want[0], (int) want[1]);
            }
            p = q;
        }
        return trial.vmas() - before;
    }

    /** Whether {@code next}, {@code distance} pages on, continues the stretch {@code first} starts. */
    private static boolean continues(long[] first, long[] next, long distance) {
        return first == null ? next == null : next != null && next[0] == first[0] + distance && next[1] == first[1];
    }

    /**
     * Throws if the JVM's mirror maps another frame than the page table, or
     * allows more than it: less is allowed (after the other side of a
     * copy-on-write pair breaks it, this side may write, and learns so at its
     * next write fault).
     */
    void check() {
        HostMap model = jvm.model();
        for (HostMap.Run run : model.runs()) {
            for (long p = run.start(); p < run.end(); p++) {
                long[] want = desired(grants.at(p), p);
                if (want == null && run.prot() == Prot.NONE) {
                    continue; // parked: nothing reaches the frame
                }
                if (want == null || want[0] != run.frameAt(p) || (run.prot() & ~want[1]) != 0) {
                    throw new IllegalStateException("guest page 0x" + Long.toHexString(p * PAGE) + " is host-mapped to frame "
                            + run.frameAt(p) + " " + Prot.toString(run.prot()) + " but should be "
                            + (want == null ? "unmapped" : "frame " + want[0] + " " + Prot.toString((int) want[1])));
                }
            }
        }
        for (Grant g : grants.values()) {
            for (long p = table.nextPresent(g.start(), g.end()); p >= 0; p = table.nextPresent(p + 1, g.end())) {
                if (model.at(p) == null) {
                    throw new IllegalStateException("guest page 0x" + Long.toHexString(p * PAGE) + " is present but not host-mapped");
                }
            }
        }
        if (model.recount() != model.vmas()) {
            throw new IllegalStateException("VMA count " + model.vmas() + " but the runs make " + model.recount());
        }
    }
}
