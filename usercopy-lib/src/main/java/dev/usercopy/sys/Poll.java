package dev.usercopy.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.usercopy.platform.HostFiles;
import dev.usercopy.uaccess.UserSlice;
import dev.usercopy.uapi.Errno;

/**
 * poll and ppoll on the guest's descriptors, which are host files: the
 * host's own poll on the host descriptors, blocking only this guest's tracer
 * thread. Linux's rules: more entries than RLIMIT_NOFILE is EINVAL; a
 * negative fd is skipped (revents 0); a closed one is POLLNVAL and counts as
 * ready; the array is read, then its revents written back, with the user
 * copies (EFAULT).
 */
final class Poll {
    static final int SYS_POLL = 7;
    static final int SYS_PPOLL = 271;

    private Poll() {}

    static void register(Syscalls.Registry r) {
        r.add(SYS_POLL, "poll", "pud", t -> poll(t, t.arg(0), t.arg(1), t.intArg(2)));
        r.add(SYS_PPOLL, "ppoll", "puppu", Poll::ppoll);
    }

    private static long ppoll(Task t) {
        long tsp = t.arg(2);
        if (t.arg(3) != 0 && t.arg(4) != 8) {
            return -Errno.EINVAL.number();
        }
        int timeout = -1;
        if (tsp != 0) {
            ByteBuffer ts = ByteBuffer.wrap(UserSlice.ro(t.space(), tsp, 16).toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
            long sec = ts.getLong(0);
            long nsec = ts.getLong(8);
            if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000L) {
                return -Errno.EINVAL.number();
            }
            long ms = sec > Integer.MAX_VALUE / 1000 ? Integer.MAX_VALUE : sec * 1000 + (nsec + 999_999) / 1_000_000;
            timeout = (int) Math.min(ms, Integer.MAX_VALUE);
        }
        return poll(t, t.arg(0), t.arg(1), timeout);
    }

    private static long poll(Task t, long ufds, long nfds, int timeout) {
        if (nfds < 0 || nfds > t.files().limit()) {
            return -Errno.EINVAL.number();
        }
        int n = (int) nfds;
        if (n == 0) {
            return HostFiles.poll(new byte[0], 0, timeout);
        }
        byte[] guest = UserSlice.ro(t.space(), ufds, 8L * n).toByteArray();
        ByteBuffer g = ByteBuffer.wrap(guest).order(ByteOrder.LITTLE_ENDIAN);
        byte[] host = new byte[8 * n];
        ByteBuffer h = ByteBuffer.wrap(host).order(ByteOrder.LITTLE_ENDIAN);
        int invalid = 0;
        for (int i = 0; i < n; i++) {
            int fd = g.getInt(8 * i);
            short events = g.getShort(8 * i + 4);
            int hostFd = -1;
            if (fd >= 0) {
                if (t.files().isOpen(fd)) {
                    hostFd = t.files().get(fd).hostFd();
                } else {
                    invalid++;
                }
            }
            h.putInt(8 * i, hostFd);
            h.putShort(8 * i + 4, events);
            h.putShort(8 * i + 6, (short) 0);
        }
        long r = HostFiles.poll(host, n, invalid > 0 ? 0 : timeout);
        if (r < 0) {
            return r;
        }
        long ready = 0;
        for (int i = 0; i < n; i++) {
            int fd = g.getInt(8 * i);
            short revents = fd < 0 ? 0 : !t.files().isOpen(fd) ? HostFiles.POLLNVAL : h.getShort(8 * i + 6);
            g.putShort(8 * i + 6, revents);
            if (revents != 0) {
                ready++;
            }
        }
        UserSlice.wo(t.space(), ufds, 8L * n).copyFromSlice(guest);
        return ready;
    }
}
