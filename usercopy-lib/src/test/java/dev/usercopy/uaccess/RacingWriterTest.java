package dev.usercopy.uaccess;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MmScenario;
import dev.usercopy.mm.Prot;
import dev.usercopy.uapi.Errno;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seed 002: the kernel copying memory a guest thread is rewriting at the
 * same moment is defined behaviour. Every byte the kernel gets is one the
 * guest wrote there, old or new (byte-wise atomic), never anything else and
 * never a crash; a mix that is not UTF-8 is EILSEQ.
 */
class RacingWriterTest extends MmScenario {
    private static final int ROUNDS = 20_000;

    /** The writer's rounds, and what stopped it if it failed; checked after it is joined. */
    private final java.util.concurrent.atomic.AtomicLong rounds = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicReference<Throwable> writerFailed = new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * Rewrites [at, at + a.length) with b, then a, then b... until stopped,
     * 3 bytes at a time, so a reader often meets a half-rewritten character.
     */
    private Thread writer(AddressSpace as, long at, byte[] a, byte[] b, AtomicBoolean stop) {
        Thread t = new Thread(() -> {
            try {
                for (long i = 1; !stop.get(); i++) {
                    byte[] next = (i & 1) == 0 ? a : b;
                    for (int off = 0; off < next.length; off += 3) {
                        int n = Math.min(3, next.length - off);
                        if (as.copyToUser(at + off, next, off, n) != 0) {
                            throw new AssertionError("the writer's own copy failed");
                        }
                    }
                    rounds.incrementAndGet();
                }
            } catch (Throwable e) {
                writerFailed.set(e);
            }
        }, "guest-writer");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Joins the writer and fails if it failed or never finished a rewrite. */
    private void joinWriter(Thread w, AtomicBoolean stop) throws InterruptedException {
        stop.set(true);
        w.join();
        if (writerFailed.get() != null) {
            throw new AssertionError("the writer failed", writerFailed.get());
        }
        assertTrue(rounds.get() > 0, "the writer never finished a rewrite: the race was not run");
    }

    private static void assertEachByteIsOldOrNew(byte[] got, byte[] a, byte[] b, String what) {
        for (int i = 0; i < got.length; i++) {
            if (got[i] != a[i] && got[i] != b[i]) {
                throw new AssertionError(what + " byte " + i + " is " + got[i] + ", neither the old " + a[i] + " nor the new " + b[i]);
            }
        }
    }

    @Test
    void copyToStringGetsAnOldNewMixOrEilseq() throws InterruptedException {
        machine();
        AddressSpace as = space();
        long at = as.mmap(0, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        int n = 600; // straddles a page boundary below
        long s = at + PAGE - n / 2;
        byte[] a = "é".repeat(n / 2).getBytes(StandardCharsets.UTF_8); // C3 A9 ...
        byte[] b = "ab".repeat(n / 2).getBytes(StandardCharsets.UTF_8);
        assertEquals(n, a.length);
        write(as, s, a);
        AtomicBoolean stop = new AtomicBoolean();
        Thread w = writer(as, s, a, b, stop);
        int valid = 0;
        int eilseq = 0;
        try {
            for (int r = 0; r < ROUNDS; r++) {
                try {
                    String got = UserSlice.ro(as, s, n).copyToString();
                    assertEachByteIsOldOrNew(got.getBytes(StandardCharsets.UTF_8), a, b, "round " + r + ":");
                    valid++;
                } catch (ErrnoException e) {
                    assertEquals(Errno.EILSEQ, e.errno(), e.getMessage());
                    eilseq++;
                }
                try {
                    byte[] c = UserConstPtr.of(as, s, JAVA_BYTE).getAsSlice(n).toArray(JAVA_BYTE);
                    assertEachByteIsOldOrNew(c, a, b, "round " + r + " (UserPtr):");
                } catch (ErrnoException e) {
                    throw new AssertionError("a racing rewrite is not a fault", e);
                }
            }
        } finally {
            joinWriter(w, stop);
        }
        assertEquals(ROUNDS, valid + eilseq);
        System.out.printf("racing copyToString: %d valid old/new mixes, %d EILSEQ in %d rounds%n", valid, eilseq, ROUNDS);
        check();
    }

    @Test
    void structReadsGetEachByteOldOrNew() throws InterruptedException {
        machine();
        AddressSpace as = space();
        long at = as.mmap(0, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        byte[] a = new byte[16];
        byte[] b = new byte[16];
        Arrays.fill(a, (byte) 0x11);
        Arrays.fill(b, (byte) 0xEE);
        write(as, at + 8, a);
        AtomicBoolean stop = new AtomicBoolean();
        Thread w = writer(as, at + 8, a, b, stop);
        try {
            for (int r = 0; r < ROUNDS; r++) {
                MemorySegment ts = UserConstPtr.of(as, at + 8, UserPtrTest.TIMESPEC).get();
                assertEachByteIsOldOrNew(ts.toArray(JAVA_BYTE), a, b, "round " + r + ":");
                long sec = UserConstPtr.of(as, at + 8, JAVA_LONG).getLong();
                assertTrue(sec == 0x1111111111111111L || sec == 0xEEEEEEEEEEEEEEEEL || mixed(sec), Long.toHexString(sec));
            }
        } finally {
            joinWriter(w, stop);
        }
        check();
    }

    private static boolean mixed(long v) {
        for (int i = 0; i < 8; i++) {
            int x = (int) (v >>> (8 * i)) & 0xff;
            if (x != 0x11 && x != 0xEE) {
                return false;
            }
        }
        return true;
    }
}
