package dev.usercopy.mm;

/** mmap flags, with Linux's MAP_* values (asm-generic/mman-common.h, asm-generic/mman.h, linux/mman.h). */
public final class MapFlags {
    private MapFlags() {}

    /** {@code MAP_SHARED}: writes reach the file or the other mappers, and fork shares the pages. */
    public static final int SHARED = 0x01;
    /** {@code MAP_PRIVATE}: copy-on-write; writes stay in this address space. */
    public static final int PRIVATE = 0x02;
    /** A shared file mapping that refuses flags it does not know (EOPNOTSUPP) instead of ignoring them. */
    public static final int SHARED_VALIDATE = 0x03;
    /** {@code MAP_FIXED}: map exactly at the address (page-aligned, else EINVAL), replacing what is there. */
    public static final int FIXED = 0x10;
    /** {@code MAP_ANONYMOUS}: zero-filled memory with no file; the fd and offset are ignored. */
    public static final int ANONYMOUS = 0x20;
    /**
     * {@code MAP_GROWSDOWN}: on Linux a stack that grows down on a fault just
     * below it. Here no mapping grows; the flag is accepted, and refused
     * (EINVAL) with anonymous MAP_SHARED as Linux refuses it.
     */
    public static final int GROWSDOWN = 0x100;
    /** {@code MAP_NORESERVE}: accepted and ignored, since no swap space is reserved for any mapping here. */
    public static final int NORESERVE = 0x4000;
    /** {@code MAP_POPULATE}: fault every page in before mmap returns instead of on first touch. */
    public static final int POPULATE = 0x8000;
    /** {@code MAP_STACK}: a hint that the mapping is a thread's stack; accepted and ignored. */
    public static final int STACK = 0x20000;
    /** {@code MAP_FIXED_NOREPLACE}: map exactly at the address, or EEXIST where anything is mapped there already. */
    public static final int FIXED_NOREPLACE = 0x100000;
    /** The mapping type field. */
    static final int TYPE = 0x0f;
    /**
     * Linux's LEGACY_MAP_MASK: the flags mmap accepted before it validated
     * any (SHARED, PRIVATE, FIXED, ANONYMOUS, DENYWRITE, EXECUTABLE,
     * UNINITIALIZED, GROWSDOWN, LOCKED, NORESERVE, POPULATE, NONBLOCK, STACK,
     * HUGETLB). Plain mmap ignores every unknown flag; MAP_SHARED_VALIDATE
     * refuses those outside this mask.
     */
    static final int LEGACY = 0x01 | 0x02 | 0x10 | 0x20 | 0x800 | 0x1000 | 0x4000000 | 0x100 | 0x2000 | 0x4000 | 0x8000 | 0x10000
            | 0x20000 | 0x40000;
}
