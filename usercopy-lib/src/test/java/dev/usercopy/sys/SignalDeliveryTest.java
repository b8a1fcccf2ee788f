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

    /**
     * Linux's table (arch/x86/kernel/signal.c): after a handler, RESTARTBLOCK
     * and NOHAND are EINTR, SYS is EINTR unless SA_RESTART, NOINTR restarts;
     * with no handler (the signal ignored), each restarts, RESTARTBLOCK
     * through restart_syscall.
     */
    @Test
    void anInterruptedCallIsEintrOrMadeAgainAsLinuxDecides() {
        long[] codes = {Signals.ERESTARTSYS, Signals.ERESTARTNOINTR, Signals.ERESTARTNOHAND, Signals.ERESTART_RESTARTBLOCK};
        long eintr = -4;
        long[] handlerNoRestart = {eintr, 0, eintr, eintr};
        long[] handlerRestart = {0, 0, eintr, eintr};
        for (int i = 0; i < codes.length; i++) {
            for (int mode = 0; mode < 3; mode++) {
                try (SysFixture f = new SysFixture()) {
                    stack(f, 0x1000);
                    if (mode > 0) {
                        sigaction(f, SIGUSR1, HANDLER, mode == 2 ? SignalDelivery.SA_RESTART : 0, 0);
                    } else {
                        // a signal whose default ignores it, posted while blocked, taken once unblocked
                        f.task.signals().setBlocked(bit(17));
                        f.task.post(new Signals.SigInfo(17, 0, 1, 0, 0, 0));
                        f.task.signals().setBlocked(0);
                    }
                    if (mode > 0) {
                        f.task.post(new Signals.SigInfo(SIGUSR1, 0, 1, 0, 0, 0));
                    }
                    atSyscall(f, 0, -codes[i]);
                    assertEquals(0, SignalDelivery.beforeResume(f.task, -codes[i]));
                    String what = "code " + codes[i] + (mode == 0 ? " without a handler" : mode == 1 ? " after a handler" : " after an SA_RESTART handler");
                    long[] saved = new long[2];
                    if (mode > 0) {
                        ByteBuffer sc = get(f, f.regs[RSP] + SignalDelivery.MCONTEXT, 192);
                        saved[0] = sc.getLong(8 * 13);
                        saved[1] = sc.getLong(8 * 16);
                        assertEquals(HANDLER, f.regs[RIP], what);
                    } else {
                        saved[0] = f.regs[RAX];
                        saved[1] = f.regs[RIP];
                    }
                    boolean restarted = mode == 0 ? true : (mode == 1 ? handlerNoRestart : handlerRestart)[i] == 0;
                    long expectRax = !restarted ? eintr : mode == 0 && codes[i] == Signals.ERESTART_RESTARTBLOCK ? 219 : 0;
                    assertEquals(expectRax, saved[0], what + ": rax");
                    assertEquals(restarted ? 0x402000 : 0x402002, saved[1], what + ": rip");
                }
            }
        }
    }

    @Test
    void aResultThatOnlyLooksLikeARestartCodeIsLeftAloneAfterSigreturn() {
        try (SysFixture f = new SysFixture()) {
            stack(f, 0x1000);
            atSyscall(f, 15, -Signals.ERESTARTSYS);
            f.regs[ORIG_RAX] = -1; // what rt_sigreturn leaves: not a syscall any more
            assertEquals(0, SignalDelivery.beforeResume(f.task, -Signals.ERESTARTSYS));
            assertEquals(-Signals.ERESTARTSYS, f.regs[RAX]);
            assertEquals(0x402002, f.regs[RIP]);
        }
    }

    @Test
    void defaultActionsKillOrAreIgnored() {
        int[][] cases = {{SIGTERM, SIGTERM}, {11, 11}, {9, 9}, {17, 0}, {28, 0}, {19, 0}, {18, 0}, {SIGUSR1, SIGUSR1}};
        for (int[] c : cases) {
            try (SysFixture f = new SysFixture()) {
                stack(f, 0x1000);
                f.task.post(new Signals.SigInfo(c[0], 0, 1, 0, 0, 0));
                f.task.signals().post(new Signals.SigInfo(c[0], 0, 1, 0, 0, 0));
                assertEquals(c[1], SignalDelivery.beforeResume(f.task, SignalDelivery.NO_SYSCALL), "signal " + c[0]);
            }
        }
        try (SysFixture f = new SysFixture()) {
            sigaction(f, SIGTERM, Signals.SIG_IGN, 0, 0);
            f.task.signals().setBlocked(bit(SIGTERM));
            f.task.post(new Signals.SigInfo(SIGTERM, 0, 1, 0, 0, 0));
            f.task.signals().setBlocked(0);
            assertEquals(0, SignalDelivery.beforeResume(f.task, SignalDelivery.NO_SYSCALL), "ignored when taken");
            assertEquals(0, f.task.signals().pending());
        }
    }

    @Test
    void aFrameThatDoesNotFitKillsWithSigsegvEvenThroughASigsegvHandler() {
        for (boolean segvHandler : new boolean[] {false, true}) {
            try (SysFixture f = new SysFixture()) {
                f.regs[RSP] = 0x7000_0000_0000L; // nothing mapped below it
                sigaction(f, SIGUSR1, HANDLER, 0, 0);
                if (segvHandler) {
                    sigaction(f, 11, HANDLER + 0x10, 0, 0);
                }
                f.task.post(new Signals.SigInfo(SIGUSR1, 0, 1, 0, 0, 0));
                assertEquals(11, SignalDelivery.beforeResume(f.task, SignalDelivery.NO_SYSCALL), "SIGSEGV handler " + segvHandler);
            }
        }
        try (SysFixture f = new SysFixture()) {
            stack(f, 0x1000);
            long buf = map(f, PAGE);
            put(f, buf, HANDLER, 0, 0, 0); // no SA_RESTORER: x86-64 has nowhere to return to
            assertEquals(0, f.call(13, SIGUSR1, buf, 0, 8));
            f.task.post(new Signals.SigInfo(SIGUSR1, 0, 1, 0, 0, 0));
            assertEquals(11, SignalDelivery.beforeResume(f.task, SignalDelivery.NO_SYSCALL));
        }
    }

    @Test
    void aFrameThatWouldOverflowTheAlternateStackIsNotWritten() {
        try (SysFixture f = new SysFixture()) {
            stack(f, 0x1000);
            long alt = map(f, 3 * PAGE);
            long ss = map(f, PAGE);
            put(f, ss, alt, 0, 2048); // MINSIGSTKSZ: smaller than frame and this XSAVE area
            f.xstate = SysFixture.freshXstate(2440, 0x207); // AVX and PKRU, as this project's CI host
            assertEquals(0, f.call(131, ss, 0));
            sigaction(f, SIGUSR1, HANDLER, SignalDelivery.SA_ONSTACK, 0);
            f.task.post(new Signals.SigInfo(SIGUSR1, 0, 1, 0, 0, 0));
            byte[] before = new byte[(int) (3 * PAGE)];
            assertEquals(0, f.space.copyFromUser(before, 0, alt, before.length));
            assertEquals(11, SignalDelivery.beforeResume(f.task, SignalDelivery.NO_SYSCALL));
            byte[] after = new byte[before.length];
            assertEquals(0, f.space.copyFromUser(after, 0, alt, after.length));
            assertArrayEquals(before, after, "nothing written below the alternate stack");
        }
    }

    @Test
    void sigreturnPutsBackRegistersMaskAltstackAndExtendedState() {
        try (SysFixture f = new SysFixture()) {
            stack(f, 0x1000 + 8);
            long alt = map(f, 1 << 16);
            long ss = map(f, PAGE);
            put(f, ss, alt, 1L << 31, 1 << 16);
            assertEquals(0, f.call(131, ss, 0));
            sigaction(f, SIGUSR1, HANDLER, SignalDelivery.SA_ONSTACK | SignalDelivery.SA_SIGINFO, bit(SIGUSR2));
            for (int i = 0; i < 15; i++) {
                f.regs[i] = 0x1111_0000L * (i + 1);
            }
            f.regs[EFLAGS] = 0x202 | 0x400 | 0x1; // DF and CF set
            java.nio.ByteBuffer x = ByteBuffer.wrap(f.xstate).order(ByteOrder.LITTLE_ENDIAN);
            x.putInt(24, 0x7f80); // MXCSR: round toward zero
            x.putLong(160, 0x0123456789abcdefL); // xmm0
            x.putLong(512, 3);
            f.task.signals().setBlocked(bit(3));
            atSyscall(f, 1, 42);
            long[] before = f.regs.clone();
            byte[] xBefore = f.xstate.clone();
            f.task.post(new Signals.SigInfo(SIGUSR1, 0, 1, 0, 0, 0));
            assertEquals(0, SignalDelivery.beforeResume(f.task, 42));

            assertEquals(0, f.regs[EFLAGS] & 0x400, "DF clear in the handler");
            assertEquals(bit(3) | bit(SIGUSR1) | bit(SIGUSR2), f.task.signals().blocked());
            assertEquals(new Signals.AltStack(0, 2, 0), f.task.signals().altStack(), "SS_AUTODISARM: disarmed in the handler");
            ByteBuffer hx = ByteBuffer.wrap(f.xstate).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(0x1f80, hx.getInt(24), "the handler starts with the initial MXCSR");
            assertEquals(0, hx.getLong(160), "and xmm0 zero");
            assertTrue(f.regs[RSP] < alt + (1 << 16) && f.regs[RSP] > alt, "on the alternate stack");

            f.regs[R12] = 7; // the handler's own work
            f.regs[RSP] += 8; // its ret into the restorer pops pretcode
            f.regs[ORIG_RAX] = 15;
            long r = f.call(15);
            f.regs[RAX] = r;
            assertEquals(0, SignalDelivery.beforeResume(f.task, r));
            for (int i = 0; i < 27; i++) {
                if (i != ORIG_RAX) {
                    assertEquals(before[i], f.regs[i], dev.usercopy.platform.user_regs_struct.name(i));
                }
            }
            assertEquals(-1, f.regs[ORIG_RAX]);
            assertEquals(42, r, "rt_sigreturn returns the restored rax");
            assertEquals(bit(3), f.task.signals().blocked());
            assertEquals(new Signals.AltStack(alt, 1 << 31, 1 << 16), f.task.signals().altStack());
            ByteBuffer after = ByteBuffer.wrap(f.xstate).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(0x7f80, after.getInt(24));
            assertEquals(0x0123456789abcdefL, after.getLong(160));
            assertEquals(ByteBuffer.wrap(xBefore).order(ByteOrder.LITTLE_ENDIAN).getLong(512) | 3, after.getLong(512));
        }
    }

    @Test
    void aBadSigreturnFrameIsSigsegv() {
        try (SysFixture f = new SysFixture()) {
            stack(f, 0x1000);
            f.regs[RSP] = 0x7000_0000_0000L; // unmapped
            f.call(15);
            assertEquals(bit(11), f.task.signals().pending());
            assertEquals(11, SignalDelivery.beforeResume(f.task, 0));
        }
        try (SysFixture f = new SysFixture()) {
            stack(f, 0x1000);
            sigaction(f, SIGUSR1, HANDLER, 0, 0);
            f.task.post(new Signals.SigInfo(SIGUSR1, 0, 1, 0, 0, 0));
            assertEquals(0, SignalDelivery.beforeResume(f.task, SignalDelivery.NO_SYSCALL));
            long frame = f.regs[RSP];
            ByteBuffer one = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort(0, (short) 0x23);
            assertEquals(0, f.space.copyToUser(frame + SignalDelivery.MCONTEXT + SignalDelivery.SC_CS, one.array(), 0, 2));
            f.regs[RSP] = frame + 8;
            f.call(15);
            assertEquals(bit(11), f.task.signals().pending() & bit(11), "a 32-bit code segment: refused");
        }
    }

    @Test
    void forceUnblocksAndUndoesAnIgnoreButKeepsAHandler() {
        try (SysFixture f = new SysFixture()) {
            stack(f, 0x1000);
            sigaction(f, 11, Signals.SIG_IGN, 0, 0);
            SignalDelivery.force(f.task, new Signals.SigInfo(11, 1, 0, 0, 0, 0xdead000));
            assertEquals(11, SignalDelivery.beforeResume(f.task, SignalDelivery.NO_SYSCALL));
        }
        try (SysFixture f = new SysFixture()) {
            stack(f, 0x1000);
            sigaction(f, 11, HANDLER, SignalDelivery.SA_SIGINFO, 0);
            f.task.signals().setBlocked(bit(11));
            SignalDelivery.force(f.task, new Signals.SigInfo(11, 2, 0, 0, 0, 0xdead000));
            assertEquals(11, SignalDelivery.beforeResume(f.task, SignalDelivery.NO_SYSCALL), "blocked: the handler goes");
        }
        try (SysFixture f = new SysFixture()) {
            stack(f, 0x1000);
            sigaction(f, 11, HANDLER, SignalDelivery.SA_SIGINFO, 0);
            SignalDelivery.force(f.task, new Signals.SigInfo(11, 2, 0, 0, 0, 0xdead000));
            assertEquals(0, SignalDelivery.beforeResume(f.task, SignalDelivery.NO_SYSCALL));
            assertEquals(HANDLER, f.regs[RIP]);
            ByteBuffer info = get(f, f.regs[RSI], 24);
            assertEquals(11, info.getInt(0));
            assertEquals(2, info.getInt(8), "SEGV_ACCERR");
            assertEquals(0xdead000, info.getLong(16), "si_addr");
            ByteBuffer sc = get(f, f.regs[RDX] + 40, 192);
            assertEquals(0xdead000, sc.getLong(SignalDelivery.SC_CR2));
            assertEquals(14, sc.getLong(SignalDelivery.SC_TRAPNO));
        }
    }

    @Test
    void resethandAndNodeferShapeTheHandlersMask() {
        try (SysFixture f = new SysFixture()) {
            stack(f, 0x1000);
            sigaction(f, SIGUSR1, HANDLER, SignalDelivery.SA_RESETHAND | SignalDelivery.SA_NODEFER, bit(SIGUSR2));
            f.task.post(new Signals.SigInfo(SIGUSR1, 0, 1, 0, 0, 0));
            assertEquals(0, SignalDelivery.beforeResume(f.task, SignalDelivery.NO_SYSCALL));
            assertEquals(bit(SIGUSR2), f.task.signals().blocked(), "SA_NODEFER: its own signal stays unblocked");
            assertEquals(Signals.SIG_DFL, f.task.signals().action(SIGUSR1).handler(), "SA_RESETHAND");
            f.task.post(new Signals.SigInfo(SIGUSR1, 0, 1, 0, 0, 0));
            assertEquals(SIGUSR1, SignalDelivery.beforeResume(f.task, SignalDelivery.NO_SYSCALL), "the second one kills");
        }
    }

    @Test
    void sigsuspendWaitsWithItsMaskAndTheHandlerFrameKeepsTheOldOne() throws Exception {
        try (SysFixture f = new SysFixture()) {
            stack(f, 0x1000);
            sigaction(f, SIGUSR1, HANDLER, 0, 0);
            f.task.signals().setBlocked(bit(SIGUSR1) | bit(SIGUSR2));
            long set = map(f, PAGE);
            put(f, set, bit(SIGUSR2));
            Thread sender = new Thread(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
                f.task.post(new Signals.SigInfo(SIGUSR1, 0, 2, 0, 0, 0));
            });
            sender.start();
            long r = f.call(130, set, 8);
            sender.join();
            assertEquals(-Signals.ERESTARTNOHAND, r);
            atSyscall(f, 130, r);
            assertEquals(0, SignalDelivery.beforeResume(f.task, r));
            assertEquals(-4, get(f, f.regs[RSP] + SignalDelivery.MCONTEXT + 8 * 13, 8).getLong(0), "EINTR after the handler");
            assertEquals(bit(SIGUSR1) | bit(SIGUSR2), get(f, f.regs[RSP] + SignalDelivery.UC_SIGMASK, 8).getLong(0),
                    "the frame keeps the mask from before sigsuspend");
            assertEquals(bit(SIGUSR1) | bit(SIGUSR2), f.task.signals().blocked(), "the handler: sigsuspend's mask and its signal");
            assertEquals(-22, f.call(130, set, 4));
        }
    }

    @Test
    void killFindsItsTargetsAsLinuxDoes() {
        try (SysFixture f = new SysFixture()) {
            Task child = f.task.forkChild(f.space, f.task.files());
            Task grandchild = child.forkChild(f.space, f.task.files());
            assertEquals(-3, f.call(62, 999, SIGUSR1), "ESRCH");
            assertEquals(-3, f.call(62, 999, 100), "ESRCH before EINVAL");
            assertEquals(-22, f.call(62, child.pid(), 65), "EINVAL");
            assertEquals(0, f.call(62, child.pid(), 0), "signal 0 checks only");
            assertEquals(0, child.signals().pending());
            assertEquals(0, f.call(62, child.pid(), SIGUSR1));
            assertEquals(bit(SIGUSR1), child.signals().pending());
            assertEquals(0, Syscalls.dispatch(child, 62, -1, SIGUSR2, 0, 0, 0, 0), "everyone but init and the caller");
            assertEquals(bit(SIGUSR2), grandchild.signals().pending());
            assertEquals(0, f.task.signals().pending(), "not init");
            assertEquals(0, child.signals().pending() & bit(SIGUSR2), "not the caller");
            assertEquals(0, f.call(62, 0, SIGTERM), "the caller's group, the caller too");
            assertEquals(bit(SIGTERM), f.task.signals().pending() & bit(SIGTERM));
            assertEquals(bit(SIGTERM), grandchild.signals().pending() & bit(SIGTERM));
            assertEquals(-3, f.call(62, -4242, SIGTERM), "an empty group");
            assertEquals(0, f.call(62, -f.task.pid(), 3));
            assertEquals(bit(3), child.signals().pending() & bit(3));
            assertEquals(-22, f.call(234, 0, child.pid(), SIGUSR1), "tgkill: tgid 0");
            assertEquals(-3, f.call(234, f.task.pid(), child.pid(), SIGUSR1), "tgkill: not in that group");
            assertEquals(0, f.call(234, child.pid(), child.pid(), 4));
            assertEquals(-22, f.call(200, -1, 4), "tkill: no groups");
        }
    }

    @Test
    void pendingAndTimedwaitTakeWhatIsBlocked() throws Exception {
        try (SysFixture f = new SysFixture()) {
            long buf = map(f, PAGE);
            f.task.signals().setBlocked(bit(SIGUSR1));
            assertEquals(0, f.call(62, f.task.pid(), SIGUSR1));
            assertEquals(0, f.call(127, buf, 8));
            assertEquals(bit(SIGUSR1), get(f, buf, 8).getLong(0));
            assertEquals(-22, f.call(127, buf, 9));
            put(f, buf, bit(SIGUSR1), 0, 0); // set, then a zero timeout
            assertEquals(SIGUSR1, f.call(128, buf, buf + 64, buf + 8, 8));
            ByteBuffer info = get(f, buf + 64, 24);
            assertEquals(SIGUSR1, info.getInt(0));
            assertEquals(f.task.pid(), info.getInt(16), "si_pid of the kill");
            assertEquals(-11, f.call(128, buf, 0, buf + 8, 8), "EAGAIN: nothing pending, no wait");
            assertEquals(0, f.task.signals().pending());
            // SIGCHLD blocked and waited for is not dropped as ignored while sigtimedwait unblocks it
            f.task.signals().setBlocked(bit(17));
            put(f, buf, bit(17), 5, 0);
            Thread t = new Thread(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
                f.task.post(new Signals.SigInfo(17, 1, 2, 0, 0, 0));
            });
            t.start();
            assertEquals(17, f.call(128, buf, 0, buf + 8, 8));
            t.join();
            assertEquals(bit(17), f.task.signals().blocked());
            assertNull(f.task.signals().dequeue());
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
