package dev.usercopy.cli;

/** A command asked for something it cannot do as asked (a missing file, a mode it lacks): exit 2. */
final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
