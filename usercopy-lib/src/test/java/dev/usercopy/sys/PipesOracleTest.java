package dev.usercopy.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.usercopy.platform.HostFiles;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linux is the oracle: {@code pipes_oracle.c} runs pipe2, fcntl, read,
 * write, ppoll, poll, select and pselect6 cases natively, and the same
 * cases go through {@link Syscalls#dispatch} for a guest task; each named
 * answer must agree. Where the native program's signal handler runs (it
 * turns an interrupted call's restart code into EINTR), the guest's answer
 * is the restart code that gives EINTR after a handler, and the signal is
 * left pending and unblocked for the delivery to run that handler.
 */
class PipesOracleTest extends SysScenario {
    static final int READ = 0;
    static final int WRITE = 1;
    static final int POLL = 7;
    static final int FCNTL = 72;
    static final int PIPE2 = 293;
    static final int SIGUSR1 = 10;

    @TempDir
    Path build;

    @Test
    void everyCaseAnswersAsTheHostKernel() throws Exception {
        Map<String, String> host = new LinkedHashMap<>();
        for (String line : HostProgram.run(List.of(HostProgram.compile("pipes_oracle.c", build).toString())).split("\n")) {
            String[] kv = line.split(" ");
            host.put(kv[0], kv[1]);
        }
        Map<String, String> guest = guestAnswers();
        List<String> wrong = new ArrayList<>();
        for (var e : host.entrySet()) {
            if (!e.getValue().equals(guest.get(e.getKey()))) {
                wrong.add(e.getKey() + ": host " + e.getValue() + ", guest " + guest.get(e.getKey()));
            }
        }
        assertEquals(host.keySet(), guest.keySet(), "the same cases on both sides");
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + host.size() + " cases differ from Linux:\n  " + String.join("\n  ", wrong));
    }

    /** Each call bounded in time, as {@link PipesTest#dispatch}: one that waits wrongly fails rather than hangs. */
    @Override
    long call(int nr, long... args) {
        return PipesTest.dispatch(task, nr, args);
    }

    private int[] pipe2(int flags) {
        long at = bytes(new byte[8]);
        assertEquals(0, call(PIPE2, at, flags));
        ByteBuffer b = ByteBuffer.wrap(guest(at, 8)).order(ByteOrder.LITTLE_ENDIAN);
        return new int[] {b.getInt(0), b.getInt(4)};
    }

    private Map<String, String> guestAnswers() {
        Map<String, String> m = new LinkedHashMap<>();
        long buf = bytes(new byte[64]);
        m.put("pipe2_bad_flags", "" + call(PIPE2, buf, HostFiles.O_WRONLY));
        m.put("pipe2_efault", "" + call(PIPE2, 8, 0));
        m.put("pipe2_efault_leaves_no_fd", "" + call(FCNTL, 0, HostFiles.F_GETFD));

        int[] p = pipe2(0);
        m.put("getfl_read", "" + call(FCNTL, p[0], HostFiles.F_GETFL));
        m.put("getfl_write", "" + call(FCNTL, p[1], HostFiles.F_GETFL));
        m.put("getfd", "" + call(FCNTL, p[0], HostFiles.F_GETFD));
        call(FCNTL, p[0], HostFiles.F_SETFL, HostFiles.O_NONBLOCK);
        m.put("setfl_nonblock_getfl", "" + call(FCNTL, p[0], HostFiles.F_GETFL));
        m.put("setfl_nonblock_read", "" + call(READ, p[0], buf, 8));
        call(3, p[1]);
        m.put("read_after_last_writer", "" + call(READ, p[0], buf, 8));
        call(3, p[0]);

        p = pipe2(HostFiles.O_NONBLOCK | HostFiles.O_CLOEXEC);
        m.put("nonblock_getfl_read", "" + call(FCNTL, p[0], HostFiles.F_GETFL));
        m.put("nonblock_getfl_write", "" + call(FCNTL, p[1], HostFiles.F_GETFL));
        m.put("cloexec_getfd", "" + call(FCNTL, p[1], HostFiles.F_GETFD));
        m.put("nonblock_read_empty", "" + call(READ, p[0], buf, 8));
        call(FCNTL, p[0], HostFiles.F_SETFL, 0);
        m.put("clear_nonblock_getfl", "" + call(FCNTL, p[0], HostFiles.F_GETFL));
        call(3, p[0]);
        Signals s = task.signals();
        s.setAction(Signals.SIGPIPE, new Signals.Action(0x1000, 0x04000000, 0, 0)); // a handler
        m.put("write_no_reader", "" + call(WRITE, p[1], buf, 1));
        Signals.SigInfo info = s.dequeue();
        m.put("sigpipe_handled", info != null && info.signo() == Signals.SIGPIPE ? "1" : "0");
        m.put("sigpipe_code", info == null ? "none" : "" + info.code());
        m.put("sigpipe_pid_is_self", info != null && info.pid() == task.pid() ? "1" : "0");
        s.setAction(Signals.SIGPIPE, new Signals.Action(Signals.SIG_IGN, 0, 0, 0));
        m.put("write_no_reader_ignored", "" + call(WRITE, p[1], buf, 1));
        m.put("sigpipe_pending_ignored", pendingBit(Signals.SIGPIPE));
        s.setAction(Signals.SIGPIPE, new Signals.Action(Signals.SIG_DFL, 0, 0, 0));
        s.setBlocked(Signals.bit(Signals.SIGPIPE));
        m.put("write_no_reader_blocked", "" + call(WRITE, p[1], buf, 1));
        m.put("sigpipe_pending_blocked", pendingBit(Signals.SIGPIPE));
        s.setAction(Signals.SIGPIPE, new Signals.Action(Signals.SIG_IGN, 0, 0, 0));
        s.discard(Signals.SIGPIPE);
        s.setBlocked(0);
        call(3, p[1]);

        p = pipe2(0);
        s.setAction(SIGUSR1, new Signals.Action(0x1000, 0x04000000, 0, 0));
        s.setBlocked(Signals.bit(SIGUSR1));
        long none = bytes(new byte[8]);
        long pf = bytes(pollfd(p[0], PollTest.POLLIN));
        long zero = bytes(new byte[16]);
        task.post(new Signals.SigInfo(SIGUSR1, Signals.SigInfo.SI_USER, task.pid(), 0, 0, 0));
        long r = call(Poll.SYS_PPOLL, pf, 1, zero, none, 8);
        // A handler runs: ERESTARTNOHAND is EINTR, with the mask the call replaced saved for the frame.
        m.put("ppoll_zero_timeout_signal", "" + (r == -Signals.ERESTARTNOHAND ? -4 : r));
        m.put("ppoll_zero_timeout_handled", s.interrupting() && s.maskToSave() == Signals.bit(SIGUSR1) ? "1" : "0");
        s.endTemporaryMask(false); // the handler's frame holds the saved mask
        s.setBlocked(Signals.bit(SIGUSR1)); // as rt_sigreturn leaves it
        s.discard(SIGUSR1); // the handler ran
        assertEquals(3, call(WRITE, p[1], bytes("abc".getBytes()), 3));
        task.post(new Signals.SigInfo(SIGUSR1, Signals.SigInfo.SI_USER, task.pid(), 0, 0, 0));
        m.put("ppoll_ready_beats_signal", "" + call(Poll.SYS_PPOLL, pf, 1, zero, none, 8));
        m.put("ppoll_ready_revents", "" + ByteBuffer.wrap(guest(pf, 8)).order(ByteOrder.LITTLE_ENDIAN).getShort(6));
        m.put("ppoll_ready_pending_after", pendingBit(SIGUSR1));
        s.discard(SIGUSR1);
        m.put("ppoll_sigsetsize", "" + call(Poll.SYS_PPOLL, pf, 1, zero, none, 4));
        long bad = bytes(concat(pollfd(60, PollTest.POLLIN), pollfd(-1, PollTest.POLLIN)));
        m.put("poll_closed_fd", "" + call(POLL, bad, 2, -1));
        ByteBuffer bb = ByteBuffer.wrap(guest(bad, 16)).order(ByteOrder.LITTLE_ENDIAN);
        m.put("poll_closed_revents", "" + bb.getShort(6));
        m.put("poll_negative_revents", "" + bb.getShort(14));

        long rd = bytes(set(p[0], p[1]));
        long wr = bytes(set(p[0], p[1]));
        long ex = bytes(set(p[0], p[1]));
        long tv = bytes(timeval(5, 0));
        m.put("select_ready", "" + call(Poll.SYS_SELECT, p[1] + 1, rd, wr, ex, tv));
        m.put("select_read_set", bits(rd, p[0], p[1]));
        m.put("select_write_set", bits(wr, p[0], p[1]));
        m.put("select_except_set", bits(ex, p[0], p[1]));
        m.put("select_time_left_sec", "" + guestLong(tv));
        m.put("select_closed_fd", "" + call(Poll.SYS_SELECT, 61, bytes(set(60)), 0, 0, zero));
        m.put("select_negative_nfds", "" + call(Poll.SYS_SELECT, -1, 0, 0, 0, 0));
        m.put("select_negative_usec", "" + call(Poll.SYS_SELECT, 0, 0, 0, 0, bytes(timeval(0, -1))));
        long over = bytes(timeval(0, 1_500_000));
        m.put("select_usec_past_a_second", "" + call(Poll.SYS_SELECT, p[0] + 1, bytes(set(p[0])), 0, 0, over));
        m.put("select_usec_past_a_second_left_sec", "" + guestLong(over));
        long pack = bytes(ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, none).putLong(8, 4).array());
        m.put("pselect6_sigsetsize", "" + call(Poll.SYS_PSELECT6, p[0] + 1, bytes(set(p[0])), 0, 0, 0, pack));
        call(READ, p[0], buf, 3);
        long brief = bytes(timeval(0, 20_000));
        long rd2 = bytes(set(p[0]));
        m.put("select_timeout", "" + call(Poll.SYS_SELECT, p[0] + 1, rd2, 0, 0, brief));
        m.put("select_timeout_set", bits(rd2, p[0]));
        m.put("select_timeout_left_usec", "" + guestLong(brief + 8));
        m.put("nanosleep_bad_nsec", "" + call(35, bytes(timeval(0, 1_000_000_000)), 0));
        return m;
    }

    private String pendingBit(int sig) {
        return (task.signals().pending() & Signals.bit(sig)) != 0 ? "1" : "0";
    }

    private long guestLong(long at) {
        return ByteBuffer.wrap(guest(at, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    private String bits(long set, int... fds) {
        long w = guestLong(set);
        StringBuilder sb = new StringBuilder();
        for (int fd : fds) {
            sb.append((w >>> fd & 1) != 0 ? "1" : "0");
        }
        return sb.toString();
    }

    static byte[] pollfd(int fd, short events) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0, fd).putShort(4, events).putShort(6, (short) 0x77).array();
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** An fd_set of 128 bytes (FD_SETSIZE 1024) with {@code fds} set. */
    static byte[] set(int... fds) {
        ByteBuffer b = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
        for (int fd : fds) {
            b.putLong(fd / 64 * 8, b.getLong(fd / 64 * 8) | 1L << (fd % 64));
        }
        return b.array();
    }

    static byte[] timeval(long sec, long usec) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, sec).putLong(8, usec).array();
    }
}
