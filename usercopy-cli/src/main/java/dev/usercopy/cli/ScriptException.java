package dev.usercopy.cli;

/** A guest-language line that cannot run as written (bad syntax, an unknown name): a usage error, exit 2. */
final class ScriptException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ScriptException(String message) {
        super(message);
    }
}
