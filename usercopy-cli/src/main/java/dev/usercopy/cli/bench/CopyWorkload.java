package dev.usercopy.cli.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.usercopy.platform.HostMapping;
import dev.usercopy.platform.Posix;
import dev.usercopy.platform.UserCopy;

/**
 * One copy of {@code size} bytes between "guest" memory (a private anonymous
 * host mapping, every byte written first, so no copy meets a page fault or
 * the shared zero page) and a kernel buffer, native (page aligned, from a
 * confined arena) or a {@code byte[]}. The offsets count from page-aligned
 * bases, so the destination is {@code dstMisalign - srcMisalign} bytes ahead
 * of the source modulo 4 KiB, which decides {@code rep movsb}'s speed on Zen 4.
 * The constructor checks that every form and {@code MemorySegment.copy} copy
 * exactly the right bytes: a benchmark of a broken copy measures nothing.
 */
public final class CopyWorkload implements Workload {
    /** The largest misalignment a benchmark may ask for; buffers carry this much slack. */
    public static final int MAX_MISALIGN = 63;

    public enum Direction { FROM_USER, TO_USER }

    public enum Kernel { NATIVE, HEAP }

    public record Params(int size, int srcMisalign, int dstMisalign, Direction direction, Kernel kernel) {
        public Params {
            if (srcMisalign < 0 || srcMisalign > MAX_MISALIGN || dstMisalign < 0 || dstMisalign > MAX_MISALIGN) {
                throw new IllegalArgumentException("misalignments must be in 0.." + MAX_MISALIGN + ", not " + srcMisalign + " and " + dstMisalign);
            }
        }
    }

    private final Params params;
    private final HostMapping guest;
    // Confined: a shared arena makes every downcall that takes one of its segments acquire and
    // release the arena with atomic operations, tens of ns that would swamp a small copy.
    private final Arena arena = Arena.ofConfined();
    /** Guest address of the copy's guest end. */
    private final long user;
    /** The kernel end of the copy. */
    private final MemorySegment kernelSide;
    private final MemorySegment src;
    private final MemorySegment dst;
    private final MemorySegment expected;

    public CopyWorkload(Params p) {
        this.params = p;
        long span = (long) p.size() + MAX_MISALIGN + 1;
        long page = Posix.PAGE_SIZE;
        guest = HostMapping.anonymous((span + page - 1) / page * page);
        MemorySegment all = guest.segment();
        for (long i = 0; i < all.byteSize(); i++) {
            all.set(ValueLayout.JAVA_BYTE, i, pattern(i));
        }
        MemorySegment buffer = p.kernel() == Kernel.NATIVE
                ? arena.allocate(span, page)
                : MemorySegment.ofArray(new byte[Math.toIntExact(span)]);
        buffer.fill((byte) 1);
        boolean fromUser = p.direction() == Direction.FROM_USER;
        int guestOffset = fromUser ? p.srcMisalign() : p.dstMisalign();
        int kernelOffset = fromUser ? p.dstMisalign() : p.srcMisalign();
        user = guest.address() + guestOffset;
        kernelSide = buffer.asSlice(kernelOffset, p.size());
        MemorySegment userSegment = all.asSlice(guestOffset, p.size());
        src = fromUser ? userSegment : kernelSide;
        dst = fromUser ? kernelSide : userSegment;
        expected = MemorySegment.ofArray(src.toArray(ValueLayout.JAVA_BYTE));
        for (UserCopy.Form form : UserCopy.Form.values()) {
            dst.fill((byte) 0);
            check(form.toString(), usercopy(form));
        }
        dst.fill((byte) 0);
        segmentCopy();
        check("MemorySegment.copy", 0);
    }

    /** The byte the guest memory holds at offset {@code i}: not constant, so a wrong offset shows in a check. */
    static byte pattern(long i) {
        return (byte) (i * 31 + 7 + (i >>> 12));
    }

    @Override
    public Params params() {
        return params;
    }

    /** One copy through usercopy's {@code form}; the bytes not copied (0). */
    public long usercopy(UserCopy.Form form) {
        return params.direction() == Direction.FROM_USER
                ? UserCopy.copyFromUser(form, kernelSide, user)
                : UserCopy.copyToUser(form, user, kernelSide);
    }

    public long flat() {
        return usercopy(UserCopy.Form.FLAT);
    }

    public long aligned() {
        return usercopy(UserCopy.Form.ALIGNED);
    }

    public long adaptive() {
        return usercopy(UserCopy.Form.ADAPTIVE);
    }

    /** {@link MemorySegment#copy}: no downcall, no fault fixup; the baseline. */
    public long segmentCopy() {
        MemorySegment.copy(src, 0, dst, 0, params.size());
        return params.size();
    }

    /** The copy's source, for baselines of other kinds (memcpy). */
    public MemorySegment src() {
        return src;
    }

    /** The copy's destination. */
    public MemorySegment dst() {
        return dst;
    }

    /** Zeroes the destination, before a copy that {@link #check} then checks. */
    public void clearDestination() {
        dst.fill((byte) 0);
    }

    /** Fails unless a copy left nothing and the destination holds the source's bytes. */
    public void check(String what, long notCopied) {
        if (notCopied != 0) {
            throw new IllegalStateException(what + ": " + notCopied + " bytes not copied");
        }
        long at = expected.mismatch(dst);
        if (at != -1) {
            throw new IllegalStateException(what + ": copy differs at byte " + at);
        }
    }

    @Override
    public void close() {
        arena.close();
        guest.close();
    }
}
