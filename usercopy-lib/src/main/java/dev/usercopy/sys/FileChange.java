package dev.usercopy.sys;

/** TODO(helper): this family's syscalls. */
final class FileChange {
    private FileChange() {}

    static void register(Syscalls.Registry r) {}
}
