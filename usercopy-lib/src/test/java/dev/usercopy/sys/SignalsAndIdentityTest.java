package dev.usercopy.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The state the signal syscalls record for a later delivery, the guest's ids, its random bytes and its inherited limits. */
class SignalsAndIdentityTest {
    private static final long PAGE = 4096;

    private static long buffer(SysFixture f) {
        return f.call(9, 0, PAGE, 3, 0x22, -1, 0);
    }

    private static void put(SysFixture f, long addr, long... values) {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        assertEquals(0, f.space.copyToUser(addr, b.array(), 0, b.capacity()));
    }

    @Test
    void sigactionSigprocmaskAndSigaltstackAreRecordedForDelivery() {
        try (SysFixture f = new SysFixture()) {
            long buf = buffer(f);
            put(f, buf, 0x401000, 0x04000004, 0x401100, 1L << 1 | 1L << 8);
            assertEquals(0, f.call(13, 15, buf, 0, 8));
            Signals.Action a = f.task.signals().action(15);
            assertEquals(new Signals.Action(0x401000, 0x04000004, 0x401100, 1L << 1), a, "SIGKILL's bit is dropped from the mask");
            assertEquals(new Signals.Action(0, 0, 0, 0), f.task.signals().action(14), "the others keep SIG_DFL");
            put(f, buf, 1L << 8 | 1L << 18 | 1L << 1); // SIGKILL, SIGSTOP, SIGINT
            assertEquals(0, f.call(14, 0, buf, 0, 8));
            assertEquals(1L << 1, f.task.signals().blocked(), "SIGKILL and SIGSTOP are never blocked");
            put(f, buf, 0x7000000, 0, 1 << 16);
            assertEquals(0, f.call(131, buf, 0));
            assertEquals(new Signals.AltStack(0x7000000, 0, 1 << 16), f.task.signals().altStack());
        }
    }

    @Test
    void theGuestIsProcessOneWithTheUsersIds() {
        try (SysFixture f = new SysFixture()) {
            assertEquals(1, f.call(39));
            assertEquals(1, f.call(186));
            assertEquals(0, f.call(110));
            int[] uid = dev.usercopy.platform.HostSystem.getresuid();
            assertEquals(Integer.toUnsignedLong(uid[0]), f.call(102));
            assertEquals(Integer.toUnsignedLong(uid[1]), f.call(107));
        }
    }

    @Test
    void getrandomGivesFreshBytesEachCall() {
        try (SysFixture f = new SysFixture()) {
            long buf = buffer(f);
            byte[] first = new byte[64];
            byte[] second = new byte[64];
            assertEquals(64, f.call(318, buf, 64, 0));
            f.space.copyFromUser(first, 0, buf, 64);
            assertEquals(64, f.call(318, buf, 64, 0));
            f.space.copyFromUser(second, 0, buf, 64);
            assertFalse(Arrays.equals(first, second), "two draws of 512 bits agree");
            assertFalse(Arrays.equals(first, new byte[64]), "all zeros");
        }
    }

    @Test
    void theUsersSoftNofileLimitComesFromTheLauncher() {
        String before = System.getProperty(ResourceLimits.NOFILE_PROPERTY);
        try {
            long hard = ResourceLimits.inherited().hard(ResourceLimits.RLIMIT_NOFILE);
            System.setProperty(ResourceLimits.NOFILE_PROPERTY, "123");
            assertEquals(123, ResourceLimits.inherited().soft(ResourceLimits.RLIMIT_NOFILE));
            System.setProperty(ResourceLimits.NOFILE_PROPERTY, "unlimited");
            long unlimited = ResourceLimits.inherited().soft(ResourceLimits.RLIMIT_NOFILE);
            assertEquals(hard == ResourceLimits.INFINITY ? ResourceLimits.INFINITY : ResourceLimits.inherited().hard(7), unlimited == -1 ? hard : unlimited,
                    "unlimited is taken only under an unlimited hard limit");
            System.setProperty(ResourceLimits.NOFILE_PROPERTY, "not a number");
            assertEquals(ResourceLimits.inherited().hard(7), ResourceLimits.inherited().soft(7), "garbage: the JVM's (raised) value");
            try (SysFixture f = new SysFixture()) {
                System.setProperty(ResourceLimits.NOFILE_PROPERTY, "77");
                try (SysFixture g = new SysFixture()) {
                    long buf = buffer(g);
                    assertEquals(0, g.call(97, 7, buf));
                    byte[] b = new byte[8];
                    g.space.copyFromUser(b, 0, buf, 8);
                    assertEquals(77, ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(), "getrlimit shows the user's value");
                }
                // setrlimit changes the guest's copy only.
                long buf = buffer(f);
                put(f, buf, 10, 10);
                assertEquals(0, f.call(160, 7, buf));
                assertEquals(10, f.task.limits().soft(7));
                assertTrue(dev.usercopy.platform.HostSystem.getrlimit(7)[0] > 10, "the JVM's own limit is untouched");
            }
        } finally {
            if (before == null) {
                System.clearProperty(ResourceLimits.NOFILE_PROPERTY);
            } else {
                System.setProperty(ResourceLimits.NOFILE_PROPERTY, before);
            }
        }
    }

    @Test
    void prlimitOfAnotherProcessIsEsrch() {
        try (SysFixture f = new SysFixture()) {
            assertEquals(-Errno.ESRCH.number(), f.call(302, 2, 7, 0, 0));
            assertEquals(0, f.call(302, 1, 7, 0, 0), "its own pid is itself");
        }
    }
}
