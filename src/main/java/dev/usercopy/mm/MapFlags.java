package dev.usercopy.mm;

/** mmap flags, with Linux's MAP_* values. */
public final class MapFlags {
    private MapFlags() {}

    public static final int SHARED = 0x01;
    public static final int PRIVATE = 0x02;
    public static final int FIXED = 0x10;
    public static final int POPULATE = 0x8000;
    public static final int FIXED_NOREPLACE = 0x100000;
    static final int KNOWN = SHARED | PRIVATE | FIXED | POPULATE | FIXED_NOREPLACE;
}
