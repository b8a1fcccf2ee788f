package dev.usercopy.sys;

/** TODO(helper): this family's syscalls. */
final class Time {
    private Time() {}

    static void register(Syscalls.Registry r) {}
}
