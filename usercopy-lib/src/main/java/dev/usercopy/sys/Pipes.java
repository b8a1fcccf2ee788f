package dev.usercopy.sys;

import dev.usercopy.mm.ErrnoException;
import dev.usercopy.platform.HostFiles;
import dev.usercopy.uapi.Errno;

/**
 * pipe and pipe2: each a host pipe, so its bytes go between the guests'
 * pages by the host kernel ({@link FileIo}), and a reader sees the end of
 * the file when the last description of the write end is gone, in whichever
 * guest process it was (a fork's copy of the table shares them).
 */
final class Pipes {
    /** pipe2's O_NOTIFICATION_PIPE (O_EXCL): a watch queue, not supported here. */
    static final int O_NOTIFICATION_PIPE = HostFiles.O_EXCL;
    private static final int FLAGS = HostFiles.O_CLOEXEC | HostFiles.O_NONBLOCK | HostFiles.O_DIRECT | O_NOTIFICATION_PIPE;

    private Pipes() {}

    static void register(Syscalls.Registry r) {
        r.add(22, "pipe", "p", t -> pipe2(t, t.arg(0), 0));
        r.add(293, "pipe2", "px", t -> pipe2(t, t.arg(0), t.intArg(1)));
    }

    /**
     * Linux's do_pipe2 order: the flags (EINVAL), the pipe, two descriptors
     * (EMFILE), then the pair written to the guest; when that faults, EFAULT
     * and neither descriptor stays open. O_DIRECT makes a packet pipe, as on
     * the host; O_NOTIFICATION_PIPE is ENOPKG, as on a kernel without watch
     * queues.
     */
    static long pipe2(Task t, long fdsAddr, int flags) {
        if ((flags & ~FLAGS) != 0) {
            return -Errno.EINVAL.number();
        }
        if ((flags & O_NOTIFICATION_PIPE) != 0) {
            return -Errno.ENOPKG.number();
        }
        int[] host = new int[2];
        long r = HostFiles.pipe2(host, HostFiles.O_CLOEXEC | flags & (HostFiles.O_NONBLOCK | HostFiles.O_DIRECT));
        if (r < 0) {
            return r;
        }
        boolean cloexec = (flags & HostFiles.O_CLOEXEC) != 0;
        FileTable files = t.files();
        OpenFile write = new OpenFile(host[1], HostFiles.O_WRONLY, HostFiles.S_IFIFO);
        int rfd;
        try {
            rfd = files.install(new OpenFile(host[0], HostFiles.O_RDONLY, HostFiles.S_IFIFO), cloexec);
        } catch (ErrnoException e) {
            write.release();
            throw e;
        }
        int wfd;
        try {
            wfd = files.install(write, cloexec);
        } catch (ErrnoException e) {
            files.close(rfd);
            throw e;
        }
        try {
            GuestMemory.write(t, fdsAddr, GuestMemory.struct(8).putInt(0, rfd).putInt(4, wfd));
        } catch (ErrnoException e) {
            files.close(rfd);
            files.close(wfd);
            throw e;
        }
        return 0;
    }
}
