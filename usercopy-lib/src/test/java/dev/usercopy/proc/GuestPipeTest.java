package dev.usercopy.proc;

import java.nio.file.Path;
import java.util.List;

import dev.usercopy.mm.MemoryManager;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Pipes in a guest process, through its tracer: each program runs as a
 * guest and natively, and the exit statuses must agree (each failed step
 * exits with its own number).
 */
@org.junit.jupiter.api.Timeout(value = 180, unit = java.util.concurrent.TimeUnit.SECONDS)
class GuestPipeTest {
    private static MemoryManager mm;

    @BeforeAll
    static void machine() {
        mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(1L << 14));
    }

    @AfterAll
    static void close() {
        mm.close();
    }

    private static int both(String name, String source) throws Exception {
        Path exe = NasmGuest.build(name, source);
        long before = mm.stats().usedFrames();
        Guest.Result r = Guest.run(mm, exe.toString(), List.of(name), List.of(), Guest.Options.defaults());
        int expected = NasmGuest.runNatively(exe);
        assertNull(r.error(), r.toString());
        assertEquals(expected, r.status(), name + ": native status " + expected + ", guest " + r);
        mm.checkInvariants();
        assertEquals(before, mm.stats().usedFrames(), "frames left behind by " + name);
        return r.status();
    }

    /** Calls syscall {@code nr} with the lines of {@code args} before it, then exits with {@code code} unless rax is {@code expect}. */
    private static String step(int nr, String args, long expect, int code) {
        return args + "mov eax, " + nr + "\nsyscall\ncmp rax, " + expect + "\nje .ok" + code + "\nmov edi, " + code + "\nmov eax, 60\nsyscall\n.ok" + code + ":\n";
    }

    @Test
    void bytesGoThroughAPipeAndItsReadinessAndEndAreLinuxs() throws Exception {
        String src = "_start:\n"
                + step(293, "lea rdi, [rel fds]\nxor esi, esi\n", 0, 1) // pipe2(fds, 0)
                + step(1, "mov edi, [rel fds+4]\nlea rsi, [rel msg]\nmov edx, 3\n", 3, 2) // write 3 bytes
                + "mov eax, [rel fds]\nmov [rel pfd], eax\n"
                + step(7, "lea rdi, [rel pfd]\nmov esi, 1\nmov edx, -1\n", 1, 3) // poll: readable
                + step(0, "mov edi, [rel fds]\nlea rsi, [rel buf]\nmov edx, 16\n", 3, 4) // read them
                + step(72, "mov edi, [rel fds]\nmov esi, 4\nmov edx, 0x800\n", 0, 5) // F_SETFL O_NONBLOCK
                + step(0, "mov edi, [rel fds]\nlea rsi, [rel buf+8]\nmov edx, 16\n", -11, 6) // empty: EAGAIN
                + step(3, "mov edi, [rel fds+4]\n", 0, 7) // close the write end
                + step(0, "mov edi, [rel fds]\nlea rsi, [rel buf+8]\nmov edx, 16\n", 0, 8) // end of file
                + "mov ecx, [rel fds]\nbts qword [rel set], rcx\ninc ecx\nmov edi, ecx\n"
                + step(23, "lea rsi, [rel set]\nxor edx, edx\nxor r10d, r10d\nlea r8, [rel tv]\n", 1, 9) // select: readable at EOF
                + "movzx edi, byte [rel buf+2]\nmov eax, 60\nsyscall\n"
                + "section .data\nfds: dd -1, -1\nmsg: db 'abc'\npfd: dd 0\ndw 1, 0\nbuf: times 32 db 0\nset: times 16 dq 0\ntv: dq 1, 0\n";
        assertEquals('c', both("pipe-basics", src));
    }

    @Test
    void aWriteToAPipeWhoseReaderIsClosedKillsWithSigpipe() throws Exception {
        String src = "_start:\n"
                + step(293, "lea rdi, [rel fds]\nxor esi, esi\n", 0, 1)
                + step(3, "mov edi, [rel fds]\n", 0, 2)
                + step(1, "mov edi, [rel fds+4]\nlea rsi, [rel fds]\nmov edx, 1\n", -32, 3)
                + "mov edi, 4\nmov eax, 60\nsyscall\n"
                + "section .data\nfds: dd -1, -1\n";
        assertEquals(128 + 13, both("pipe-sigpipe", src));
    }
}
