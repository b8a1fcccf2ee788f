package dev.usercopy.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.usercopy.platform.HostFiles;

/** The fields of a kernel {@code struct stat} (x86-64) the file syscalls look at. */
final class Stat {
    private Stat() {}

    static int mode(byte[] stat) {
        return ByteBuffer.wrap(stat).order(ByteOrder.LITTLE_ENDIAN).getInt(HostFiles.STAT_MODE);
    }

    static int type(byte[] stat) {
        return mode(stat) & HostFiles.S_IFMT;
    }

    static long rdev(byte[] stat) {
        return ByteBuffer.wrap(stat).order(ByteOrder.LITTLE_ENDIAN).getLong(HostFiles.STAT_RDEV);
    }
}
