package dev.usercopy.mm;

import dev.usercopy.uapi.Errno;

/**
 * A guest-memory operation failed with an errno. Carries the guest address
 * and length it was asked about and how many bytes it had done, so a caller
 * can report a partial result.
 */
public final class ErrnoException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The errno of the failure. */
    private final Errno errno;
    /** The guest address of the range asked about. */
    private final long address;
    /** The range's length in bytes. */
    private final long length;
    /** Bytes done before the failure. */
    private final long done;
    /** The message without the errno and range. */
    private final String reason;

    /**
     * A failure after part of the operation was done.
     *
     * @param errno what Linux would return for the failure
     * @param address the guest address the operation was asked about (the start of the range, not the faulting byte)
     * @param length the length in bytes of the range asked about
     * @param done bytes already done before the failure, from the start of the range; 0 when nothing was done
     * @param message what went wrong, without the errno or the range, which the exception's message adds
     */
    public ErrnoException(Errno errno, long address, long length, long done, String message) {
        super(errno.name() + ": " + message + " [guest 0x" + Long.toHexString(address) + ", length " + length
                + (done > 0 ? ", " + done + " bytes done" : "") + "]");
        this.errno = errno;
        this.address = address;
        this.length = length;
        this.done = done;
        this.reason = message;
    }

    /**
     * A failure before any byte was done.
     *
     * @param errno what Linux would return for the failure
     * @param address the guest address the operation was asked about
     * @param length the length in bytes of the range asked about
     * @param message what went wrong, without the errno or the range, which the exception's message adds
     */
    public ErrnoException(Errno errno, long address, long length, String message) {
        this(errno, address, length, 0, message);
    }

    /** {@return the errno a system call returns, negated, for this failure} */
    public Errno errno() {
        return errno;
    }

    /** {@return the guest address of the range the operation was asked about (its start, not the faulting byte)} */
    public long address() {
        return address;
    }

    /** {@return the length in bytes of the range the operation was asked about} */
    public long length() {
        return length;
    }

    /**
     * {@return bytes done from the start of the range before the failure: a
     * partial read or write returns this count, as Linux does when a
     * copy faults part way}
     */
    public long done() {
        return done;
    }

    /**
     * {@return the message without the errno and the guest range, for an
     * error that wraps this one with a range of its own}
     */
    public String reason() {
        return reason;
    }
}
