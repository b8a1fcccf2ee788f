package dev.usercopy.cli.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import dev.usercopy.platform.HostMapping;
import dev.usercopy.platform.Posix;
import dev.usercopy.platform.UserCopy;

import static dev.usercopy.platform.Posix.PROT_NONE;

/**
 * One EFAULT round trip: a copy of {@code before + 64} bytes from memory
 * that turns {@code PROT_NONE} after {@code before} bytes, so it faults at
 * byte 0 or at byte n and returns 64; {@link #readable} copies only the
 * readable bytes. The difference is one fault: the trap, the host kernel's
 * signal delivery, usercopy's handler, the fixup and {@code rt_sigreturn}.
 */
public final class FaultPathWorkload implements Workload {
    /** Bytes the faulting copy asks for past the readable ones. */
    public static final int PAST = 64;

    public record Params(int before, UserCopy.Form form) {}

    private final Params params;
    private final HostMapping mapping;
    // Confined, as in CopyWorkload: a shared arena's acquire and release would swamp a small copy.
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment all;
    private final MemorySegment readable;
    private final long start;

    public FaultPathWorkload(Params p) {
        this.params = p;
        long page = Posix.PAGE_SIZE;
        if (p.before() < 0 || p.before() > 2 * page) {
            throw new IllegalArgumentException("before must be in 0.." + 2 * page + ", not " + p.before());
        }
        mapping = HostMapping.anonymous(3 * page);
        mapping.segment().fill((byte) 7);
        mapping.protect(2 * page, page, PROT_NONE);
        start = mapping.address() + 2 * page - p.before();
        all = arena.allocate(p.before() + PAST, 64);
        readable = all.asSlice(0, p.before());
        if (faulting() != PAST) {
            throw new IllegalStateException("a copy " + p.before() + " bytes before the boundary did not stop there");
        }
        if (readable() != 0) {
            throw new IllegalStateException("the readable bytes did not copy");
        }
    }

    @Override
    public Params params() {
        return params;
    }

    /** Copies {@code before + 64} bytes; the first {@code before} arrive, the rest fault: returns 64. */
    public long faulting() {
        return UserCopy.copyFromUser(params.form(), all, start);
    }

    /** The baseline: the {@code before} readable bytes, no fault. */
    public long readable() {
        return UserCopy.copyFromUser(params.form(), readable, start);
    }

    @Override
    public void close() {
        arena.close();
        mapping.close();
    }
}
