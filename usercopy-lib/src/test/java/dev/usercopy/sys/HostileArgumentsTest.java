package dev.usercopy.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hostile guest: every syscall of the memory, identity, time and signal
 * families, first with one argument at a time replaced by each wild value
 * (NULL, kernel and vsyscall addresses, the end of user space, unaligned,
 * read-only, PROT_NONE and unmapped pages, huge, negative and boundary
 * numbers) while the others are valid, then with random arguments
 * throughout. Each answer is a result or an errno: never EIO, which is how
 * {@link Syscalls#dispatch} answers a Java exception it had to stop.
 */
class HostileArgumentsTest {
    private static final long PAGE = AddressSpace.PAGE;
    /** Offsets in the region's page 0 of valid inputs: a timespec, a sigaction, a sigset, a stack_t, an rlimit. */
    private static final long TIMESPEC = 0;
    private static final long SIGACTION = 64;
    private static final long SIGSET = 128;
    private static final long STACK = 192;
    private static final long RLIMIT = 256;

    /** A valid call of each syscall: {nr, args...}, with W (page 0, the inputs) and O (page 1, for outputs) as offsets from the region. */
    private static final long W = 1L << 60;
    private static final long O = 2L << 60;
    private static final long[][] TEMPLATES = {
        {12, SysFixture.BRK_START + PAGE},
        {9, 0, PAGE, 3, 0x22, -1, 0},
        {11, W + 4 * PAGE, PAGE},
        {10, W, PAGE, 3},
        {28, W, PAGE, 4},
        {25, W + 5 * PAGE, PAGE, 2 * PAGE, 1, 0},
        {26, W, PAGE, 4},
        {39}, {110}, {186}, {102}, {107}, {104}, {108},
        {118, O, O + 8, O + 16},
        {120, O, O + 8, O + 16},
        {115, 64, O},
        {63, O},
        {99, O},
        {97, 7, O},
        {160, 7, W + RLIMIT},
        {302, 0, 7, 0, O},
        {318, O, 16, 0},
        {228, 1, O},
        {229, 1, O},
        {96, O, O + 64},
        {201, O},
        {35, W + TIMESPEC, O},
        {230, 1, 0, W + TIMESPEC, O},
        {13, 10, W + SIGACTION, O, 8},
        {14, 0, W + SIGSET, O, 8},
        {131, W + STACK, O},
    };

    @Test
    void eachArgumentWildInTurnGetsAnErrnoNeverAnException() {
        try (SysFixture f = new SysFixture()) {
            long region = 0;
            for (long[] template : TEMPLATES) {
                int nr = (int) template[0];
                int argc = Math.max(1, template.length - 1);
                for (int position = 0; position < argc; position++) {
                    region = layout(f, region);
                    for (long wild : wildValues(f, region)) {
                        long[] a = new long[6];
                        for (int k = 1; k < template.length; k++) {
                            a[k - 1] = resolve(template[k], region);
                        }
                        a[position] = wild;
                        check(f, nr, a, "");
                        if (nr == 25 || nr == 11 || nr == 9 || nr == 12) {
                            region = layout(f, region); // the call may have moved or unmapped the inputs
                        }
                    }
                }
            }
        }
    }

    @Test
    void randomArgumentsGetAnErrnoNeverAnException() {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom random = new SplittableRandom(seed);
        try (SysFixture f = new SysFixture()) {
            long region = 0;
            long[] wild = null;
            for (int i = 0; i < 10_000; i++) {
                if (i % 200 == 0) {
                    region = layout(f, region);
                    wild = wildValues(f, region);
                }
                long[] template = TEMPLATES[random.nextInt(TEMPLATES.length)];
                long[] a = new long[6];
                for (int k = 0; k < 6; k++) {
                    a[k] = random.nextBoolean() ? wild[random.nextInt(wild.length)] : random.nextLong();
                }
                check(f, (int) template[0], a, "seed " + seed + ": ");
            }
        }
    }

    private static void check(SysFixture f, int nr, long[] a, String what) {
        if (nr == 35 || nr == 230) {
            Thread.currentThread().interrupt(); // a sleep it would take ends at once with EINTR
        }
        long r = f.call(nr, a);
        Thread.interrupted();
        String call = Syscalls.name(nr) + Arrays.toString(Arrays.stream(a).mapToObj(v -> "0x" + Long.toHexString(v)).toArray());
        assertTrue(r != -Errno.EIO.number(), what + call + " hit an internal error (see stderr)");
        assertTrue(r >= -4095, what + call + " = " + r);
    }

    private static long resolve(long v, long region) {
        if ((v & (3L << 60)) == W) {
            return region + (v - W);
        }
        if ((v & (3L << 60)) == O) {
            return region + PAGE + (v - O);
        }
        return v;
    }

    /**
     * A fresh region: page 0 holds valid inputs, 1 is for outputs, 2 is
     * read-only, 3 PROT_NONE, 4 unmapped, 5 a spare mapping for mremap.
     */
    private static long layout(SysFixture f, long old) {
        if (old != 0) {
            f.call(11, old, 8 * PAGE);
        }
        long base = f.call(9, 0, 8 * PAGE, 3, 0x22, -1, 0);
        assertTrue(base > 0, "region mapped: " + base);
        ByteBuffer in = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        in.putLong((int) TIMESPEC, 0).putLong((int) TIMESPEC + 8, 1000);
        in.putLong((int) SIGACTION, 0x401000).putLong((int) SIGACTION + 8, 0x04000000).putLong((int) SIGACTION + 16, 0x401100);
        in.putLong((int) SIGSET, 1L << 9);
        in.putLong((int) STACK, 0x10000).putLong((int) STACK + 16, 8192);
        in.putLong((int) RLIMIT, 100).putLong((int) RLIMIT + 8, 100);
        f.space.copyToUser(base, in.array(), 0, 512);
        f.call(10, base + 2 * PAGE, PAGE, 1);
        f.call(10, base + 3 * PAGE, PAGE, 0);
        f.call(11, base + 4 * PAGE, PAGE);
        return base;
    }

    private static long[] wildValues(SysFixture f, long region) {
        long size = f.space.size();
        long r = region + 2 * PAGE;
        long n = region + 3 * PAGE;
        long u = region + 4 * PAGE;
        return new long[] {0, 1, -1, 2, 3, 7, 8, 9, 16, 19, 24, 32, 63, 64, 65, 100, 0x7fffffffL, 0x80000000L, 0xffffffffL, Long.MIN_VALUE,
            Long.MAX_VALUE, 0xffff800000000000L, 0xffffffffff600000L, GuestMemory.TASK_SIZE, GuestMemory.TASK_SIZE - 1, GuestMemory.TASK_SIZE - 8,
            size, size - 1, size - 8, region, region + 1, region + PAGE - 4, r - 8, r - 1, r, r + 8, n, n - 4, n - 16, u, u - 1, u - 12,
            AddressSpace.MIN_ADDRESS, AddressSpace.MIN_ADDRESS - PAGE, PAGE, 3 * PAGE, 1L << 46, 1L << 47, -PAGE, -(int) PAGE + 1};
    }
}
