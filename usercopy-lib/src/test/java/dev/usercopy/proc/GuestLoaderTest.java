package dev.usercopy.proc;

import java.nio.file.Path;
import java.util.List;

import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.uapi.Errno;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ELF loader and the initial stack against programs whose headers are
 * written by hand: what Linux's load_elf_binary accepts runs alike natively
 * and as a guest; crafted headers are refused or end the guest, never the
 * tracer.
 */
@org.junit.jupiter.api.Timeout(value = 180, unit = java.util.concurrent.TimeUnit.SECONDS) // a tracer that hangs must not hang the suite
class GuestLoaderTest {
    private static MemoryManager mm;
    private static long baselineUsed;

    @BeforeAll
    static void machine() {
        mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(1L << 14));
        baselineUsed = mm.stats().usedFrames();
    }

    @AfterAll
    static void close() {
        mm.close();
    }

    /**
     * A static ET_EXEC at 0x400000: its first PT_LOAD (R+X, the file from its
     * start through the code) then {@code phdrs} ({@code phnum} in all),
     * {@code code} at the entry, then {@code tail} (at file offset 0x1000
     * when it starts with a page of padding).
     */
    private static String elf(int phnum, String phdrs, String code, String tail) {
        return """
                BITS 64
                org 0x400000
                ehdr: db 0x7f, "ELF", 2, 1, 1, 0
                times 8 db 0
                dw 2, 0x3e
                dd 1
                dq _start
                dq phdrs - ehdr
                dq 0
                dd 0
                dw 64, 56, %d, 0, 0, 0
                phdrs: dd 1, 5
                dq 0, 0x400000, 0x400000, codesize, codesize, 0x1000
                %s
                _start: %s
                codesize equ $ - $$
                %s
                """.formatted(phnum, phdrs, code, tail);
    }

    private static final String EXIT = "\nmov eax, 60\nsyscall\n";

    private static int both(String name, String source) throws Exception {
        Path exe = NasmGuest.buildRaw(name, source);
        int expected = NasmGuest.runNatively(exe);
        Guest.Result r = Guest.run(mm, exe.toString(), List.of(name), List.of(), Guest.Options.defaults());
        assertNull(r.error(), r.toString());
        assertEquals(expected, r.status(), name + ": native status " + expected + ", guest " + r);
        mm.checkInvariants();
        assertEquals(baselineUsed, mm.stats().usedFrames(), "frames left behind by " + name);
        return r.status();
    }

    @Test
    void programHeadersUpToAPageAreAccepted() throws Exception {
        // Linux reads up to ELF_MIN_ALIGN (4096) bytes of program headers: 73 of them.
        String nulls = "times 72 dq 0, 0, 0, 0, 0, 0, 0";
        assertEquals(7, both("phnum73", elf(73, nulls, "mov edi, 7" + EXIT, "")));
    }

    @Test
    void aReadOnlySegmentsBssPastItsFilePagesIsWritableAndItsFilePageKeepsTheFilesBytes() throws Exception {
        // Linux maps the bss of a segment beyond its file pages with vm_brk (read-write, whatever the
        // segment's flags), and its padzero of the last file page fails on a read-only one, ignored.
        String ro = "dd 1, 4\ndq 0x1000, 0x600000, 0x600000, 16, 0x3000, 0x1000";
        String code = "movzx edi, byte [0x600010]\nmov byte [0x602000], 1\nmovzx eax, byte [0x602000]\nadd edi, eax" + EXIT;
        assertEquals(0x55 + 1, both("robss", elf(2, ro, code, "times 0x1000 - ($ - $$) db 0\ntimes 32 db 0x55")));
    }

    /** Writes exit(5) on the stack and jumps to it. */
    private static final String RUN_ON_STACK = """
            sub rsp, 64
            mov rax, 0x3cb800000005bf
            mov [rsp], rax
            mov dword [rsp+6], 60
            mov word [rsp+10], 0x050f
            jmp rsp
            """;

    @Test
    void withoutPtGnuStackTheStackIsNotExecutable() throws Exception {
        // x86-64 Linux since 5.8: no PT_GNU_STACK no longer implies an executable stack (only for ia32).
        assertEquals(139, both("nognustack", elf(1, "", RUN_ON_STACK, "")));
    }

    @Test
    void ptGnuStackAsksForAnExecutableStack() throws Exception {
        assertEquals(5, both("xstack", elf(2, "dd 0x6474e551, 7\ndq 0, 0, 0, 0, 0, 16", RUN_ON_STACK, "")));
        assertEquals(139, both("noxstack", elf(2, "dd 0x6474e551, 6\ndq 0, 0, 0, 0, 0, 16", RUN_ON_STACK, "")));
    }

    /** Crafted headers: refused with ENOEXEC before any process, or a guest that ends; nothing escapes, nothing leaks. */
    private static void refusedOrEnds(String name, String source) throws Exception {
        Path exe = NasmGuest.buildRaw(name, source);
        try {
            Guest.Result r = Guest.run(mm, exe.toString(), List.of(name), List.of(), Guest.Options.defaults());
            assertNotNull(r, name + ": the tracer ended without a result");
            assertTrue(r.status() != 0, name + ": " + r);
        } catch (ErrnoException e) {
            assertEquals(Errno.ENOEXEC, e.errno(), name + ": " + e.getMessage());
        }
        mm.checkInvariants();
        assertEquals(baselineUsed, mm.stats().usedFrames(), "frames left behind by " + name);
    }

    @Test
    void craftedProgramHeadersAreRefusedOrEndTheGuestOnly() throws Exception {
        String exit0 = "mov edi, 0" + EXIT;
        refusedOrEnds("phnum0", elf(0, "", exit0, ""));
        refusedOrEnds("phnum65535", elf(65535, "", exit0, ""));
        refusedOrEnds("phoffpasteof", elf(1, "", exit0, "").replace("dq phdrs - ehdr", "dq 0x100000"));
        refusedOrEnds("phoffhuge", elf(1, "", exit0, "").replace("dq phdrs - ehdr", "dq 0xfffffffffffffff0"));
        // p_vaddr + p_memsz wrapping, with and without file bytes
        refusedOrEnds("wrap", elf(2, "dd 1, 6\ndq 0, 0x7ffffffffffff000, 0, 0, 0x2000, 0x1000", exit0, ""));
        refusedOrEnds("wrapfile", elf(2, "dd 1, 6\ndq 0, 0x7ffffffffffff000, 0, codesize, 0x2000, 0x1000", exit0, ""));
        refusedOrEnds("wrapunsigned", elf(2, "dd 1, 6\ndq 0, 0xfffffffffffff000, 0, 0, 0x2000, 0x1000", exit0, ""));
        // above the guest window, below mmap_min_addr, across the stub's page, filesz > memsz
        refusedOrEnds("high", elf(2, "dd 1, 6\ndq 0, 0x7ff000000000, 0, 0, 0x2000, 0x1000", exit0, ""));
        refusedOrEnds("stubpage", elf(2, "dd 1, 6\ndq 0, 0x7f0000000000, 0, codesize, 0x2000, 0x1000", exit0, ""));
        refusedOrEnds("low", elf(2, "dd 1, 6\ndq 0, 0x1000, 0, codesize, 0x2000, 0x1000", exit0, ""));
        refusedOrEnds("fileszbig", elf(2, "dd 1, 6\ndq 0, 0x600000, 0, 0x2000, 0x1000, 0x1000", exit0, ""));
        // a segment past the end of the file, misaligned offset and address
        refusedOrEnds("pasteof", elf(2, "dd 1, 6\ndq 0x100000, 0x600000, 0, 0x1000, 0x1000, 0x1000",
                "mov al, [0x600000]\n" + exit0, ""));
        refusedOrEnds("misaligned", elf(2, "dd 1, 6\ndq 1, 0x600002, 0, 16, 16, 0x1000", exit0, ""));
        // the entry outside every segment
        refusedOrEnds("entry", elf(1, "", exit0, "").replace("dq _start", "dq 0x12345678"));
    }

    @Test
    void overlappingSegmentsAreMappedInOrderAsLinuxDoes() throws Exception {
        // The later segment replaces the earlier's pages (MAP_FIXED): here a writable copy of the code page.
        String rw = "dd 1, 7\ndq 0, 0x400000, 0, codesize, codesize, 0x1000";
        assertEquals(3, both("overlap", elf(2, rw, "mov byte [0x400100], 1\nmov edi, 3" + EXIT, "")));
    }

    /** Exits with argc * 10 + 1 when argv[0] is "", + 2 when it is another string, + 3 when it is NULL. */
    private static final String ARGC = """
            _start: mov rax, [rsp]
            imul edi, eax, 10
            mov rsi, [rsp+8]
            test rsi, rsi
            jz .none
            cmp byte [rsi], 0
            jne .named
            add edi, 1
            jmp .out
            .named: add edi, 2
            jmp .out
            .none: add edi, 3
            .out: mov eax, 60
            syscall
            """;

    @Test
    void anEmptyArgvBecomesOneEmptyString() throws Exception {
        // Linux 5.18: execve with argv = {NULL} gives the program argc 1 and argv[0] "".
        Path argc = NasmGuest.build("argc", ARGC);
        Path launcher = NasmGuest.build("noargs", "_start: mov rdi, [rsp+16]\nlea rsi, [rel nulls]\nlea rdx, [rel nulls]\n"
                + "mov eax, 59\nsyscall\nmov edi, 99\nmov eax, 60\nsyscall\nsection .data\nnulls: dq 0\n");
        Process p = new ProcessBuilder(launcher.toString(), argc.toString()).inheritIO().start();
        assertEquals(11, p.waitFor(), "natively");
        Guest.Result r = Guest.run(mm, argc.toString(), List.of(), List.of(), Guest.Options.defaults());
        assertEquals(11, r.status(), r.toString());
    }

    /** Natively, execve refuses argv with E2BIG; a guest is not started either. */
    private static void tooBig(String name, List<String> argv) throws Exception {
        Path argc = NasmGuest.build("argc", ARGC);
        List<String> cmd = new java.util.ArrayList<>(argv);
        cmd.set(0, argc.toString());
        java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> new ProcessBuilder(cmd).start().waitFor(), name + " natively");
        assertTrue(e.getMessage().contains("(Argument list too long)"), name + " natively: " + e.getMessage());
        Guest.Result r = Guest.run(mm, argc.toString(), argv, List.of(), Guest.Options.defaults());
        assertEquals(127, r.status(), name + ": " + r);
        assertTrue(String.valueOf(r.error()).startsWith("E2BIG"), name + ": " + r);
        assertEquals(baselineUsed, mm.stats().usedFrames(), "frames left behind by " + name);
    }

    @Test
    void argvPointersCountAgainstTheArgumentLimit() throws Exception {
        // Linux's bprm_stack_limits: (argc + envc) pointers come off the quarter of the stack limit.
        tooBig("manyEmpty", java.util.Collections.nCopies(300_000, ""));
    }

    @Test
    void oneArgumentLongerThanMaxArgStrlenIsTooBig() throws Exception {
        tooBig("longArg", List.of("x", "y".repeat(32 * 4096)));
    }

    @Test
    void argumentsJustUnderTheLimitsRun() throws Exception {
        Path argc = NasmGuest.build("argc", ARGC);
        List<String> argv = List.of("x", "y".repeat(32 * 4096 - 1));
        Process p = new ProcessBuilder(argc.toString(), argv.get(1)).inheritIO().start();
        assertEquals(22, p.waitFor(), "natively");
        assertEquals(22, Guest.run(mm, argc.toString(), argv, List.of(), Guest.Options.defaults()).status());
    }
}
