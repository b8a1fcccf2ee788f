package dev.usercopy.cli.guest;

/** A guest-language line that cannot run as written (bad syntax, an unknown name): a usage error, exit 2. */
public final class ScriptException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ScriptException(String message) {
        super(message);
    }
}
