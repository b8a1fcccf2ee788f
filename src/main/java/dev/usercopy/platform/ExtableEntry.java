package dev.usercopy.platform;

/**
 * The entries of usercopy.S's exception table, in table order: each names the
 * labelled instruction that may fault on guest memory.
 */
public enum ExtableEntry {
    USERCOPY0("usercopy0", "flat rep movsb"),
    USERCOPY1("usercopy1", "alignment-aware: leading bytes to an 8-aligned destination"),
    USERCOPY1B("usercopy1b", "alignment-aware: rep movsq bulk"),
    USERCOPY1C("usercopy1c", "alignment-aware: tail bytes, or all of a copy under 8 bytes"),
    USERCOPY1D("usercopy1d", "alignment-aware: byte retry after a fault in the bulk"),
    USERCOPY2("usercopy2", "strncpy_from_user byte load"),
    USERCOPY3("usercopy3", "clear_user rep stosb");

    private final String label;
    private final String what;

    ExtableEntry(String label, String what) {
        this.label = label;
        this.what = what;
    }

    public String label() {
        return label;
    }

    public String what() {
        return what;
    }

    /** How many faults this entry has fixed up since the library was loaded. */
    public long hits() {
        return usercopy_h.usercopy_extable_hits(ordinal());
    }
}
