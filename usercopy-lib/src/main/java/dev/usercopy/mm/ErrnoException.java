package dev.usercopy.mm;

import dev.usercopy.uapi.Errno;

/**
 * A guest-memory operation failed with an errno. Carries the guest address
 * and length it was asked about and how many bytes it had done, so a caller
 * can report a partial result.
 */
public final class ErrnoException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final Errno errno;
    private final long address;
    private final long length;
    private final long done;
    private final String reason;

    public ErrnoException(Errno errno, long address, long length, long done, String message) {
        super(errno.name() + ": " + message + " [guest 0x" + Long.toHexString(address) + ", length " + length
                + (done > 0 ? ", " + done + " bytes done" : "") + "]");
        this.errno = errno;
        this.address = address;
        this.length = length;
        this.done = done;
        this.reason = message;
    }

    public ErrnoException(Errno errno, long address, long length, String message) {
        this(errno, address, length, 0, message);
    }

    public Errno errno() {
        return errno;
    }

    public long address() {
        return address;
    }

    public long length() {
        return length;
    }

    public long done() {
        return done;
    }

    /** The message without the errno and the guest range, for an error that wraps this one. */
    public String reason() {
        return reason;
    }
}
