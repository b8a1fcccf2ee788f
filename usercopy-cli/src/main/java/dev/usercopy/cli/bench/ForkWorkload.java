package dev.usercopy.cli.bench;

import java.util.Arrays;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.HostMapping;
import dev.usercopy.platform.Posix;

/**
 * fork with {@code touchedMiB} of private memory written, then the child's
 * end. {@link #guest}: a guest address space's fork and the child's close,
 * in the given {@link MemoryManager.ForkMode}. {@link #host}: this JVM's own
 * fork(2), whose child exits at once, reaped by the parent, with
 * {@code touchedMiB} of anonymous host memory written. After the first fork
 * the parent's pages stay write-protected until written, on the host as in
 * the guest: the steady state.
 */
public final class ForkWorkload implements Workload {
    private static final long MIB = 1 << 20;

    public record Params(int touchedMiB, MemoryManager.ForkMode mode) {}

    private final Params params;
    private final MemoryManager mm;
    private final AddressSpace space;
    private final HostMapping hostMemory;

    public ForkWorkload(Params p) {
        this.params = p;
        long bytes = p.touchedMiB() * MIB;
        mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(bytes / Posix.PAGE_SIZE + 4096)
                .withAddressSpaceSize(Math.max(bytes, MIB) + (1L << 30)).withForkMode(p.mode()));
        space = mm.newAddressSpace();
        if (bytes > 0) {
            long a = space.mmap(0, bytes, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
            byte[] chunk = new byte[(int) MIB];
            Arrays.fill(chunk, (byte) 7);
            for (long off = 0; off < bytes; off += MIB) {
                if (space.copyToUser(a + off, chunk, 0, chunk.length) != 0) {
                    throw new IllegalStateException("writing the parent's memory failed at +" + off);
                }
            }
            hostMemory = HostMapping.anonymous(bytes);
            hostMemory.segment().fill((byte) 7);
        } else {
            hostMemory = null;
        }
    }

    @Override
    public Params params() {
        return params;
    }

    /** A guest fork and the child's close. */
    public long guest() {
        space.fork().close();
        return 0;
    }

    /** A host fork(2) of this JVM, reaped. */
    public long host() {
        Posix.forkAndReap();
        return 0;
    }

    @Override
    public void close() {
        mm.close();
        if (hostMemory != null) {
            hostMemory.close();
        }
    }
}
