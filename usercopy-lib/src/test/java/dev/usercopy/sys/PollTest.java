package dev.usercopy.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.HostFiles;
import dev.usercopy.uapi.Errno;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** poll and ppoll, each case also run through the host's poll on the same descriptors: Linux is the oracle. */
class PollTest extends SysScenario {
    static final short POLLIN = 1;
    static final short POLLOUT = 4;

    private static byte[] pollfds(int... fdEvents) {
        ByteBuffer b = ByteBuffer.allocate(fdEvents.length / 2 * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < fdEvents.length; i += 2) {
            b.putInt(fdEvents[i]).putShort((short) fdEvents[i + 1]).putShort((short) 0x7777); // revents is overwritten
        }
        return b.array();
    }

    private static short revents(byte[] fds, int i) {
        return ByteBuffer.wrap(fds).order(ByteOrder.LITTLE_ENDIAN).getShort(8 * i + 6);
    }

    @Test
    void readinessOfAPipeAsTheHostSeesIt() {
        int[] p = pipe();
        int r = install(p[0], HostFiles.O_RDONLY);
        int w = install(p[1], HostFiles.O_WRONLY);
        long at = bytes(pollfds(r, POLLIN, w, POLLOUT, -1, POLLIN));
        assertEquals(1, call(Poll.SYS_POLL, at, 3, 0), "only the write end is ready");
        byte[] got = guest(at, 24);
        byte[] host = pollfds(p[0], POLLIN, p[1], POLLOUT, -1, POLLIN);
        assertEquals(1, HostFiles.poll(host, 3, 0));
        for (int i = 0; i < 3; i++) {
            assertEquals(revents(host, i), revents(got, i), "entry " + i);
        }
        assertEquals(0, revents(got, 2), "a negative fd is skipped, its revents cleared");
    }

    @Test
    void aClosedDescriptorIsPollnvalAndCountsAsReady() {
        long at = bytes(pollfds(40, POLLIN));
        assertEquals(1, call(Poll.SYS_POLL, at, 1, -1), "returns at once, though the timeout is infinite");
        assertEquals(HostFiles.POLLNVAL, revents(guest(at, 8), 0));
    }

    @Test
    void badArraysAndCounts() {
        as.mmap(BUF, PAGE, Prot.READ, MapFlags.PRIVATE | MapFlags.FIXED);
        assertEquals(err(Errno.EFAULT), call(Poll.SYS_POLL, 0, 1, 0));
        assertEquals(err(Errno.EFAULT), call(Poll.SYS_POLL, BUF, 1, 0), "revents cannot be written to a read-only page");
        assertEquals(err(Errno.EINVAL), call(Poll.SYS_POLL, SCRATCH, files.limit() + 1, 0));
        assertEquals(0, call(Poll.SYS_POLL, 0, 0, 0), "no entries: a sleep of 0");
        long ts = bytes(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, (byte) 0x00, (byte) 0xca, (byte) 0x9a, 0x3b, 0, 0, 0, 0}); // nsec 1e9
        assertEquals(err(Errno.EINVAL), call(Poll.SYS_PPOLL, 0, 0, ts, 0, 8));
        assertEquals(err(Errno.EINVAL), call(Poll.SYS_PPOLL, 0, 0, 0, SCRATCH, 4), "sigsetsize must be 8");
    }
}
