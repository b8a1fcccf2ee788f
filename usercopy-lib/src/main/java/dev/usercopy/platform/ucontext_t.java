package dev.usercopy.platform;

/**
 * The part of glibc's {@code ucontext_t} (x86-64) that the native handler
 * rewrites: {@code uc_mcontext.gregs} at 40, {@code REG_RIP} is gregs[16], so
 * RIP sits at 168. native/usercopy.inc has the same numbers; {@code usercopy_abi(0)}
 * reports them so a test can hold both against the headers.
 */
public final class ucontext_t {
    private ucontext_t() {}

    public static final long uc_mcontext$gregs$OFFSET = 40;
    public static final int REG_RIP = 16;
    public static final long rip$OFFSET = uc_mcontext$gregs$OFFSET + 8L * REG_RIP;
}
