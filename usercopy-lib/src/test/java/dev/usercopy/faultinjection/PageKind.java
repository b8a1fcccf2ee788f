package dev.usercopy.faultinjection;

/**
 * What one page of a layout is, and so what a copy may do there. Host kinds
 * are built from host mappings (for the {@code UserCopy} paths and the Linux
 * oracle), guest kinds inside an {@code AddressSpace}.
 *
 * <p>Readable and writable are the whole model: a copy from user memory
 * stops at the first byte that is not readable, a copy to it (or a clear) at
 * the first that is not writable, whatever made it so.
 */
enum PageKind {
    // ---- host memory
    /** Private anonymous read-write. */
    HOST_RW(true, true, true, "host rw"),
    /** Private anonymous, mprotect'ed read-only after it was filled. */
    HOST_RO(true, true, false, "host read-only"),
    /** PROT_NONE (the reservation the layout is cut from): SIGSEGV. */
    HOST_NONE(true, false, false, "host PROT_NONE (SIGSEGV)"),
    /** A shared read-write page of a memfd that holds it. */
    HOST_FILE(true, true, true, "host memfd page"),
    /** A shared page of a memfd truncated to nothing under the mapping: SIGBUS. */
    HOST_SIGBUS(true, false, false, "host memfd past EOF (SIGBUS)"),

    // ---- guest memory
    /** No grant. */
    UNMAPPED(false, false, false, "guest unmapped"),
    /** A PROT_NONE grant. */
    NONE(false, false, false, "guest PROT_NONE"),
    /** Private, filled, then read-only (and copy-on-write shared with the fork). */
    RO(false, true, false, "guest read-only"),
    /** Private read-write, filled, private again after the fork (written since). */
    RW(false, true, true, "guest rw private"),
    /** Private read-write, never touched: reads zeros, a write allocates. */
    LAZY(false, true, true, "guest lazy rw"),
    /** Private read-only, never touched: reads zeros, a write faults. */
    LAZY_RO(false, true, false, "guest lazy read-only"),
    /** Private read-write, filled before the fork and copy-on-write shared with it since. */
    COW(false, true, true, "guest copy-on-write"),
    /** Anonymous MAP_SHARED: the fork sees every write. */
    SHARED(false, true, true, "guest shared anonymous"),
    /** MAP_PRIVATE of a host file. */
    FILE_PRIVATE(false, true, true, "guest file private"),
    /** MAP_SHARED of a host file (page cache). */
    FILE_SHARED(false, true, true, "guest file shared"),
    /** MAP_PRIVATE of a file's last, partial page: the file's bytes, then zeros. */
    FILE_TAIL(false, true, true, "guest file tail page"),
    /** A file mapping wholly past the end of its file: EFAULT (Linux: SIGBUS). */
    PAST_EOF(false, false, false, "guest file past EOF");

    final boolean host;
    final boolean readable;
    final boolean writable;
    final String label;

    PageKind(boolean host, boolean readable, boolean writable, String label) {
        this.host = host;
        this.readable = readable;
        this.writable = writable;
        this.label = label;
    }

    /** Whether a guest fork shares this page's writes with the parent. */
    boolean sharedWithFork() {
        return this == SHARED || this == FILE_SHARED;
    }

    static PageKind[] ofLevel(boolean host) {
        return java.util.Arrays.stream(values()).filter(k -> k.host == host).toArray(PageKind[]::new);
    }
}
