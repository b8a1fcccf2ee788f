package dev.usercopy.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static dev.usercopy.platform.user_regs_struct.EFLAGS;
import static dev.usercopy.platform.user_regs_struct.ORIG_RAX;
import static dev.usercopy.platform.user_regs_struct.R12;
import static dev.usercopy.platform.user_regs_struct.RAX;
import static dev.usercopy.platform.user_regs_struct.RDI;
import static dev.usercopy.platform.user_regs_struct.RDX;
import static dev.usercopy.platform.user_regs_struct.RIP;
import static dev.usercopy.platform.user_regs_struct.RSI;
import static dev.usercopy.platform.user_regs_struct.RSP;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Signal delivery on a task with a fake CPU (registers in an array, an
 * XSAVE area as the host gives one): the frame against what the host
 * kernel builds, sigreturn, the restart rules, default actions, a frame
 * that does not fit.
 */
class SignalDeliveryTest {
    static final int SIGUSR1 = 10;
    static final int SIGUSR2 = 12;
    static final int SIGTERM = 15;
    static final long HANDLER = 0x401000;
    static final long RESTORER = 0x401100;
    static final long PAGE = 4096;

    /** Maps {@code len} bytes of read-write anonymous memory; its address. */
    static long map(SysFixture f, long len) {
        long a = f.call(9, 0, len, 3, 0x22, -1, 0);
        assertTrue(a > 0, "mmap: " + a);
        return a;
    }

    static void sigaction(SysFixture f, int sig, long handler, long flags, long mask) {
        long buf = map(f, PAGE);
        put(f, buf, handler, flags | SignalDelivery.SA_RESTORER, RESTORER, mask);
        assertEquals(0, f.call(13, sig, buf, 0, 8));
    }

    static void put(SysFixture f, long addr, long... values) {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        assertEquals(0, f.space.copyToUser(addr, b.array(), 0, b.capacity()));
    }

    static ByteBuffer get(SysFixture f, long addr, int len) {
        byte[] b = new byte[len];
        assertEquals(0, f.space.copyFromUser(b, 0, addr, len));
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    static long bit(int sig) {
        return 1L << (sig - 1);
    }

    /** A stack of 64 KiB mapped; rsp {@code below} bytes under its top. */
    static long stack(SysFixture f, long below) {
        long base = map(f, 1 << 16);
        f.regs[RSP] = base + (1 << 16) - below;
        return base;
    }

    /** The task makes syscall {@code nr} at rip 0x402002 and it returned {@code result}: what the tracer would hold. */
    static void atSyscall(SysFixture f, int nr, long result) {
        f.regs[ORIG_RAX] = nr;
        f.regs[RAX] = result;
        f.regs[RIP] = 0x402002;
    }

    @Test
    void theFrameIsLaidOutAsTheHostKernelLaysItOut(@TempDir Path dir) throws Exception {
        Path exe = HostProgram.compile("sigframe_dump.c", dir);
        Map<String, Long> host = parse(HostProgram.run(List.of(exe.toString())));
        for (String which : List.of("stack", "altstack", "autodisarm")) {
            try (SysFixture f = new SysFixture()) {
                int size = host.get(which + ".xstate_size").intValue();
                f.xstate = SysFixture.freshXstate(size, host.get(which + ".xfeatures"));
                long alt = 0;
                if (!which.equals("stack")) {
                    alt = map(f, 1 << 16); // 64-aligned, as the program's static array
                    long ss = map(f, PAGE);
                    put(f, ss, alt, which.equals("autodisarm") ? 1L << 31 : 0, 1 << 16);
                    assertEquals(0, f.call(131, ss, 0));
                }
                long base = stack(f, 0x1000);
                f.regs[RSP] = (f.regs[RSP] & ~63L) + host.get(which + ".top_mod64");
                sigaction(f, SIGUSR1, HANDLER, SignalDelivery.SA_SIGINFO | (alt != 0 ? SignalDelivery.SA_ONSTACK : 0), bit(SIGUSR2));
                long sp = f.regs[RSP];
                assertEquals(0, f.call(62, f.task.pid(), SIGUSR1));
                atSyscall(f, 62, 0);
                assertEquals(0, SignalDelivery.beforeResume(f.task, 0));
                Map<String, Long> guest = frameAsSeen(f, which, alt != 0 ? alt + (1 << 16) : sp, alt);
                Map<String, Long> expected = new TreeMap<>(host);
                expected.keySet().removeIf(k -> !k.startsWith(which + "."));
                // A kill has no fault: the host's trapno, err and cr2 are whatever its last fault left in the
                // thread (the JVM thread the oracle was spawned from, even): not part of what a program relies on.
                for (String k : List.of("sc_trapno", "sc_err", "sc_cr2")) {
                    expected.remove(which + "." + k);
                    guest.remove(which + "." + k);
                }
                assertEquals(expected, guest, which + ": the host's frame, then this kernel's (stack at 0x" + Long.toHexString(base) + ")");
            }
        }
    }

    /** What the oracle program's handler reports, read from the guest the way it reads it. */
    private static Map<String, Long> frameAsSeen(SysFixture f, String which, long top, long alt) {
        Map<String, Long> m = new TreeMap<>();
        long frame = f.regs[RSP];
        ByteBuffer fr = get(f, frame, SignalDelivery.FRAME_SIZE);
        long uc = frame + 8;
        int mc = SignalDelivery.MCONTEXT;
        long fp = fr.getLong(mc + SignalDelivery.SC_FPSTATE);
        ByteBuffer x = get(f, fp, f.xstate.length + 4);
        String p = which + ".";
        m.put(p + "sig", f.regs[RDI]);
        m.put(p + "top_mod64", top % 64);
        m.put(p + "frame_below_top", top - frame);
        m.put(p + "fpstate_below_top", top - fp);
        m.put(p + "frame_mod16", frame % 16);
        m.put(p + "info_minus_frame", f.regs[RSI] - frame);
        assertEquals(uc, f.regs[RDX], "rdx: the ucontext");
        m.put(p + "uc_flags", fr.getLong(8));
        m.put(p + "uc_link", fr.getLong(16));
        m.put(p + "uc_stack_sp_is_altstack", alt != 0 && fr.getLong(24) == alt ? 1L : 0L);
        m.put(p + "uc_stack_flags", (long) fr.getInt(32) & 0xffffffffL);
        m.put(p + "uc_stack_size", fr.getLong(40));
        m.put(p + "sc_cs", (long) fr.getShort(mc + 144));
        m.put(p + "sc_gs", (long) fr.getShort(mc + 146));
        m.put(p + "sc_fs", (long) fr.getShort(mc + 148));
        m.put(p + "sc_ss", (long) fr.getShort(mc + 150));
        m.put(p + "sc_err", fr.getLong(mc + 152));
        m.put(p + "sc_trapno", fr.getLong(mc + 160));
        m.put(p + "sc_oldmask", fr.getLong(mc + 168));
        m.put(p + "sc_cr2", fr.getLong(mc + 176));
        m.put(p + "uc_sigmask", fr.getLong(304));
        m.put(p + "magic1", (long) x.getInt(464));
        m.put(p + "extended_size", (long) x.getInt(468));
        m.put(p + "xfeatures", x.getLong(472));
        m.put(p + "xstate_size", (long) x.getInt(480));
        m.put(p + "magic2", (long) x.getInt(x.getInt(480)));
        m.put(p + "xstate_bv_fpsse", x.getLong(512) & 3);
        m.put(p + "si_signo", (long) fr.getInt(312));
        m.put(p + "si_code", (long) fr.getInt(320));
        m.put(p + "si_pid_is_self", fr.getInt(328) == f.task.pid() ? 1L : 0L);
        m.put(p + "si_uid_is_self", fr.getInt(332) == dev.usercopy.platform.HostSystem.getresuid()[0] ? 1L : 0L);
        m.put(p + "handler_mask", f.task.signals().blocked());
        Signals.AltStack a = f.task.signals().altStack();
        m.put(p + "altstack_in_handler_flags", (long) f.task.signals().sasSsFlags(frame) | (a.flags() & (1L << 31)));
        m.put(p + "altstack_in_handler_size", a.size());
        return m;
    }

    static Map<String, Long> parse(String out) {
        Map<String, Long> m = new TreeMap<>();
        for (String line : out.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1)));
            }
        }
        return m;
    }
}
