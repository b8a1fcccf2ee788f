package dev.usercopy.faultinjection;

/**
 * A {@link Layout} made real: host mappings ({@link HostLayout}) or a guest
 * address space ({@link GuestLayout}). Byte {@code i} of the layout is at
 * {@link #address}{@code (i)}.
 */
interface UserMemory extends AutoCloseable {
    /** The address a copy path takes for layout byte {@code offset}: host or guest, as the memory is. */
    long address(long offset);

    /**
     * Reads page {@code page} of the layout into {@code dst} by a path that is
     * not a usercopy (a plain load, or the kernel's view of the frame).
     * Returns false when the page cannot be read that way: inaccessible, or
     * not present yet (then it holds what a first fault would give).
     */
    boolean peekPage(int page, byte[] dst);

    @Override
    void close();
}
