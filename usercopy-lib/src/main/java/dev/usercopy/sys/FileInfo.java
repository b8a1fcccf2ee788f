package dev.usercopy.sys;

/** TODO(helper): this family's syscalls. */
final class FileInfo {
    private FileInfo() {}

    static void register(Syscalls.Registry r) {}
}
