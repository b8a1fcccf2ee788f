package dev.usercopy.platform;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@code struct iovec} of {@code <sys/uio.h>} on x86-64, in the shape jextract
 * generates: 16 bytes, {@code iov_base} at 0, {@code iov_len} at 8.
 */
@SuppressWarnings("checkstyle:TypeName")
public final class iovec {
    private iovec() {}

    public static final StructLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("iov_base"),
            JAVA_LONG.withName("iov_len")
    ).withName("iovec");

    public static final long iov_base$OFFSET = 0;
    public static final long iov_len$OFFSET = 8;

    public static long sizeof() {
        return $LAYOUT.byteSize();
    }

    public static MemorySegment iov_base(MemorySegment struct) {
        return struct.get(ADDRESS, iov_base$OFFSET);
    }

    public static void iov_base(MemorySegment struct, MemorySegment base) {
        struct.set(ADDRESS, iov_base$OFFSET, base);
    }

    public static long iov_len(MemorySegment struct) {
        return struct.get(JAVA_LONG, iov_len$OFFSET);
    }

    public static void iov_len(MemorySegment struct, long length) {
        struct.set(JAVA_LONG, iov_len$OFFSET, length);
    }
}
