package dev.usercopy.sys;

import dev.usercopy.uapi.Errno;

/**
 * The socket calls that take a descriptor, on a guest that has no sockets:
 * each looks the descriptor up as Linux's sockfd_lookup does, so a closed
 * one is EBADF and any other ENOTSOCK. Programs ask this of descriptors they
 * did not open: bash, for one, asks {@code getpeername} of its standard
 * input whether it runs under rshd, and reads ~/.bashrc if the answer is
 * anything but ENOTSOCK or EINVAL. {@code socket} and {@code socketpair}
 * stay ENOSYS: a guest cannot make a socket.
 */
final class Sockets {
    static final int SOCK_NONBLOCK = 04000;
    static final int SOCK_CLOEXEC = 02000000;
    /** MSG_CMSG_COMPAT: only the kernel's compat layer may pass it. */
    static final int MSG_CMSG_COMPAT = 0x80000000;

    private Sockets() {}

    static void register(Syscalls.Registry r) {
        r.add(42, "connect", "fpx", Sockets::notSocket);
        r.add(43, "accept", "fpp", Sockets::notSocket);
        r.add(44, "sendto", "fpxxpx", Sockets::notSocket);
        r.add(45, "recvfrom", "fpxxpp", Sockets::notSocket);
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
        r.add(299, "recvmmsg", "fpxxp", t -> (t.intArg(3) & MSG_CMSG_COMPAT) != 0 ? -Errno.EINVAL.number() : notSocket(t));
        r.add(307, "sendmmsg", "fpxx", t -> (t.intArg(3) & MSG_CMSG_COMPAT) != 0 ? -Errno.EINVAL.number() : notSocket(t));
    }

    /** EBADF for a descriptor not open, else ENOTSOCK: no descriptor of a guest is a socket. */
    private static long notSocket(Task t) {
        t.files().get(t.intArg(0));
        return -Errno.ENOTSOCK.number();
    }
}
