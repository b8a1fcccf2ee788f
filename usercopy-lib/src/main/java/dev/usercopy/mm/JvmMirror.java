package dev.usercopy.mm;

import java.util.List;

import dev.usercopy.platform.Reservation;

import static dev.usercopy.mm.PageTable.PAGE;

/**
 * The mirror the kernel's own copies run through: the address space's
 * {@link Reservation} in the JVM, kept exact at once (never lagging), with
 * {@link HostMap}, the model of its host mappings that the VMA budget counts.
 */
final class JvmMirror implements HostMirror {
    private final Reservation reservation;
    private final HostMap model;
    private final MemoryManager mm;

    JvmMirror(Reservation reservation, long pages, MemoryManager mm) {
        this.reservation = reservation; // guest 0 is its first byte
        this.model = new HostMap(pages);
        this.mm = mm;
        mm.vmasChanged(model.vmas() + 1); // and the guard page
    }

    Reservation reservation() {
        return reservation;
    }

    @Override
    public void map(long from, long to, long frame, int prot) {
        if (model.maps(from, to, frame, prot)) {
            return;
        }
        long before = model.vmas();
        HostMap.Run run = model.at(from);
        if (run != null && run.end() >= to && run.frameAt(from) == frame) {
            // The frames are mapped here already (parked, or with another protection): only the
            // protection changes, which costs the host a fraction of a new mapping, and the page
            // table entries a parked page kept come back with it (no second fault on the access).
            reservation.protect(from * PAGE, (to - from) * PAGE, prot);
        } else {
            // Populate writable mappings: they are about to be written (a write fault, a fork's child
            // that shares the parent's written frames); read-only ones may map zeroed frames lazily.
            reservation.map(from * PAGE, mm.memory, frame, to - from, prot, (prot & Prot.WRITE) != 0);
        }
        model.map(from, to - from, frame, prot);
        mm.vmasChanged(model.vmas() - before);
    }

    /**
     * Guest pages [from, to) should map nothing: their host mappings are
     * parked where the VMA budget has room ({@link MemoryManager#mayPark}),
     * else given back to the reserved state. A parked run keeps mapping its
     * frames with {@code PROT_NONE}: no copy reaches them, and a later fault
     * that maps the same frames at the same pages (the fault path asks for
     * them, {@link #parkedFrame}) only changes the protection back. The
     * frames themselves are free to go anywhere meanwhile.
     */
    @Override
    public void unmap(long from, long to) {
        List<HostMap.Run> runs = model.within(from, to);
        if (runs.isEmpty()) {
            return;
        }
        long before = model.vmas();
        // Parking costs at most a mapping a run and the two merges an unmap would make. Where the
        // budget cannot spare that, the range goes back to the reserved state, parked runs too, as
        // the operation's price (HostSync#costOf, #reserveUnmap) assumed.
        if (mm.mayPark(runs.size() + 2)) {
            for (HostMap.Run r : runs) {
                if (r.prot() != Prot.NONE) {
                    reservation.protect(r.start() * PAGE, r.pages() * PAGE, Prot.NONE);
                    model.map(r.start(), r.pages(), r.frame(), Prot.NONE);
                }
            }
        } else {
            reservation.unmap(from * PAGE, (to - from) * PAGE);
            model.unmap(from, to - from);
        }
        mm.vmasChanged(model.vmas() - before);
    }

    /** Gives [from, to) back to the reserved state whatever it maps (parked runs, when the VMA budget wants them). */
    void release(long from, long to) {
        if (!model.anyIn(from, to)) {
            return;
        }
        long before = model.vmas();
        reservation.unmap(from * PAGE, (to - from) * PAGE);
        model.unmap(from, to - from);
        mm.vmasChanged(model.vmas() - before);
    }

    /** The frame the host maps at {@code page} while nothing may reach it (parked), or -1. */
    long parkedFrame(long page) {
        HostMap.Run run = model.at(page);
        return run != null && run.prot() == Prot.NONE ? run.frameAt(page) : -1;
    }

    /** Changes only the protection of [from, to), which maps {@code frame...}: cheaper than a new mapping. */
    void protect(long from, long to, long frame, int prot) {
        long before = model.vmas();
        reservation.protect(from * PAGE, (to - from) * PAGE, prot);
        model.map(from, to - from, frame, prot);
        mm.vmasChanged(model.vmas() - before);
    }

    /** The host mappings over the guest range, by the model. */
    long vmas() {
        return model.vmas();
    }

    /** The host mappings the kernel has over the guest range (reads /proc/self/maps). */
    long measured() {
        return reservation.hostMappings();
    }

    HostMap model() {
        return model;
    }

    /** A copy of the model around [from, to), to price a change before making it. */
    HostMap trial(long from, long to) {
        return model.scratch(from, to);
    }

    /** ENOMEM unless unmapping [from, to) fits the VMA budget: a hole inside a host mapping splits it; a whole one merges. */
    void reserveUnmap(long from, long to) {
        HostMap trial = trial(from, to);
        long before = trial.vmas();
        trial.unmap(from, to - from);
        mm.reserveVmas(trial.vmas() - before);
    }

    /** Closes the range: copies still in flight stop at their next byte (EFAULT). */
    void close() {
        reservation.close(); // PROT_NONE at once: no copy reaches a frame after this
        mm.vmasChanged(-(model.vmas() + 1));
    }
}
