package dev.usercopy.mm;

import java.util.ArrayList;
import java.util.List;

import dev.usercopy.mm.Provider.Allocated;
import dev.usercopy.mm.Provider.AllocatedShared;
import dev.usercopy.mm.Provider.External;

/**
 * fork: private pages become copy-on-write in both spaces, shared mappings
 * stay shared. The child's host mappings are made from the parent's runs,
 * one mmap a run, so the cost is one step per run and per 512 pages of page
 * table, not per page. Runs under the manager's lock.
 */
final class Fork {
    private Fork() {}

    /**
     * Readies the parent: shared anonymous grants get all their frames
     * (or each side would fill a lazy page with a frame of its own; shared
     * file pages meet again in the file's page cache), and private pages lose
     * host write access before anyone shares them.
     */
    static void prepare(SpaceState parent) {
        parent.host().releaseParked(); // the child inherits host mappings, not the parent's parked ones
        parent.mm().reserveVmas(parent.host().jvm().vmas() + 3);
        for (Grant g : parent.grants().snapshot()) {
            if (g.provider() instanceof AllocatedShared) {
                parent.faults().populateAll(g.start(), g.end(), false);
            }
        }
        List<HostMap.Run> runs = new ArrayList<>();
        parent.host().jvm().model().runs().forEach(runs::add);
        for (HostMap.Run run : runs) {
            if ((run.prot() & Prot.WRITE) == 0) {
                continue;
            }
            for (Grant g : parent.grants().in(run.start(), run.end())) {
                if (g.provider() instanceof Allocated) {
                    long s = Math.max(run.start(), g.start());
                    long e = Math.min(run.end(), g.end());
                    parent.host().protect(s, e, run.frameAt(s), run.prot() & ~Prot.WRITE);
                }
            }
        }
    }

    /** The child's page table: shared leaves, or a copy page by page ({@link MemoryManager.ForkMode}). */
    static PageTable childTable(SpaceState parent) {
        return parent.mm().config.forkMode() == MemoryManager.ForkMode.SHARED_TABLES ? parent.table().forkShared() : parent.table().forkCopied();
    }

    /** The child takes the parent's grants and host mappings; a lend's pages stay with the borrower alone. */
    static void inherit(SpaceState parent, SpaceState child) {
        child.grants().putAll(parent.grants());
        for (HostMap.Run run : parent.host().jvm().model().runs()) {
            child.host().jvm().map(run.start(), run.end(), run.frame(), run.prot());
        }
        // A lend's end must be able to take all its pages back, so the child does not keep them.
        for (Grant g : child.grants().snapshot()) {
            if (g.provider() instanceof External x && x.lent()) {
                child.host().jvm().reserveUnmap(g.start(), g.end());
                child.unmap(g.start(), g.end());
            }
        }
    }
}
