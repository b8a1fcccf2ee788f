package dev.usercopy.sys;

import dev.usercopy.uapi.Errno;

/**
 * The socket calls that take a descriptor, on a guest that has no sockets:
 * each looks the descriptor up as Linux's sockfd_lookup does, so a closed
 * one is EBADF and any other ENOTSOCK. Programs ask this of descriptors they
 * did not open: bash, for one, asks {@code getpeername} of its standard
 * input whether it runs under rshd, and reads ~/.bashrc if the answer is
 * anything but ENOTSOCK or EINVAL. What Linux checks before the
 * socket comes first here too (as Linux 6.18 answers): connect's address
 * after EBADF and before ENOTSOCK (EINVAL, EFAULT),
 * sendto's and recvfrom's buffer range (EFAULT), recvmmsg's flags and
 * timeout. {@code socket} and {@code socketpair} stay ENOSYS: a guest
 * cannot make a socket.
 */
final class Sockets {
    static final int SOCK_NONBLOCK = 04000;
    static final int SOCK_CLOEXEC = 02000000;
    /** MSG_CMSG_COMPAT: only the kernel's compat layer may pass it. */
    static final int MSG_CMSG_COMPAT = 0x80000000;

    private Sockets() {}

    static void register(Syscalls.Registry r) {
        r.add(42, "connect", "fpx", t -> {
            t.files().get(t.intArg(0)); // EBADF, then the address is copied, then the file is found to be no socket
            long r0 = addressIn(t, t.arg(1), t.intArg(2));
            return r0 < 0 ? r0 : -Errno.ENOTSOCK.number();
        });
        r.add(43, "accept", "fpp", Sockets::notSocket);
        r.add(44, "sendto", "fpxxpx", t -> accessOk(t.arg(1), t.arg(2)) ? notSocket(t) : -Errno.EFAULT.number());
        r.add(45, "recvfrom", "fpxxpp", t -> accessOk(t.arg(1), t.arg(2)) ? notSocket(t) : -Errno.EFAULT.number());
        r.add(46, "sendmsg", "fpx", t -> (t.intArg(2) & MSG_CMSG_COMPAT) != 0 ? -Errno.EINVAL.number() : notSocket(t));
        r.add(47, "recvmsg", "fpx", t -> (t.intArg(2) & MSG_CMSG_COMPAT) != 0 ? -Errno.EINVAL.number() : notSocket(t));
        r.add(48, "shutdown", "fx", Sockets::notSocket);
        r.add(49, "bind", "fpx", Sockets::notSocket);
        r.add(50, "listen", "fx", Sockets::notSocket);
        r.add(51, "getsockname", "fpp", Sockets::notSocket);
        r.add(52, "getpeername", "fpp", Sockets::notSocket);
        r.add(54, "setsockopt", "fxxpx", Sockets::notSocket);
        r.add(55, "getsockopt", "fxxpp", Sockets::notSocket);
        r.add(288, "accept4", "fppx", t -> (t.intArg(3) & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) != 0 ? -Errno.EINVAL.number() : notSocket(t));
        r.add(299, "recvmmsg", "fpxxp", t -> {
            if ((t.intArg(3) & MSG_CMSG_COMPAT) != 0) {
                return -Errno.EINVAL.number();
            }
            if (t.arg(4) != 0) {
                GuestMemory.getTimespec(t, t.arg(4)); // the timeout is read before the descriptor is looked up: EFAULT
            }
            return notSocket(t);
        });
        r.add(307, "sendmmsg", "fpxx", t -> (t.intArg(3) & MSG_CMSG_COMPAT) != 0 ? -Errno.EINVAL.number() : notSocket(t));
    }

    /** sizeof(struct sockaddr_storage): the longest address a socket call copies. */
    static final int SOCKADDR_STORAGE = 128;
    /** MAX_RW_COUNT: what import_ubuf clips a length to before access_ok. */
    static final long MAX_RW_COUNT = 0x7ffff000L;

    /** move_addr_to_kernel: EINVAL for a length outside 0..128, EFAULT when the address cannot be read, else 0. */
    private static long addressIn(Task t, long addr, int len) {
        if (len < 0 || len > SOCKADDR_STORAGE) {
            return -Errno.EINVAL.number();
        }
        if (len > 0) {
            GuestMemory.read(t, addr, len);
        }
        return 0;
    }

    /** import_ubuf's access_ok: the buffer, its length clipped to MAX_RW_COUNT, lies in user space. */
    private static boolean accessOk(long buf, long len) {
        long n = Long.compareUnsigned(len, MAX_RW_COUNT) > 0 ? MAX_RW_COUNT : len;
        return Long.compareUnsigned(buf, GuestMemory.TASK_SIZE) <= 0 && Long.compareUnsigned(n, GuestMemory.TASK_SIZE - buf) <= 0;
    }

    /** EBADF for a descriptor not open, else ENOTSOCK: no descriptor of a guest is a socket. */
    private static long notSocket(Task t) {
        t.files().get(t.intArg(0));
        return -Errno.ENOTSOCK.number();
    }
}
