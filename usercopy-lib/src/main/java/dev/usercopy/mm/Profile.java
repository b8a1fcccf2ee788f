package dev.usercopy.mm;

import java.util.Arrays;
import java.util.Locale;

/**
 * How much checking the kernel pays for, chosen when a machine starts
 * ({@link MemoryManager.Config#profile}; by default from the system property
 * {@value #PROPERTY}, else {@link #PERFORMANCE}).
 */
public enum Profile {
    /**
     * Every check, and copy-semantic frames: the kernel never holds a view of
     * a physical frame. File-backed demand paging reads into a kernel buffer
     * and copies it into the frame through {@link dev.usercopy.platform.PageFrame}.
     */
    FORTRESS,
    /** Every check; file-backed demand paging reads straight into the frame. */
    PERFORMANCE,
    /**
     * As Performance, without {@code access_ok}: user-access calls do not
     * check that a guest range lies inside user space. Still safe for the
     * host: each copy reaches the host at the guest address taken modulo the
     * address-space size, inside the reservation, and is cut into pieces no
     * longer than the guard region after it (Wasmtime's way of dropping
     * bounds checks), so no guest pointer can reach JVM memory. A wild
     * pointer reads or writes the guest's own memory, or faults, instead of
     * being refused up front.
     */
    LUDICROUS;

    /** The system property a process chooses its profile with. */
    public static final String PROPERTY = "usercopy.profile";

    /** {@return whether user-access calls check ranges against user space ({@code access_ok}): all but Ludicrous} */
    public boolean checksAccess() {
        return this != LUDICROUS;
    }

    /**
     * The profile named by a string, such as the system property's value.
     *
     * @param name a profile's name, any case, surrounding blanks ignored
     * @return the profile
     * @throws IllegalArgumentException if no profile has that name; the message lists the names
     */
    public static Profile of(String name) {
        for (Profile p : values()) {
            if (p.name().equalsIgnoreCase(name.strip())) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown profile '" + name + "': one of "
                + Arrays.stream(values()).map(p -> p.name().toLowerCase(Locale.ROOT)).toList());
    }

    /**
     * The profile the system property {@value #PROPERTY} names.
     *
     * @return that profile, or Performance when the property is not set or blank
     * @throws IllegalArgumentException if the property names no profile
     */
    public static Profile fromSystemProperty() {
        String name = System.getProperty(PROPERTY);
        return name == null || name.isBlank() ? PERFORMANCE : of(name);
    }
}
