package dev.usercopy.platform;

import dev.usercopy.uapi.Errno;

/**
 * A libc call failed. Carries the call, its errno and the arguments it was
 * given, so the message alone says what went wrong and where.
 */
public final class NativeCallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    public NativeCallException(String call, int errno, String arguments) {
        super(call + "(" + arguments + ") failed: " + Errno.nameOf(errno) + describe(errno));
        this.call = call;
        this.errno = errno;
    }

    private static String describe(int errno) {
        Errno e = Errno.of(errno);
        return e != null ? " (" + e.description() + ")" : "";
    }

    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }
}
