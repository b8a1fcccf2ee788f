package dev.usercopy.sys;

/** TODO(helper): this family's syscalls. */
final class FileOpen {
    private FileOpen() {}

    static void register(Syscalls.Registry r) {}
}
