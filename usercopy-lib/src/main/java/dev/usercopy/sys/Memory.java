package dev.usercopy.sys;

/** TODO(helper): this family's syscalls. */
final class Memory {
    private Memory() {}

    static void register(Syscalls.Registry r) {}
}
