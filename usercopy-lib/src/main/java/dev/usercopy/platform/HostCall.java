package dev.usercopy.platform;

/** The host data calls {@link Reservation#hostCall} makes over guest ranges; {@link #intoGuest} says which way the bytes go. */
public enum HostCall {
    READ(true), WRITE(false), PREAD64(true), PWRITE64(false), READV(true), WRITEV(false), GETDENTS64(true);

    private final boolean intoGuest;

    HostCall(boolean intoGuest) {
        this.intoGuest = intoGuest;
    }

    /** Whether the host writes guest memory (the guest's pages must be writable). */
    public boolean intoGuest() {
        return intoGuest;
    }
}
