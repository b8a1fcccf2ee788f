package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/** The host's {@code poll(2)}, for a guest's poll on descriptors that are host files. */
public final class HostPoll {
    private HostPoll() {}

    public static final int SYS_poll = 7;
    public static final short POLLNVAL = 0x20;

    /**
     * {@code poll} over {@code n} entries of {@code fds} (struct pollfd: int
     * fd, short events, short revents), the revents written back into it;
     * the count of ready entries or {@code -errno}. Blocks the calling thread
     * up to {@code timeoutMs} (-1: no limit).
     */
    public static long poll(byte[] fds, int n, int timeoutMs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(8, (long) n * 8), 8);
            MemorySegment.copy(fds, 0, buf, JAVA_BYTE, 0, n * 8);
            long r = HostFiles.syscall(SYS_poll, buf.address(), n, timeoutMs, 0, 0, 0);
            MemorySegment.copy(buf, JAVA_BYTE, 0, fds, 0, n * 8);
            return r;
        }
    }
}
