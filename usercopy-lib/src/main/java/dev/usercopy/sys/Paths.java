package dev.usercopy.sys;

import java.util.Arrays;

import dev.usercopy.mm.ErrnoException;
import dev.usercopy.uaccess.UserCString;
import dev.usercopy.uapi.Errno;

/** Guest path strings: reading them as Linux's getname does, and taking them apart. */
final class Paths {
    private Paths() {}

    /** The path at guest {@code address}: EFAULT, ENAMETOOLONG (PATH_MAX), or ENOENT when empty. */
    static byte[] read(Task t, long address) {
        byte[] path = readMaybeEmpty(t, address);
        if (path.length == 0) {
            throw new ErrnoException(Errno.ENOENT, address, 0, "empty path");
        }
        return path;
    }

    private static final byte[] PROC_SELF_EXE = FsContext.bytes("/proc/self/exe");

    /**
     * {@code abs}, or the running program's guest path where {@code abs} is
     * {@code /proc/self/exe}: Linux's link leads to the program's file,
     * while the host's (a magic link, which lookups refuse) is the JVM's.
     */
    static byte[] selfExe(Task t, byte[] abs) {
        return java.util.Arrays.equals(abs, PROC_SELF_EXE) ? FsContext.bytes(t.exe()) : abs;
    }

    /** The path at guest {@code address}, which may be empty (AT_EMPTY_PATH). */
    static byte[] readMaybeEmpty(Task t, long address) {
        return UserCString.read(t.space(), address, FsContext.PATH_MAX);
    }

    /** The directory part of absolute path {@code abs}: trailing slashes and the last component dropped ("/" for a top-level name). */
    static byte[] parent(byte[] abs) {
        int end = lastComponentStart(abs);
        while (end > 1 && abs[end - 1] == '/') {
            end--;
        }
        return end <= 1 ? new byte[] {'/'} : Arrays.copyOf(abs, end);
    }

    /** The last component of {@code abs}, with any trailing slashes kept ("." for "/"). */
    static byte[] name(byte[] abs) {
        int start = lastComponentStart(abs);
        byte[] name = Arrays.copyOfRange(abs, start, abs.length);
        return name.length == 0 || allSlashes(name) ? new byte[] {'.'} : name;
    }

    private static int lastComponentStart(byte[] abs) {
        int end = abs.length;
        while (end > 0 && abs[end - 1] == '/') {
            end--;
        }
        int start = end;
        while (start > 0 && abs[start - 1] != '/') {
            start--;
        }
        return start;
    }

    private static boolean allSlashes(byte[] b) {
        for (byte c : b) {
            if (c != '/') {
                return false;
            }
        }
        return true;
    }
}
