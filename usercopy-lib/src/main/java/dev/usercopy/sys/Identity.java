package dev.usercopy.sys;

/** TODO(helper): this family's syscalls. */
final class Identity {
    private Identity() {}

    static void register(Syscalls.Registry r) {}
}
