package dev.usercopy.cli.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.HostMapping;
import dev.usercopy.platform.Posix;

/**
 * First-touch demand paging: map 16 MiB, write one byte in every page,
 * unmap. {@link #guest} does it in a guest address space through usercopy
 * (each write that meets a lazy page faults, is resolved and resumes;
 * fault-around maps {@code faultAround} pages at a time); {@link #host}
 * does the same to a fresh anonymous host mapping, the host kernel's own
 * first touch. Both count their mmap and munmap.
 */
public final class FirstTouchWorkload implements Workload {
    /** Pages an operation touches: 16 MiB. */
    public static final int PAGES = 4096;
    private static final long PAGE = Posix.PAGE_SIZE;

    public record Params(int faultAround) {}

    private final Params params;
    private final MemoryManager mm;
    private final AddressSpace space;
    private final byte[] one = {1};

    public FirstTouchWorkload(Params p) {
        this.params = p;
        mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(4 * PAGES).withFaultAround(p.faultAround())
                .withAddressSpaceSize(1L << 30));
        space = mm.newAddressSpace();
    }

    @Override
    public Params params() {
        return params;
    }

    /** {@link #PAGES} first touches in a guest address space. */
    public long guest() {
        long a = space.mmap(0, PAGES * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        for (int i = 0; i < PAGES; i++) {
            if (space.copyToUser(a + i * PAGE, one, 0, 1) != 0) {
                throw new IllegalStateException("first touch of page " + i + " failed");
            }
        }
        space.munmap(a, PAGES * PAGE);
        return a;
    }

    /** {@link #PAGES} first touches of fresh anonymous host memory. */
    public long host() {
        try (HostMapping m = HostMapping.anonymous(PAGES * PAGE)) {
            MemorySegment s = m.segment();
            for (int i = 0; i < PAGES; i++) {
                s.set(ValueLayout.JAVA_BYTE, i * PAGE, (byte) 1);
            }
            return m.address();
        }
    }

    @Override
    public void close() {
        mm.close();
    }
}
