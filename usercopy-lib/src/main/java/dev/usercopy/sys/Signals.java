package dev.usercopy.sys;

/** TODO(helper): rt_sigaction and rt_sigprocmask, recorded. */
public final class Signals {
    static void register(Syscalls.Registry r) {}
}
