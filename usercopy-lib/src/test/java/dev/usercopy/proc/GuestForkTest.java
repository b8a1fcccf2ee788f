package dev.usercopy.proc;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.usercopy.mm.MemoryManager;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Guest processes: fork, vfork, wait4 and exit, each program run natively
 * and as a guest with the same output and status, and the machine's frames
 * all back once the tree has ended.
 */
@org.junit.jupiter.api.Timeout(value = 180, unit = java.util.concurrent.TimeUnit.SECONDS)
class GuestForkTest {
    private MemoryManager mm;

    @BeforeEach
    void machine() {
        mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(1L << 15));
    }

    @AfterEach
    void noFrameLeft() {
        mm.checkInvariants();
        assertEquals(0, mm.stats().usedFrames(), "every frame is back once the guest tree has ended");
        assertEquals(0, mm.stats().addressSpaces(), "every address space is closed");
        mm.close();
    }

    /** write(1, [rel LABEL], 1) */
    private static String put(String label) {
        return "mov eax, 1\nmov edi, 1\nlea rsi, [rel " + label + "]\nmov edx, 1\nsyscall\n";
    }

    private static final String WAIT_ANY = "mov edi, -1\nlea rsi, [rel status]\nxor edx, edx\nxor r10d, r10d\nmov eax, 61\nsyscall\n";

    /** Runs {@code exe} both ways: {stdout, status} natively and as a guest must agree. */
    private void sameBothWays(Path exe, Path dir) throws Exception {
        Path nat = dir.resolve("native.out");
        Process p = new ProcessBuilder(exe.toString()).redirectOutput(nat.toFile()).start();
        int nativeStatus = p.waitFor();
        Path out = dir.resolve("guest.out");
        Guest.Result r = Guest.run(mm, exe.toString(), List.of(exe.toString()), List.of(), Guest.Options.defaults().withOutput(out, null));
        assertEquals(Files.readString(nat), Files.readString(out), "stdout, natively and as a guest; " + r);
        assertEquals(nativeStatus, r.status(), r.toString());
    }

    @Test
    void aForkedChildWritesItsOwnCopyAndItsParentWaitsForItsStatus(@TempDir Path dir) throws Exception {
        // v = '1'; fork; the child sets v = '2', prints it, exits 7; the parent waits, prints v ('1')
        // and exits with the child's exit code + 10.
        Path exe = NasmGuest.build("forkcopy", "_start: mov eax, 57\nsyscall\ntest eax, eax\njnz .parent\n"
                + "mov byte [rel v], '2'\n" + put("v") + "mov eax, 60\nmov edi, 7\nsyscall\n"
                + ".parent: " + WAIT_ANY + put("v") + "mov edi, [rel status]\nshr edi, 8\nand edi, 0xff\nadd edi, 10\nmov eax, 60\nsyscall\n"
                + "section .data\nv: db '1'\nalign 8\nstatus: dd 0\n");
        sameBothWays(exe, dir);
    }

    @Test
    void aVforkChildSharesItsParentsMemoryUntilItExits(@TempDir Path dir) throws Exception {
        // vfork; the child stores '5' in v and _exits; the parent, released, prints v: '5', as on Linux.
        Path exe = NasmGuest.build("vforkshare", "_start: mov eax, 58\nsyscall\ntest eax, eax\njnz .parent\n"
                + "mov byte [rel v], '5'\nmov eax, 60\nxor edi, edi\nsyscall\n"
                + ".parent: " + WAIT_ANY + put("v") + "mov eax, 60\nxor edi, edi\nsyscall\n"
                + "section .data\nv: db '1'\nalign 8\nstatus: dd 0\n");
        sameBothWays(exe, dir);
    }

    @Test
    void aChildKilledByASignalIsSeenSoByItsParent(@TempDir Path dir) throws Exception {
        // The child writes to address 8 (SIGSEGV, no handler); the parent exits with the raw wait status's low 7 bits: 11.
        Path exe = NasmGuest.build("forksegv", "_start: mov eax, 57\nsyscall\ntest eax, eax\njnz .parent\n"
                + "mov byte [8], 1\n"
                + ".parent: " + WAIT_ANY + "mov edi, [rel status]\nand edi, 0x7f\nmov eax, 60\nsyscall\n"
                + "section .data\nalign 8\nstatus: dd 0\n");
        sameBothWays(exe, dir);
    }

    @Test
    void waitWithoutChildrenIsEchildAndWnohangDoesNotBlock(@TempDir Path dir) throws Exception {
        // wait4(-1) with no child: -ECHILD (-10) -> exit 10. Then fork a child that sleeps on a pause-free loop of
        // sched_yield... simpler: a child that exits at once; WNOHANG before it can have ended may see 0 or its pid,
        // so only ECHILD is compared here.
        Path exe = NasmGuest.build("echild", "_start: " + WAIT_ANY + "neg eax\nmov edi, eax\nmov eax, 60\nsyscall\n"
                + "section .data\nalign 8\nstatus: dd 0\n");
        sameBothWays(exe, dir);
    }

    @Test
    void aHundredForkedChildrenAreAllWaitedFor(@TempDir Path dir) throws Exception {
        // Fork 100 children, each exiting 1; wait for all and exit with the sum of their codes mod 256 (100).
        Path exe = NasmGuest.build("fork100", "_start: mov r12d, 100\n.f: mov eax, 57\nsyscall\ntest eax, eax\njnz .next\n"
                + "mov eax, 60\nmov edi, 1\nsyscall\n"
                + ".next: dec r12d\njnz .f\nxor r13d, r13d\nmov r12d, 100\n.w: " + WAIT_ANY
                + "mov eax, [rel status]\nshr eax, 8\nand eax, 0xff\nadd r13d, eax\ndec r12d\njnz .w\n"
                + WAIT_ANY + "cmp eax, -10\njne .bad\nmov edi, r13d\nmov eax, 60\nsyscall\n.bad: mov eax, 60\nmov edi, 255\nsyscall\n"
                + "section .data\nalign 8\nstatus: dd 0\n");
        sameBothWays(exe, dir);
    }
}
