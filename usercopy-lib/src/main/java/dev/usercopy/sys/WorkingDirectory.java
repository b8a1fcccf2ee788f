package dev.usercopy.sys;

import dev.usercopy.platform.HostFiles;
import dev.usercopy.uaccess.UserSlice;
import dev.usercopy.uapi.Errno;

import static dev.usercopy.platform.HostFiles.AT_EMPTY_PATH;
import static dev.usercopy.platform.HostFiles.O_DIRECTORY;

/** getcwd, chdir, fchdir and umask: the task's place in its file system. */
final class WorkingDirectory {
    private WorkingDirectory() {}

    static void register(Syscalls.Registry r) {
        r.add(79, "getcwd", "pu", WorkingDirectory::getcwd);
        r.add(80, "chdir", "s", WorkingDirectory::chdir);
        r.add(81, "fchdir", "f", WorkingDirectory::fchdir);
        r.add(95, "umask", "o", t -> t.fs().setUmask(t.intArg(0)));
    }

    /** The guest path of the working directory with its NUL; ERANGE when it does not fit in {@code size}; returns its length with the NUL. */
    private static long getcwd(Task t) {
        byte[] cwd = t.fs().cwd();
        long size = t.arg(1);
        int len = cwd.length + 1;
        if (Long.compareUnsigned(len, size) > 0) {
            return -Errno.ERANGE.number();
        }
        UserSlice.wo(t.space(), t.arg(0), len).copyFromSlice(java.util.Arrays.copyOf(cwd, len));
        return len;
    }

    private static long chdir(Task t) {
        byte[] abs = t.fs().absolute(t.files(), HostFiles.AT_FDCWD, Paths.read(t, t.arg(0)));
        long fd = t.fs().lookup(abs, O_DIRECTORY);
        return enter(t, fd);
    }

    private static long fchdir(Task t) {
        OpenFile f = t.files().get(t.intArg(0));
        if (!f.directory()) {
            return -Errno.ENOTDIR.number();
        }
        return enter(t, HostFiles.fcntl(f.hostFd(), HostFiles.F_DUPFD_CLOEXEC, 3));
    }

    /** Makes the directory at host descriptor {@code fd} (owned here from now on) the working directory, if the guest may search it (EACCES). */
    private static long enter(Task t, long fd) {
        if (fd < 0) {
            return fd;
        }
        long ok = HostFiles.faccessat2((int) fd, new byte[0], HostFiles.X_OK, AT_EMPTY_PATH | HostFiles.AT_EACCESS);
        if (ok < 0) {
            HostFiles.close((int) fd);
            return ok;
        }
        t.fs().chdir((int) fd);
        return 0;
    }
}
