package dev.usercopy.platform;

/**
 * The part of glibc's {@code siginfo_t} (x86-64) that fault handling reads.
 * The native handler does not need it today (RIP says everything), but the
 * offset is checked against the C headers with the rest.
 */
public final class siginfo_t {
    private siginfo_t() {}

    public static final long si_signo$OFFSET = 0;
    public static final long si_code$OFFSET = 8;
    public static final long si_addr$OFFSET = 16;
    public static final long SIZEOF = 128;
}
