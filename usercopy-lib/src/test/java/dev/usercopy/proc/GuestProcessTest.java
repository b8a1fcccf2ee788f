package dev.usercopy.proc;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.usercopy.mm.MemoryManager;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Guest processes that need nothing of the syscall layer but exit: their
 * status, the faults of their own memory, and the JVM's hold on them. Each
 * program also runs natively, and the two statuses must agree.
 */
@org.junit.jupiter.api.Timeout(value = 180, unit = java.util.concurrent.TimeUnit.SECONDS) // a tracer that hangs must not hang the suite
class GuestProcessTest {
    private static MemoryManager mm;
    private static long baselineUsed;

    @BeforeAll
    static void machine() {
        mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(1L << 16));
        baselineUsed = mm.stats().usedFrames();
    }

    @AfterAll
    static void close() {
        mm.close();
    }

    private static final String EXIT = "mov eax, 60\nsyscall\n";

    /** Runs {@code source} as a guest and natively; returns the guest's status after checking both agree. */
    private static int both(String name, String source) throws Exception {
        Path exe = NasmGuest.build(name, source);
        Guest.Result r = Guest.run(mm, exe.toString(), List.of(name), List.of(), Guest.Options.defaults());
        int expected = NasmGuest.runNatively(exe);
        assertNull(r.error(), r.toString());
        assertEquals(expected, r.status(), name + ": native status " + expected + ", guest " + r);
        mm.checkInvariants();
        assertEquals(baselineUsed, mm.stats().usedFrames(), "frames left behind by " + name);
        return r.status();
    }

    @Test
    void exitStatusIsTheGuests() throws Exception {
        assertEquals(42, both("exit42", "_start: mov edi, 42\n" + EXIT));
    }

    @Test
    void touchingAnUnmappedPageKillsWithSigsegv() throws Exception {
        assertEquals(139, both("segv", "_start: mov rax, [0x12345000]\nmov edi, 0\n" + EXIT));
    }

    @Test
    void writingTheProgramsTextKillsWithSigsegv() throws Exception {
        assertEquals(139, both("textwrite", "_start: mov byte [rel _start], 0x90\nmov edi, 0\n" + EXIT));
    }

    @Test
    void jumpingIntoDataKillsWithSigsegv() throws Exception {
        assertEquals(139, both("nx", "_start: lea rax, [rel code]\njmp rax\nsection .data\ncode: mov edi, 0\n" + EXIT));
    }

    @Test
    void theStubCannotBeRead() throws Exception {
        // Natively nothing is mapped at 0x7f0000000000; here the stub is, execute-only (protection keys).
        org.junit.jupiter.api.Assumptions.assumeFalse(dev.usercopy.platform.HostKernel.EXEC_ONLY_READABLE,
                "this host makes PROT_EXEC readable: the stub page cannot be hidden from reads");
        assertEquals(139, both("readstub", "_start: mov rax, [0x7f0000000000]\nmov edi, 0\n" + EXIT));
    }

    @Test
    void theStubsFilterKillsAnInjectedCallOutsideItsList() throws Exception {
        // Defence in depth: were the tracer ever to let a call through to the host, seccomp ends the child.
        Path exe = NasmGuest.build("exit42", "_start: mov edi, 42\n" + EXIT);
        StubProcess.injectAtSetupForTest = 110; // getppid: harmless, but not a call the tracer ever needs
        try {
            Guest.Result r = Guest.run(mm, exe.toString(), List.of("exit42"), List.of(), Guest.Options.defaults());
            assertEquals(128 + 31, r.status(), "killed by SIGSYS: " + r);
        } finally {
            StubProcess.injectAtSetupForTest = -1;
        }
        StubProcess.injectAtSetupForTest = 9; // mmap(NULL, 0): allowed through, EINVAL, the program runs
        try {
            assertEquals(42, Guest.run(mm, exe.toString(), List.of("exit42"), List.of(), Guest.Options.defaults()).status());
        } finally {
            StubProcess.injectAtSetupForTest = -1;
        }
        mm.checkInvariants();
        assertEquals(baselineUsed, mm.stats().usedFrames());
    }

    @Test
    void jumpingIntoTheStubKillsWithSigsegv() throws Exception {
        // Its `syscall; int3`, and its start (which would ask to be traced and stop itself).
        assertEquals(139, both("jumpstub", "_start: mov eax, 39\nmov rcx, 0x7f00000000c0\njmp rcx\n"));
        assertEquals(139, both("jumpstart", "_start: mov rcx, 0x7f00000000c3\njmp rcx\n"));
        assertEquals(139, both("jumpint3", "_start: mov rcx, 0x7f00000000c2\njmp rcx\n"));
    }

    @Test
    void theProgramsDataIsPrivateAndWritable() throws Exception {
        // .data is a private mapping of the file: written here, unchanged in the file.
        String src = "_start: mov eax, [rel value]\nadd eax, 1\nmov [rel value], eax\nmov edi, [rel value]\n" + EXIT
                + "section .data\nvalue: dd 41\n";
        assertEquals(42, both("cow", src));
        assertEquals(42, both("cow", src), "the file still holds 41");
    }

    @Test
    void bssIsZeroedAndWritable() throws Exception {
        String src = "_start: mov edi, [rel zero]\nmov dword [rel zero + 8000], 7\nadd edi, [rel zero + 8000]\n" + EXIT
                + "section .data\nd: db 1\nsection .bss\nzero: resb 16384\n";
        assertEquals(7, both("bss", src));
    }

    @Test
    void theStackIsAlignedAndHoldsArgc() throws Exception {
        // rsp % 16 == 0 at entry, [rsp] = argc = 1, [rsp+8] = argv[0] non-null, [rsp+16] = NULL.
        String src = "_start: mov rax, rsp\nand eax, 15\njnz bad\ncmp qword [rsp], 1\njne bad\ncmp qword [rsp+8], 0\nje bad\n"
                + "cmp qword [rsp+16], 0\njne bad\nmov edi, 0\n" + EXIT + "bad: mov edi, 1\n" + EXIT;
        assertEquals(0, both("stack", src));
    }

    @Test
    void aDeepStackIsDemandPagedInFewHostMappings() throws Exception {
        // Touched downwards, a page at a time: each fault's frames continue the last ones, so the
        // child maps the stack as a few runs, not one host mapping a page (vm.max_map_count).
        String src = "_start: mov rcx, 1000\n.l: sub rsp, 4096\nmov qword [rsp], rcx\nloop .l\nmov edi, 3\n" + EXIT;
        assertEquals(3, both("deepstack", src));
        Guest.Result r = Guest.run(mm, NasmGuest.build("deepstack", src).toString(), List.of("deepstack"), List.of(),
                Guest.Options.defaults());
        assertTrue(r.childVmas() < 16, "host mappings for a 4 MiB stack: " + r);
        assertTrue(r.guestFaults() <= 1000 / 16 + 8, "faults for 1000 pages with fault-around 16: " + r);
    }

    @Test
    void registersSurviveTheFaultsTheTracerServes() throws Exception {
        // Each store to a fresh bss page is a fault the tracer serves by injecting mmap into the child;
        // the program's registers must come back exactly as they were.
        // A counter in .data catches a restart from an older stop, which would set the registers again.
        StringBuilder src = new StringBuilder("_start:\nmov eax, 110\nsyscall\ninc dword [rel runs]\n");
        String[] regs = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
        for (int i = 0; i < regs.length; i++) {
            src.append("mov ").append(regs[i]).append(", ").append(0x1111_0000_0000L * (i + 1) + i).append('\n');
        }
        src.append("mov byte [rel area], 1\nmov byte [rel area + 65536], 1\nmov byte [rel area + 300000], 1\n");
        for (int i = 0; i < regs.length; i++) {
            src.append("mov rsp, ").append(0x1111_0000_0000L * (i + 1) + i).append("\ncmp ").append(regs[i]).append(", rsp\njne bad\n");
        }
        src.append("cmp dword [rel runs], 1\njne bad\nmov edi, 0\n").append(EXIT).append("bad: mov edi, 1\n").append(EXIT)
                .append("section .data\nruns: dd 0\nsection .bss\nalign 4096\narea: resb 400000\n");
        assertEquals(0, both("regs", src.toString()));
    }

    @Test
    void aSyscallInExecuteOnlyCodeIsServed() throws Exception {
        // With protection keys the text page becomes unreadable, even to the kernel's copy that checks
        // which instruction made the call: the host is asked instead.
        String src = "_start: lea rdi, [rel _start]\nand rdi, -4096\nmov esi, 4096\nmov edx, 4\nmov eax, 10\nsyscall\n"
                + "test rax, rax\njnz bad\nmov edi, 7\n" + EXIT + "bad: mov edi, 1\n" + EXIT;
        assertEquals(7, both("execonly", src));
    }

    @Test
    void int80IsRefusedNotMisread() throws Exception {
        // i386 exit(5) through int 0x80 would end the program natively; here it must come back ENOSYS.
        String src = "_start: mov eax, 1\nmov ebx, 5\nint 0x80\nmov rdi, rax\nneg rdi\n" + EXIT;
        Path exe = NasmGuest.build("int80", src);
        Guest.Result r = Guest.run(mm, exe.toString(), List.of("int80"), List.of(), Guest.Options.defaults());
        assertEquals(38, r.status(), r.toString());
    }

    @Test
    void aGuestKilledFromOutsideLeavesNothing() throws Exception {
        Path exe = NasmGuest.build("spin", "_start: jmp _start\n");
        Guest g = Guest.start(mm, exe.toString(), List.of("spin"), List.of(), Guest.Options.defaults());
        int pid = 0;
        for (int i = 0; i < 200 && pid == 0; i++) {
            Thread.sleep(10);
            pid = g.hostPid();
        }
        assertTrue(pid > 0, "the guest got a host process");
        Thread.sleep(100);
        new ProcessBuilder("kill", "-9", Integer.toString(pid)).start().waitFor(10, TimeUnit.SECONDS);
        Guest.Result r = g.waitFor();
        assertEquals(137, r.status(), r.toString());
        assertFalse(Files.exists(Path.of("/proc/" + pid)), "no zombie left");
        mm.checkInvariants();
        assertEquals(baselineUsed, mm.stats().usedFrames());
    }

    @Test
    void severalGuestsAtOnceEachOnItsOwnTracer() throws Exception {
        Path exe = NasmGuest.build("count", "_start: mov rcx, 1500\n.l: sub rsp, 4096\nmov [rsp], rcx\nloop .l\nmov edi, 9\n" + EXIT);
        List<Guest> guests = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            guests.add(Guest.start(mm, exe.toString(), List.of("count"), List.of(), Guest.Options.defaults()));
        }
        for (Guest g : guests) {
            assertEquals(9, g.waitFor().status());
        }
        mm.checkInvariants();
        assertEquals(baselineUsed, mm.stats().usedFrames());
    }

    @Test
    void aGuestThatCannotStartLeavesNoHostDescriptorOpen() throws Exception {
        Path exe = NasmGuest.build("exit0", "_start: mov edi, 0\n" + EXIT);
        assertEquals(0, both("exit0", "_start: mov edi, 0\n" + EXIT)); // the stub's memfd, opened once
        long before = openDescriptors();
        Guest.Result r = Guest.run(mm, exe.toString(), List.of("exit0"), List.of(),
                Guest.Options.defaults().withOutput(Path.of("/dev/null"), Path.of("/nonexistent/dir/err")));
        assertNotNull(r.error(), r.toString());
        assertEquals(before, openDescriptors(), "host descriptors left open by a guest that could not start: " + r);
        assertEquals(baselineUsed, mm.stats().usedFrames());
    }

    private static long openDescriptors() throws Exception {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    @Test
    void aGuestKilledWhileItIsSetUpEndsWith137AndLeavesNothing() throws Exception {
        // Killed between the stub's spawn and the first resume, while its tracer injects the setup calls.
        Path exe = NasmGuest.build("exit0", "_start: mov edi, 0\n" + EXIT);
        for (int i = 0; i < 40; i++) {
            Guest g = Guest.start(mm, exe.toString(), List.of("exit0"), List.of(), Guest.Options.defaults());
            long until = System.nanoTime() + 2_000_000_000L;
            while (g.hostPid() == 0 && System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            g.kill();
            Guest.Result r = g.waitFor();
            assertNotNull(r, "a guest's result, try " + i);
            assertTrue(r.status() == 137 || r.status() == 0, r.toString());
            assertEquals(baselineUsed, mm.stats().usedFrames());
        }
        mm.checkInvariants();
    }

    @Test
    void theAuxiliaryVectorCarriesWhatAStaticProgramReads() throws Exception {
        // Walks past argv and envp to auxv; each failed check exits with its own number.
        String src = """
                _start: mov rbx, rsp
                mov rcx, [rbx]
                lea rsi, [rbx + 16 + rcx*8]
                .env: mov rax, [rsi]
                add rsi, 8
                test rax, rax
                jnz .env
                xor r12d, r12d
                xor r13d, r13d
                xor r14d, r14d
                xor r15d, r15d
                xor ebp, ebp
                .aux: mov rax, [rsi]
                mov rdx, [rsi + 8]
                add rsi, 16
                test rax, rax
                jz .done
                cmp rax, 6
                cmove r12, rdx
                cmp rax, 25
                cmove r13, rdx
                cmp rax, 3
                cmove r14, rdx
                cmp rax, 9
                cmove r15, rdx
                cmp rax, 31
                cmove rbp, rdx
                jmp .aux
                .done: mov edi, 1
                cmp r12, 4096
                jne .exit
                mov edi, 2
                lea rax, [rel _start]
                cmp r15, rax
                jne .exit
                mov edi, 3
                cmp r13, rsi
                jb .exit
                mov edi, 4
                mov rax, [r13]
                or rax, [r13 + 8]
                jz .exit
                mov edi, 5
                test r14, r14
                jz .exit
                cmp dword [r14], 1
                jne .exit
                mov edi, 6
                cmp rbp, r13
                jbe .exit
                cmp byte [rbp], '/'
                jne .exit
                xor edi, edi
                .exit: mov eax, 60
                syscall
                """;
        assertEquals(0, both("auxv", src));
    }

    @Test
    void bssSharingTheLastFilePageIsZeroedWhereTheFileHasBytes() throws Exception {
        // .bss starts in .data's page, where the file goes on with its symbol table: those bytes must read 0.
        String src = "_start: lea rsi, [rel zero]\nxor eax, eax\n.l: or al, [rsi]\ninc rsi\ntest rsi, 4095\njnz .l\n"
                + "movzx edi, al\n" + EXIT + "section .data\nd: db 1\nsection .bss\nzero: resb 16384\n";
        assertEquals(0, both("bsspage", src));
    }

    @Test
    void mprotectTakesWriteAwayFromPagesTheChildMaps() throws Exception {
        // Written (so the child maps it writable), then made read-only: the next write is a SIGSEGV.
        String src = "_start: mov eax, 9\nxor edi, edi\nmov esi, 4096\nmov edx, 3\nmov r10d, 0x22\nmov r8, -1\nxor r9d, r9d\nsyscall\n"
                + "mov rbx, rax\nmov byte [rbx], 1\nmov eax, 10\nmov rdi, rbx\nmov esi, 4096\nmov edx, 1\nsyscall\n"
                + "mov byte [rbx], 2\nmov edi, 0\n" + EXIT;
        assertEquals(139, both("roafter", src));
    }

    @Test
    void munmapTakesPagesAwayFromTheChild() throws Exception {
        // Two pages the child maps as one run; one of them unmapped (the first, then the last), then read.
        for (int gone : new int[] {0, 4096}) {
            String src = "_start: mov eax, 9\nxor edi, edi\nmov esi, 8192\nmov edx, 3\nmov r10d, 0x22\nmov r8, -1\nxor r9d, r9d\nsyscall\n"
                    + "mov rbx, rax\nmov byte [rbx], 1\nmov byte [rbx + 4096], 1\nmov eax, 11\nlea rdi, [rbx + " + gone + "]\nmov esi, 4096\n"
                    + "syscall\nmov al, [rbx + " + (4096 - gone) + "]\nmov al, [rbx + " + gone + "]\nmov edi, 0\n" + EXIT;
            assertEquals(139, both("gone" + gone, src));
        }
    }

    @Test
    void pagesOfDataAreCopiedAtTheChildsFirstWrite() throws Exception {
        // Three pages of .data, no bss: each the file's page until written; every write is the child's own fault.
        String src = "_start: mov byte [rel data], 2\nmov byte [rel data + 4096], 3\nmov byte [rel data + 8192], 4\n"
                + "movzx edi, byte [rel data]\nadd dil, [rel data + 4096]\nadd dil, [rel data + 8192]\nadd dil, [rel data + 8193]\n" + EXIT
                + "section .data\ndata: times 12288 db 1\n";
        assertEquals(2 + 3 + 4 + 1, both("datapages", src));
    }
}
