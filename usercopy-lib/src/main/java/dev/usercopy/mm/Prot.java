package dev.usercopy.mm;

import dev.usercopy.platform.HostKernel;

/** Page protections, with Linux's PROT_* values (asm-generic/mman-common.h). */
public final class Prot {
    private Prot() {}

    /** {@code PROT_NONE}: no access; any touch faults (SIGSEGV for a guest, EFAULT for a copy). */
    public static final int NONE = 0;
    /** {@code PROT_READ}: the page can be read. */
    public static final int READ = 1;
    /** {@code PROT_WRITE}: the page can be written, and on x86 read as well. */
    public static final int WRITE = 2;
    /** {@code PROT_EXEC}: the page can be executed, and on x86 read unless the host makes it execute-only. */
    public static final int EXEC = 4;
    static final int ALL = READ | WRITE | EXEC;
    /** Accepted by mprotect and ignored (x86 has no such protection). */
    static final int SEM = 0x8;
    static final int GROWSDOWN = 0x01000000;
    static final int GROWSUP = 0x02000000;

    /**
     * Whether a page with {@code prot} can be read. On x86 a writable page
     * can, whatever its protection says; an executable one can unless the
     * host makes execute-only pages unreadable, as Linux does with protection
     * keys ({@link HostKernel#EXEC_ONLY_READABLE}).
     */
    static boolean readable(int prot) {
        return (prot & (READ | WRITE)) != 0 || (prot & EXEC) != 0 && (HostKernel.EXEC_ONLY_READABLE || (prot & SEM) != 0);
    }

    /**
     * The protection a grant keeps for a requested one: the bits x86 has,
     * and {@link #SEM} as a mark where PROT_EXEC came with other bits, since
     * Linux makes a mapping execute-only only for PROT_EXEC exactly.
     */
    static int granted(int requested) {
        int p = requested & ALL;
        return p == EXEC && requested != EXEC ? EXEC | SEM : p;
    }

    /**
     * The protection as /proc/PID/maps spells its first three columns.
     *
     * @param prot {@link Prot} bits; bits other than READ, WRITE and EXEC are ignored
     * @return {@code "rwx"} with a dash for each bit not set, such as {@code "r-x"}
     */
    public static String toString(int prot) {
        return ((prot & READ) != 0 ? "r" : "-") + ((prot & WRITE) != 0 ? "w" : "-") + ((prot & EXEC) != 0 ? "x" : "-");
    }
}
