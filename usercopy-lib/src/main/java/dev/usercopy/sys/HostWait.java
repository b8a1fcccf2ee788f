package dev.usercopy.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.LongSupplier;
import java.util.function.LongUnaryOperator;

import dev.usercopy.platform.HostFiles;
import dev.usercopy.platform.HostSystem;
import dev.usercopy.uapi.Errno;

/**
 * The calls that may wait in the host (a read of an empty pipe, a write to
 * a full one, a poll), made so that they wait only in the thread of the
 * guest that made them and end when that guest is woken ({@link Task#wake}):
 * the host's poll on the descriptor beside the task's {@link Task#wakeFd},
 * then the call itself, which does not block where the description is the
 * guests' own ({@link OpenFile#hostNonblocking}).
 *
 * <p>Linux's order in pipe_read and pipe_write: the transfer is tried first
 * (bytes there are read though a signal is pending), and only a call that
 * would wait looks at signals: ERESTARTSYS, or the count moved so far.
 */
final class HostWait {
    static final short POLLIN = 0x1;
    static final short POLLPRI = 0x2;
    static final short POLLOUT = 0x4;
    static final short POLLERR = 0x8;
    static final short POLLHUP = 0x10;
    /**
     * The longest one host poll lasts: a guest killed from outside wakes
     * nobody, so its task looks again this often, as {@link Task#block} does.
     */
    static final int LOOK_MS = 100;

    private HostWait() {}

    /**
     * A read of {@code f} by {@code io}, which makes the host call (never
     * blocking when the host description is non-blocking): its count, or
     * {@code -ERESTARTSYS} when the task is interrupted while there is
     * nothing to read. A guest description with O_NONBLOCK answers at once.
     */
    static long read(Task t, OpenFile f, LongSupplier io) {
        if (!f.mayWait() || f.nonblocking()) {
            return io.getAsLong();
        }
        while (true) {
            if (f.hostNonblocking()) {
                long r = io.getAsLong();
                if (r != -Errno.EAGAIN.number()) {
                    return r;
                }
                if (t.interrupted()) {
                    return -Signals.ERESTARTSYS;
                }
                await(t, f.hostFd(), POLLIN);
            } else {
                // A description shared outside the guests: wait until the host says it is ready, then the
                // blocking call (which can still wait if another reader takes the bytes first).
                if (await(t, f.hostFd(), POLLIN)) {
                    return io.getAsLong();
                }
                if (t.interrupted()) {
                    return -Signals.ERESTARTSYS;
                }
            }
        }
    }

    /**
     * A write of {@code length} bytes to {@code f}: {@code io.applyAsLong(done)}
     * writes what is left after the first {@code done} (never blocking when
     * the host description is non-blocking). As Linux's blocking pipe_write,
     * it goes on until every byte is written, returning the count so far at
     * an error or an interruption (ERESTARTSYS when nothing was written).
     * EPIPE posts SIGPIPE to the writer, even after a partial count, as
     * pipe_write's send_sig does.
     */
    static long write(Task t, OpenFile f, long length, LongUnaryOperator io) {
        long done = 0;
        long r;
        if (!f.mayWait() || f.nonblocking()) {
            r = io.applyAsLong(0);
        } else if (!f.hostNonblocking()) {
            while (!await(t, f.hostFd(), POLLOUT)) {
                if (t.interrupted()) {
                    return -Signals.ERESTARTSYS;
                }
            }
            r = io.applyAsLong(0);
        } else {
            while (true) {
                r = io.applyAsLong(done);
                if (r > 0) {
                    done += r;
                    if (done < length) {
                        continue;
                    }
                } else if (r == -Errno.EAGAIN.number()) {
                    if (!t.interrupted()) {
                        await(t, f.hostFd(), POLLOUT);
                        continue;
                    }
                    r = -Signals.ERESTARTSYS;
                }
                break;
            }
        }
        if (r == -Errno.EPIPE.number()) {
            t.post(sigpipe(t));
        }
        return done > 0 ? done : r;
    }

    /** Linux's send_sig(SIGPIPE, current, 0): SI_USER, from the writer itself. */
    private static Signals.SigInfo sigpipe(Task t) {
        return new Signals.SigInfo(Signals.SIGPIPE, Signals.SigInfo.SI_USER, t.pid(), HostSystem.getresuid()[0], 0, 0);
    }

    /**
     * Waits up to {@link #LOOK_MS} until host descriptor {@code hostFd} has
     * one of {@code events} (or an error or hang-up) or the task is woken
     * (its wake drained); true when the descriptor is ready.
     */
    static boolean await(Task t, int hostFd, short events) {
        byte[] fds = new byte[16];
        ByteBuffer b = ByteBuffer.wrap(fds).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, hostFd).putShort(4, events);
        b.putInt(8, t.wakeFd()).putShort(12, POLLIN);
        long r = HostFiles.poll(fds, 2, LOOK_MS);
        if (r <= 0) {
            return false;
        }
        if (b.getShort(14) != 0) {
            HostFiles.eventfdDrain(t.wakeFd());
        }
        return b.getShort(6) != 0;
    }

    /**
     * The host's poll over the first {@code n} entries of {@code fds} and
     * the task's wake descriptor, for at most {@code timeoutMs} (never more
     * than {@link #LOOK_MS}): the count of ready entries among the
     * {@code n}, or -errno; a wake is drained.
     */
    static long pollWoken(Task t, byte[] fds, int n, int timeoutMs) {
        byte[] all = java.util.Arrays.copyOf(fds, 8 * (n + 1));
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(8 * n, t.wakeFd()).putShort(8 * n + 4, POLLIN).putShort(8 * n + 6, (short) 0);
        long r = HostFiles.poll(all, n + 1, timeoutMs < 0 || timeoutMs > LOOK_MS ? LOOK_MS : timeoutMs);
        if (r < 0) {
            return r;
        }
        if (b.getShort(8 * n + 6) != 0) {
            HostFiles.eventfdDrain(t.wakeFd());
            r--;
        }
        System.arraycopy(all, 0, fds, 0, 8 * n);
        return r;
    }
}
