package dev.usercopy.sys;

import dev.usercopy.mm.ErrnoException;
import dev.usercopy.platform.HostFiles;
import dev.usercopy.uaccess.UserIovec;
import dev.usercopy.uaccess.UserSlice;
import dev.usercopy.uaccess.UserSliceRo;
import dev.usercopy.uaccess.UserSliceWo;
import dev.usercopy.uapi.Errno;

/**
 * read, write, readv, writev, pread64, pwrite64 and lseek. The data goes
 * between the host descriptor and the guest's own pages, by the host
 * kernel ({@link dev.usercopy.uaccess.UserWritable#readFrom}), never through
 * a kernel buffer here: a pipe read into a buffer the guest cannot write is
 * EFAULT with the bytes left in the pipe, a file read into a half-mapped
 * buffer a short count, exactly as Linux.
 *
 * <p>The checks before the host's follow Linux's order: EBADF for a
 * descriptor not open or not open for the direction, then (for the
 * positional calls) ESPIPE and a negative offset, then the buffer's range.
 */
final class FileIo {
    private FileIo() {}

    static void register(Syscalls.Registry r) {
        r.add(0, "read", "fpu", FileIo::read);
        r.add(1, "write", "fpu", FileIo::write);
        r.add(17, "pread64", "fpud", FileIo::pread64);
        r.add(18, "pwrite64", "fpud", FileIo::pwrite64);
        r.add(19, "readv", "fpd", FileIo::readv);
        r.add(20, "writev", "fpd", FileIo::writev);
        r.add(8, "lseek", "fdd", FileIo::lseek);
        r.add(16, "ioctl", "fxp", FileIo::ioctl);
    }

    private static OpenFile reading(Task t, int fd) {
        OpenFile f = t.files().get(fd);
        if (!f.readable()) {
            throw new ErrnoException(Errno.EBADF, fd, 0, "descriptor " + fd + " is not open for reading");
        }
        return f;
    }

    private static OpenFile writing(Task t, int fd) {
        OpenFile f = t.files().get(fd);
        if (!f.writable()) {
            throw new ErrnoException(Errno.EBADF, fd, 0, "descriptor " + fd + " is not open for writing");
        }
        return f;
    }

    private static long read(Task t) {
        OpenFile f = reading(t, t.intArg(0));
        UserSliceWo buf = UserSlice.wo(t.space(), t.arg(1), t.arg(2));
        return HostWait.read(t, f, () -> buf.readFrom(f.hostFd(), f.regular()));
    }

    private static long write(Task t) {
        OpenFile f = writing(t, t.intArg(0));
        UserSliceRo buf = UserSlice.ro(t.space(), t.arg(1), t.arg(2));
        long length = Math.min(buf.length(), UserIovec.MAX_RW_COUNT);
        return HostWait.write(t, f, length, done -> UserSlice.ro(t.space(), buf.address() + done, length - done).writeTo(f.hostFd(), f.regular()));
    }

    /** Linux's ksys_pread64: a negative offset is EINVAL before the descriptor is looked at; a pipe is ESPIPE before the buffer. */
    private static long pread64(Task t) {
        checkPositioned(t);
        OpenFile f = reading(t, t.intArg(0));
        return UserSlice.wo(t.space(), t.arg(1), t.arg(2)).readFrom(f.hostFd(), t.arg(3), f.regular());
    }

    private static long pwrite64(Task t) {
        checkPositioned(t);
        OpenFile f = writing(t, t.intArg(0));
        return UserSlice.ro(t.space(), t.arg(1), t.arg(2)).writeTo(f.hostFd(), t.arg(3), f.regular());
    }

    /** The checks pread64 and pwrite64 make before the access mode: EINVAL for a negative offset, EBADF for O_PATH, ESPIPE for a pipe. */
    private static void checkPositioned(Task t) {
        long pos = t.arg(3);
        if (pos < 0) {
            throw new ErrnoException(Errno.EINVAL, pos, t.arg(2), "negative file offset");
        }
        OpenFile f = t.files().get(t.intArg(0));
        if (f.isPath()) {
            throw new ErrnoException(Errno.EBADF, t.intArg(0), 0, "an O_PATH descriptor");
        }
        if (f.seekless()) {
            throw new ErrnoException(Errno.ESPIPE, t.intArg(0), 0, "a descriptor without a position");
        }
    }

    private static long readv(Task t) {
        OpenFile f = reading(t, t.intArg(0));
        UserIovec iov = UserIovec.importFrom(t.space(), t.arg(1), t.intArg(2));
        return HostWait.read(t, f, () -> iov.readFrom(f.hostFd(), f.regular()));
    }

    private static long writev(Task t) {
        OpenFile f = writing(t, t.intArg(0));
        UserIovec iov = UserIovec.importFrom(t.space(), t.arg(1), t.intArg(2));
        return HostWait.write(t, f, iov.total(), done -> iov.advance(done).writeTo(f.hostFd(), f.regular()));
    }

    /**
     * TCGETS and TIOCGWINSZ are asked of the host descriptor (ENOTTY unless
     * it is a terminal), their answer copied to the guest as Linux copies
     * its kernel struct out; any other request is ENOTTY.
     */
    private static long ioctl(Task t) {
        OpenFile f = t.files().get(t.intArg(0));
        if (f.isPath()) {
            return -Errno.EBADF.number();
        }
        int request = t.intArg(1);
        int size = switch (request) {
            case HostFiles.TCGETS -> HostFiles.KERNEL_TERMIOS_SIZE;
            case HostFiles.TIOCGWINSZ -> HostFiles.WINSIZE_SIZE;
            default -> -1;
        };
        if (size < 0) {
            return -Errno.ENOTTY.number();
        }
        byte[] buf = new byte[size];
        long r = HostFiles.ioctlRead(f.hostFd(), request, buf);
        if (r < 0) {
            return r;
        }
        UserSlice.wo(t.space(), t.arg(2), size).copyFromSlice(buf);
        return r;
    }

    /** The host's lseek on the description's descriptor: its offset is the guest's. */
    private static long lseek(Task t) {
        OpenFile f = t.files().get(t.intArg(0));
        if (f.isPath()) {
            return -Errno.EBADF.number();
        }
        return HostFiles.lseek(f.hostFd(), t.arg(1), t.intArg(2));
    }
}
