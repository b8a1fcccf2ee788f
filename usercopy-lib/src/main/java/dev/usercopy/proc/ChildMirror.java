package dev.usercopy.proc;

import java.util.ArrayList;
import java.util.List;

import dev.usercopy.mm.HostMap;
import dev.usercopy.mm.HostMirror;
import dev.usercopy.platform.GuestStub;
import dev.usercopy.platform.Posix;

/**
 * A guest process's memory as a mirror of its address space: the child maps
 * guest page P at host address P, from the machine's frames (the memfd the
 * child holds as {@link GuestStub#FRAME_FD}).
 *
 * <p>It lags, on purpose. The address space tells it everything that is
 * present ({@link #told}), but the child maps a page only on its own first
 * touch ({@link #mapAt}), so a page the kernel's copy faulted in costs the
 * child nothing until it uses it. A change to a page the child maps (a CoW
 * break, mprotect, munmap) is noted as dirty and reaches the child in
 * {@link #catchUp}, which its tracer calls before every resume: the child
 * never runs with a mapping the page table no longer allows, and frames are
 * freed only after this mirror is told, so it never maps a freed frame once
 * it has caught up.
 *
 * <p>Calls from the address space come under the machine's lock, on whatever
 * thread changed it; the tracer's calls come on its own thread. The monitor
 * of this object orders the two.
 */
final class ChildMirror implements HostMirror {
    /** Makes a host syscall in the child: {@code long syscall(nr, args...)}, a result or {@code -errno}. */
    interface Injector {
        long syscall(int nr, long a0, long a1, long a2, long a3, long a4, long a5);
    }

    /** A host call in the child that failed: the child cannot be kept in step with its page table. */
    static final class MirrorFailure extends dev.usercopy.sys.Task.Fatal {
        final int errno;

        MirrorFailure(String call, long result) {
            super(call + " in the guest process failed: errno " + -result, true);
            this.errno = (int) -result;
        }
    }

    static final int SYS_MMAP = 9;
    static final int SYS_MPROTECT = 10;
    static final int SYS_MUNMAP = 11;
    private static final long PAGE = 4096;

    private final HostMap told;
    private final HostMap mapped;
    /** Page ranges [from, to) changed in {@link #told} where the child maps something. */
    private final List<long[]> dirty = new ArrayList<>();
    private long injected;

    ChildMirror(long pages) {
        this.told = new HostMap(pages);
        this.mapped = new HostMap(pages);
    }

    @Override
    public synchronized void map(long from, long to, long frame, int prot) {
        told.map(from, to - from, frame, prot);
        if (mapped.anyIn(from, to)) {
            dirty.add(new long[] {from, to});
        }
    }

    @Override
    public synchronized void unmap(long from, long to) {
        told.unmap(from, to - from);
        if (mapped.anyIn(from, to)) {
            dirty.add(new long[] {from, to});
        }
    }

    /** Whether a change waits to reach the child. */
    synchronized boolean lagging() {
        return !dirty.isEmpty();
    }

    /** Brings every page the child maps in line with what it was told; before the child runs again. */
    synchronized void catchUp(Injector child) {
        for (long[] range : dirty) {
            for (HostMap.Run m : mapped.within(range[0], range[1])) {
                reconcile(child, m);
            }
        }
        dirty.clear();
    }

    /** Makes the child's run {@code m} (a piece of what it maps) what {@link #told} says. */
    private void reconcile(Injector child, HostMap.Run m) {
        long p = m.start();
        for (HostMap.Run t : told.within(m.start(), m.end())) {
            if (t.start() > p) {
                unmapChild(child, p, t.start());
            }
            if (t.frame() == m.frameAt(t.start())) {
                if (t.prot() != m.prot()) {
                    call(child, "mprotect", SYS_MPROTECT, t.start() * PAGE, t.pages() * PAGE, t.prot(), 0, 0, 0);
                    mapped.map(t.start(), t.pages(), t.frame(), t.prot());
                }
            } else {
                mapChild(child, t);
            }
            p = t.end();
        }
        if (p < m.end()) {
            unmapChild(child, p, m.end());
        }
    }

    /**
     * The child touched {@code page} and the fault path has made it present:
     * maps the run of frames the page is in, as far as the child does not map
     * it yet (one host mapping, however many pages: fault-around for free). False when the page is not present,
     * or when the child maps it as told already: then the access is one the
     * guest may not make, and the fault is the guest's.
     */
    synchronized boolean mapAt(Injector child, long page) {
        HostMap.Run t = told.at(page);
        if (t == null || mapsAsTold(t, page)) {
            return false;
        }
        // Only the stretch around the page that the child does not map as told yet: mapping the
        // whole run again would make the host tear down and rebuild what it already maps, and a
        // region touched page by page would cost the square of its size. The new stretch continues
        // its neighbours' frames, so the host merges it with them into one mapping.
        long from = page;
        while (from > t.start() && !mapsAsTold(t, from - 1)) {
            from--;
        }
        long to = page + 1;
        while (to < t.end() && !mapsAsTold(t, to)) {
            to++;
        }
        mapChild(child, new HostMap.Run(from, to - from, t.frameAt(from), t.prot()));
        return true;
    }

    private boolean mapsAsTold(HostMap.Run t, long page) {
        return mapped.maps(page, page + 1, t.frameAt(page), t.prot());
    }

    private void mapChild(Injector child, HostMap.Run t) {
        call(child, "mmap", SYS_MMAP, t.start() * PAGE, t.pages() * PAGE, t.prot(), Posix.MAP_SHARED | Posix.MAP_FIXED,
                GuestStub.FRAME_FD, t.frame() * PAGE);
        mapped.map(t.start(), t.pages(), t.frame(), t.prot());
    }

    private void unmapChild(Injector child, long from, long to) {
        call(child, "munmap", SYS_MUNMAP, from * PAGE, (to - from) * PAGE, 0, 0, 0, 0);
        mapped.unmap(from, to - from);
    }

    private void call(Injector child, String name, int nr, long a0, long a1, long a2, long a3, long a4, long a5) {
        injected++;
        long r = child.syscall(nr, a0, a1, a2, a3, a4, a5);
        if (r < 0 && r >= -4095) {
            throw new MirrorFailure(name + "(0x" + Long.toHexString(a0) + ", " + a1 + ")", r);
        }
    }

    /** Host mappings the child's guest memory costs now. */
    synchronized long vmas() {
        return mapped.vmas();
    }

    /** Host calls made in the child to keep it in step. */
    synchronized long injected() {
        return injected;
    }

    /** What the child maps at {@code page}: {frame, prot}, or null; for tests. */
    synchronized long[] childMapping(long page) {
        HostMap.Run r = mapped.at(page);
        return r == null ? null : new long[] {r.frameAt(page), r.prot()};
    }
}
