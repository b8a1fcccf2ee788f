package dev.usercopy.platform;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@code struct user_regs_struct} of {@code <sys/user.h>} on x86-64, what
 * {@code PTRACE_GETREGS} fills: 27 registers of 8 bytes, in this order. The
 * {@code *$INDEX} constants are each register's place, so {@link Ptrace.Regs}
 * reads it at {@code 8 * index}; AbiTest holds every offset against the header.
 */
@SuppressWarnings("checkstyle:TypeName")
public final class user_regs_struct {
    private user_regs_struct() {}

    static final String[] NAMES = {"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx",
            "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"};

    public static final StructLayout $LAYOUT = MemoryLayout.structLayout(
            java.util.Arrays.stream(NAMES).map(n -> JAVA_LONG.withName(n)).toArray(MemoryLayout[]::new)).withName("user_regs_struct");

    public static final int R15 = 0, R14 = 1, R13 = 2, R12 = 3, RBP = 4, RBX = 5, R11 = 6, R10 = 7, R9 = 8, R8 = 9, RAX = 10,
            RCX = 11, RDX = 12, RSI = 13, RDI = 14, ORIG_RAX = 15, RIP = 16, CS = 17, EFLAGS = 18, RSP = 19, SS = 20,
            FS_BASE = 21, GS_BASE = 22, DS = 23, ES = 24, FS = 25, GS = 26;

    public static long sizeof() {
        return $LAYOUT.byteSize();
    }

    /** The C name of register {@code index}. */
    public static String name(int index) {
        return NAMES[index];
    }
}
