package dev.usercopy.sys;

import java.io.IOException;
import java.io.PrintStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.HostFiles;
import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hostile guest: every file syscall with arguments drawn from wild
 * pointers, kernel addresses, the ends of user space, huge and negative
 * lengths, bad descriptors and a few real paths. Each call must come back
 * as a count or an errno, never as the EIO that {@link Syscalls#dispatch}
 * gives for a Java exception, never blocking, and nothing beneath the root
 * but the writable directory may change.
 */
class HostileFileCallsTest extends SysScenario {
    private static final int[] FILE_CALLS = {0, 1, 2, 3, 4, 5, 6, 8, 16, 17, 18, 19, 20, 21, 32, 33, 72, 76, 77, 79, 80, 81, 82, 83, 84,
            85, 87, 88, 89, 90, 91, 95, 217, 257, 258, 262, 263, 264, 266, 267, 268, 269, 292, 316, 332, 439};

    @Test
    void everyFileSyscallAnswersWildArgumentsWithAnErrnoNeverAnException() throws IOException {
        long seed = Long.getLong("usercopy.hostile.seed", 20261128L);
        SplittableRandom random = new SplittableRandom(seed);
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/passwd"), "guest passwd");
        Files.createSymbolicLink(rw.resolve("esc"), root.resolve("etc/passwd"));
        as.mmap(BUF, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        as.mmap(BUF + 2 * PAGE, PAGE, Prot.READ, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        long[] strings = {str("/etc/passwd"), str("/rw/x"), str("rw/y"), str("."), str("/rw/../etc/passwd"), str("/rw/esc"), str(""),
                str("/rw"), str("../../.."), str("/proc/self/mem"), str("/dev/null")};
        long size = as.size();
        long[] wild = {0, 1, -1, 8, 0xffff800000000000L, 0xffffffffff600000L, Long.MAX_VALUE, Long.MIN_VALUE, size - 1, size, size - 8,
                1L << 47, 0x7ffffffff000L, BUF, BUF + PAGE - 3, BUF + 2 * PAGE, BUF + 3 * PAGE, SCRATCH, 1L << 40, Integer.MAX_VALUE,
                0xffffffffL, 4096, 100, -100, 0, 1, 2, 3, 4, 5, 6, 7, 63, 64, 1025};
        int[] pipe = pipe();
        HostFiles.close(pipe[1]); // reads of the pipe see its end, never block
        install(pipe[0], HostFiles.O_RDONLY);
        Map<String, String> before = snapshot(root.resolve("etc"));
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true));
        try {
            for (int i = 0; i < 6000; i++) {
                int nr = FILE_CALLS[random.nextInt(FILE_CALLS.length)];
                long[] args = new long[6];
                for (int a = 0; a < 6; a++) {
                    int pick = random.nextInt(10);
                    args[a] = pick < 3 ? strings[random.nextInt(strings.length)] : pick < 9 ? wild[random.nextInt(wild.length)] : random.nextLong();
                }
                if ((nr == 0 || nr == 17 || nr == 19) && args[0] == 0) {
                    args[0] = 3; // never the JVM's standard input: it may block
                }
                long r = call(nr, args);
                final int call = nr;
                assertTrue(r >= -4095 || r >= 0, () -> "seed " + seed + ": " + Syscalls.name(call) + Arrays.toString(args) + " = " + r);
                assertTrue(r != -Errno.EIO.number(), () -> "seed " + seed + ": " + Syscalls.name(call) + Arrays.toString(args)
                        + " threw inside (EIO): " + captured);
            }
        } finally {
            System.setErr(err); // pipe[0] is the table's now: closeAll closes it
        }
        assertEquals("", captured.toString(), "seed " + seed + ": internal errors");
        assertEquals(before, snapshot(root.resolve("etc")), "seed " + seed + ": the read-only part of the root changed");
    }
}
