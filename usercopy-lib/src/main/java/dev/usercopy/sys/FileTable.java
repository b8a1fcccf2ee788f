package dev.usercopy.sys;

/** TODO(helper): the guest's file descriptors. */
public final class FileTable {
    /** A table whose 0, 1 and 2 are the host's standard input, output and error. */
    public static FileTable withStdio() {
        return new FileTable();
    }
}
