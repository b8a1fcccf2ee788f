package dev.usercopy.mm;

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
        // Populate writable mappings: they are about to be written (a write fault, a fork's child
        // that shares the parent's written frames); read-only ones may map zeroed frames lazily.
        reservation.map(from * PAGE, mm.memory, frame, to - from, prot, (prot & Prot.WRITE) != 0);
        model.map(from, to - from, frame, prot);
        mm.vmasChanged(model.vmas() - before);
    }

    @Override
    public void unmap(long from, long to) {
        if (!model.anyIn(from, to)) {
            return;
        }
        long before = model.vmas();
        reservation.unmap(from * PAGE, (to - from) * PAGE);
        model.unmap(from, to - from);
        mm.vmasChanged(model.vmas() - before);
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
