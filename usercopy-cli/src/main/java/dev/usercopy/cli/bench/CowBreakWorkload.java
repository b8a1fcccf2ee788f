package dev.usercopy.cli.bench;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.Posix;

/**
 * The copy-on-write break: a forked child writes one byte in each of
 * {@link #PAGES} pages it shares with its parent, so each write faults,
 * copies the frame and maps the copy ({@link #cowBreak}, between
 * {@link #forkChild} and {@link #closeChild}, which are not timed).
 * {@link #firstTouch} is the baseline: the same writes into fresh lazy
 * pages, with their mmap and munmap. Fault-around is 1 for both, so each
 * side takes one fault a page.
 */
public final class CowBreakWorkload implements Workload {
    /** Pages an operation writes. */
    public static final int PAGES = 1024;
    private static final long PAGE = Posix.PAGE_SIZE;

    public record Params(MemoryManager.ForkMode mode) {}

    private final Params params;
    private final MemoryManager mm;
    private final AddressSpace parent;
    private final AddressSpace scratch;
    private final long base;
    private final byte[] one = {1};
    private AddressSpace child;

    public CowBreakWorkload(Params p) {
        this.params = p;
        mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(4 * PAGES + 4096).withFaultAround(1)
                .withAddressSpaceSize(1L << 30).withForkMode(p.mode()));
        parent = mm.newAddressSpace();
        base = parent.mmap(0, PAGES * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        if (parent.clearUser(base, PAGES * PAGE) != 0) {
            throw new IllegalStateException("writing the parent's pages failed");
        }
        scratch = mm.newAddressSpace();
    }

    @Override
    public Params params() {
        return params;
    }

    /** Forks the child whose pages {@link #cowBreak} writes. */
    public void forkChild() {
        child = parent.fork();
    }

    /** Ends the child {@link #forkChild} made. */
    public void closeChild() {
        child.close();
        child = null;
    }

    /** {@link #PAGES} copy-on-write breaks in the child. */
    public long cowBreak() {
        for (int i = 0; i < PAGES; i++) {
            if (child.copyToUser(base + i * PAGE, one, 0, 1) != 0) {
                throw new IllegalStateException("the child's write to page " + i + " failed");
            }
        }
        return base;
    }

    /** {@link #PAGES} first touches of fresh lazy guest pages, with their mmap and munmap. */
    public long firstTouch() {
        long a = scratch.mmap(0, PAGES * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        for (int i = 0; i < PAGES; i++) {
            if (scratch.copyToUser(a + i * PAGE, one, 0, 1) != 0) {
                throw new IllegalStateException("first touch of page " + i + " failed");
            }
        }
        scratch.munmap(a, PAGES * PAGE);
        return a;
    }

    @Override
    public void close() {
        mm.close();
    }
}
