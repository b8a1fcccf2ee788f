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
    USERCOPY3("usercopy3", "clear_user rep stosb"),
    USERCOPY4A("usercopy4a", "adaptive, 1..7 bytes: byte load"),
    USERCOPY4B("usercopy4b", "adaptive, 1..7 bytes: byte store"),
    USERCOPY5A("usercopy5a", "adaptive, 8..16 bytes: first qword load"),
    USERCOPY5B("usercopy5b", "adaptive, 8..16 bytes: last qword load"),
    USERCOPY5C("usercopy5c", "adaptive, 8..16 bytes: first qword store"),
    USERCOPY5D("usercopy5d", "adaptive, 8..16 bytes: last qword store"),
    USERCOPY6A("usercopy6a", "adaptive, 17..32 bytes: first xmm load"),
    USERCOPY6B("usercopy6b", "adaptive, 17..32 bytes: last xmm load"),
    USERCOPY6C("usercopy6c", "adaptive, 17..32 bytes: first xmm store"),
    USERCOPY6D("usercopy6d", "adaptive, 17..32 bytes: last xmm store"),
    USERCOPY7A("usercopy7a", "adaptive, 33..64 bytes: xmm load at 0"),
    USERCOPY7B("usercopy7b", "adaptive, 33..64 bytes: xmm load at 16"),
    USERCOPY7C("usercopy7c", "adaptive, 33..64 bytes: xmm load at n-32"),
    USERCOPY7D("usercopy7d", "adaptive, 33..64 bytes: xmm load at n-16"),
    USERCOPY7E("usercopy7e", "adaptive, 33..64 bytes: xmm store at 0"),
    USERCOPY7F("usercopy7f", "adaptive, 33..64 bytes: xmm store at 16"),
    USERCOPY7G("usercopy7g", "adaptive, 33..64 bytes: xmm store at n-32"),
    USERCOPY7H("usercopy7h", "adaptive, 33..64 bytes: xmm store at n-16"),
    USERCOPY8A("usercopy8a", "adaptive AVX2: head ymm load"),
    USERCOPY8B("usercopy8b", "adaptive AVX2: head ymm store"),
    USERCOPY8C("usercopy8c", "adaptive AVX2 loop: ymm load at 0"),
    USERCOPY8D("usercopy8d", "adaptive AVX2 loop: ymm load at 32"),
    USERCOPY8E("usercopy8e", "adaptive AVX2 loop: aligned ymm store at 0"),
    USERCOPY8F("usercopy8f", "adaptive AVX2 loop: aligned ymm store at 32"),
    USERCOPY8G("usercopy8g", "adaptive AVX2 tail: ymm load at n-64"),
    USERCOPY8H("usercopy8h", "adaptive AVX2 tail: ymm load at n-32"),
    USERCOPY8I("usercopy8i", "adaptive AVX2 tail: ymm store at n-64"),
    USERCOPY8J("usercopy8j", "adaptive AVX2 tail: ymm store at n-32"),
    USERCOPY9("usercopy9", "adaptive, large copies with ERMS: rep movsb"),
    USERCOPY9R("usercopy9r", "adaptive: byte retry up to the faulting page after a fault in a mov or AVX2 chunk");

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
