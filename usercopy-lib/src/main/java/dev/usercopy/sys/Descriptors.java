package dev.usercopy.sys;

import dev.usercopy.platform.HostFiles;
import dev.usercopy.uapi.Errno;

import static dev.usercopy.platform.HostFiles.O_APPEND;
import static dev.usercopy.platform.HostFiles.O_CLOEXEC;
import static dev.usercopy.platform.HostFiles.O_NOATIME;
import static dev.usercopy.platform.HostFiles.O_NONBLOCK;

/** dup, dup2, dup3 and fcntl: the guest's descriptor numbers and their flags. */
final class Descriptors {
    private Descriptors() {}

    /** The status flags F_SETFL passes on; O_ASYNC (SIGIO to the JVM) and O_DIRECT (pinned guest frames) never reach the host. */
    private static final int SETFL_PASSED = O_APPEND | O_NONBLOCK | O_NOATIME;

    static void register(Syscalls.Registry r) {
        r.add(32, "dup", "f", t -> {
            FileTable files = t.files();
            return files.install(files.get(t.intArg(0)).share(), false);
        });
        r.add(33, "dup2", "ff", Descriptors::dup2);
        r.add(292, "dup3", "ffx", Descriptors::dup3);
        r.add(72, "fcntl", "fdx", Descriptors::fcntl);
    }

    /** Linux's dup2: the same number is itself if open (EBADF if not), else dup3 without flags. */
    private static long dup2(Task t) {
        int oldfd = t.intArg(0);
        int newfd = t.intArg(1);
        if (oldfd == newfd) {
            t.files().get(oldfd);
            return newfd;
        }
        return dup3(t.files(), oldfd, newfd, 0);
    }

    private static long dup3(Task t) {
        if (t.intArg(0) == t.intArg(1)) {
            return -Errno.EINVAL.number(); // Linux: bad flags or the same number, EINVAL either way
        }
        return dup3(t.files(), t.intArg(0), t.intArg(1), t.intArg(2));
    }

    /** Linux's ksys_dup3 order: flags (EINVAL), the new number against the limit (EBADF), then the old descriptor (EBADF). */
    private static long dup3(FileTable files, int oldfd, int newfd, int flags) {
        if ((flags & ~O_CLOEXEC) != 0) {
            return -Errno.EINVAL.number();
        }
        if (newfd < 0 || newfd >= files.limit()) {
            return -Errno.EBADF.number();
        }
        return files.installAt(newfd, files.get(oldfd).share(), (flags & O_CLOEXEC) != 0);
    }

    private static long fcntl(Task t) {
        int fd = t.intArg(0);
        int cmd = t.intArg(1);
        long arg = t.arg(2);
        FileTable files = t.files();
        OpenFile f = files.get(fd);
        switch (cmd) {
            case HostFiles.F_DUPFD, HostFiles.F_DUPFD_CLOEXEC -> {
                // The argument is an unsigned long to Linux: a negative one is past any limit.
                long from = arg < 0 ? Long.MAX_VALUE : arg;
                return files.installFrom(from, f.share(), cmd == HostFiles.F_DUPFD_CLOEXEC);
            }
            case HostFiles.F_GETFD -> {
                return files.closeOnExec(fd) ? HostFiles.FD_CLOEXEC : 0;
            }
            case HostFiles.F_SETFD -> {
                files.setCloseOnExec(fd, (arg & HostFiles.FD_CLOEXEC) != 0);
                return 0;
            }
            case HostFiles.F_GETFL -> {
                return f.statusFlags();
            }
            case HostFiles.F_SETFL -> {
                if (f.isPath()) {
                    return -Errno.EBADF.number();
                }
                return f.setStatusFlags(arg & SETFL_PASSED);
            }
            case F_SETPIPE_SZ, F_GETPIPE_SZ -> {
                // The host's pipe (EBADF for anything else, as Linux): its size is the host's to keep.
                return HostFiles.fcntl(f.hostFd(), cmd, arg);
            }
            default -> {
                return -Errno.EINVAL.number();
            }
        }
    }

    static final int F_SETPIPE_SZ = 1031;
    static final int F_GETPIPE_SZ = 1032;
}
