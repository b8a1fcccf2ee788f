package dev.usercopy.sys;

import org.junit.jupiter.api.Test;

import dev.usercopy.platform.HostFiles;
import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The socket calls on a guest that has no sockets: Linux's checks that come
 * before the socket, then EBADF or ENOTSOCK (what bash's getpeername on
 * its standard input must see). The cli's DynamicProgramOracleTest holds
 * the same calls (sockets.c) against the host kernel itself.
 */
class SocketCallsTest extends SysScenario {
    private static final int CONNECT = 42, SENDTO = 44, RECVFROM = 45, GETPEERNAME = 52, ACCEPT4 = 288, RECVMMSG = 299;

    @Test
    void aDescriptorIsNoSocketAndTheArgumentsLinuxReadsFirstComeFirst() {
        int[] p = pipe();
        int fd = install(p[0], HostFiles.O_RDONLY);
        HostFiles.close(p[1]);
        long addr = bytes(new byte[16]);
        assertEquals(err(Errno.ENOTSOCK), call(GETPEERNAME, fd, addr, addr));
        assertEquals(err(Errno.EBADF), call(GETPEERNAME, 40, addr, addr));
        assertEquals(err(Errno.ENOTSOCK), call(CONNECT, fd, addr, 16));
        assertEquals(err(Errno.EBADF), call(CONNECT, 40, 0, 16), "connect: the descriptor first");
        assertEquals(err(Errno.EFAULT), call(CONNECT, fd, 0, 16), "then the address, before the file is found to be no socket");
        assertEquals(err(Errno.EINVAL), call(CONNECT, fd, addr, 129), "longer than sockaddr_storage");
        assertEquals(err(Errno.ENOTSOCK), call(CONNECT, fd, 0, 0), "an empty address is not read");
        assertEquals(err(Errno.EFAULT), call(SENDTO, 40, -4096L, 10, 0, 0, 0), "the buffer's range before the descriptor");
        assertEquals(err(Errno.EBADF), call(SENDTO, 40, 0, 10, 0, 0, 0), "access_ok only: NULL is in user space");
        assertEquals(err(Errno.EFAULT), call(RECVFROM, fd, 1L << 47, 10, 0, 0, 0));
        assertEquals(err(Errno.EINVAL), call(ACCEPT4, fd, 0, 0, 1), "flags first");
        assertEquals(err(Errno.EFAULT), call(RECVMMSG, 40, addr, 1, 0, 8), "the timeout before the descriptor");
        assertEquals(err(Errno.EINVAL), call(RECVMMSG, fd, addr, 1, 0x80000000, 0));
    }
}
