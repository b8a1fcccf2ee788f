package dev.usercopy.sys;

/** TODO(helper): this family's syscalls. */
final class FileIo {
    private FileIo() {}

    static void register(Syscalls.Registry r) {}
}
