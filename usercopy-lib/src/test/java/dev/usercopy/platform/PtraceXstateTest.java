package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PTRACE_GETREGSET and SETREGSET of NT_X86_XSTATE on a stopped stub: the
 * area the host gives (XCR0 where a signal frame has its software bytes), a
 * change that comes back, and what the host refuses.
 */
class PtraceXstateTest {
    /** fxregs_state's MXCSR; the XSAVE header's XSTATE_BV. */
    private static final int MXCSR = 24;
    private static final int XSTATE_BV = 512;
    /** ptrace's layout (asm/user.h, user_xstateregs): the host's XCR0 in the first software-reserved word. */
    private static final int XCR0 = 464;

    @Test
    void theExtendedStateComesBackAsItWasSetAndABadMxcsrIsRefused() {
        try (Arena arena = Arena.ofConfined()) {
            int pid = Ptrace.spawn(GuestStub.path(), 0, GuestStub.FRAME_FD);
            Ptrace.Tracee t = new Ptrace.Tracee(pid, arena);
            try {
                int st = t.waitStatus();
                assertTrue(Ptrace.stopped(st) && Ptrace.stopSig(st) == Ptrace.SIGSTOP, "the stub stops for its tracer: 0x" + Integer.toHexString(st));
                byte[] area = t.xstate();
                ByteBuffer b = ByteBuffer.wrap(area).order(ByteOrder.LITTLE_ENDIAN);
                assertTrue(area.length >= 576, "legacy area and XSAVE header: " + area.length);
                long xcr0 = b.getLong(XCR0);
                assertEquals(3, xcr0 & 3, "x87 and SSE are always enabled: XCR0 0x" + Long.toHexString(xcr0));
                assertEquals(0, b.getLong(XSTATE_BV) & ~xcr0, "only enabled features in use");
                assertTrue((xcr0 & 4) == 0 || area.length >= 832, "AVX's upper halves end at 832: " + area.length);
                assertEquals(0x1f80, b.getInt(MXCSR), "a fresh process's MXCSR");

                b.putInt(MXCSR, 0x7f80); // round toward zero
                b.putLong(XSTATE_BV, b.getLong(XSTATE_BV) | 3); // x87 and SSE in use, so the host takes the legacy area
                t.setXstate(area);
                ByteBuffer back = ByteBuffer.wrap(t.xstate()).order(ByteOrder.LITTLE_ENDIAN);
                assertEquals(0x7f80, back.getInt(MXCSR));

                b.putInt(MXCSR, 0x1f80 | 1 << 20); // a reserved bit
                NativeCallException e = assertThrows(NativeCallException.class, () -> t.setXstate(area));
                assertEquals(22, e.errno(), "EINVAL");
                b.putInt(MXCSR, 0x1f80);
                assertThrows(NativeCallException.class, () -> t.setXstate(java.util.Arrays.copyOf(area, area.length - 64)),
                        "a short area");
            } finally {
                Ptrace.kill(pid, Ptrace.SIGKILL);
                while (Ptrace.stopped(t.waitStatus())) {
                    // on its way out
                }
            }
        }
    }
}
