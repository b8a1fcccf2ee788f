package dev.usercopy.platform;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * glibc's {@code struct sigaction} on x86-64, in the shape jextract generates:
 * 152 bytes, the handler union at 0, {@code sa_mask} (a 1024-bit sigset_t) at 8,
 * {@code sa_flags} at 136, {@code sa_restorer} at 144.
 */
@SuppressWarnings("checkstyle:TypeName")
public final class sigaction {
    private sigaction() {}

    public static final StructLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("sa_sigaction"),
            MemoryLayout.sequenceLayout(128, JAVA_BYTE).withName("sa_mask"),
            JAVA_INT.withName("sa_flags"),
            MemoryLayout.paddingLayout(4),
            ADDRESS.withName("sa_restorer")
    ).withName("sigaction");

    public static final long sa_sigaction$OFFSET = 0;
    public static final long sa_mask$OFFSET = 8;
    public static final long sa_mask$SIZE = 128;
    public static final long sa_flags$OFFSET = 136;
    public static final long sa_restorer$OFFSET = 144;

    public static long sizeof() {
        return $LAYOUT.byteSize();
    }

    public static MemorySegment sa_sigaction(MemorySegment struct) {
        return struct.get(ADDRESS, sa_sigaction$OFFSET);
    }

    public static void sa_sigaction(MemorySegment struct, MemorySegment handler) {
        struct.set(ADDRESS, sa_sigaction$OFFSET, handler);
    }

    public static MemorySegment sa_mask(MemorySegment struct) {
        return struct.asSlice(sa_mask$OFFSET, sa_mask$SIZE);
    }

    public static int sa_flags(MemorySegment struct) {
        return struct.get(JAVA_INT, sa_flags$OFFSET);
    }

    public static void sa_flags(MemorySegment struct, int flags) {
        struct.set(JAVA_INT, sa_flags$OFFSET, flags);
    }
}
