package dev.usercopy.mm;

/** mmap flags, with Linux's MAP_* values. */
public final class MapFlags {
    private MapFlags() {}

    public static final int SHARED = 0x01;
    public static final int PRIVATE = 0x02;
    /** A shared file mapping that refuses flags it does not know (EOPNOTSUPP) instead of ignoring them. */
    public static final int SHARED_VALIDATE = 0x03;
    public static final int FIXED = 0x10;
    public static final int ANONYMOUS = 0x20;
    public static final int GROWSDOWN = 0x100;
    public static final int NORESERVE = 0x4000;
    public static final int POPULATE = 0x8000;
    public static final int STACK = 0x20000;
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
