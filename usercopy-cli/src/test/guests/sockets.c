/* The socket calls on descriptors that are not sockets (a pipe, a closed
 * number): each errno in the order Linux checks its arguments. Prints errno
 * names only. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, long r) {
    printf("%s = %ld %s\n", what, r, r < 0 ? strerrorname_np(errno) : "");
}

int main(void) {
    int p[2];
    if (pipe(p) != 0) {
        return 2;
    }
    char a[16] = {0};
    setvbuf(stdout, NULL, _IONBF, 0);
    show("getpeername(pipe)", syscall(SYS_getpeername, p[0], a, a));
    show("getpeername(closed)", syscall(SYS_getpeername, 40, a, a));
    show("getsockopt(pipe)", syscall(SYS_getsockopt, p[0], 1, 3, a, a));
    show("connect(closed, NULL, 16)", syscall(SYS_connect, 40, 0, 16));
    show("connect(pipe, NULL, 16)", syscall(SYS_connect, p[0], 0, 16));
    show("connect(pipe, addr, 129)", syscall(SYS_connect, p[0], a, 129));
    show("connect(pipe, NULL, 0)", syscall(SYS_connect, p[0], 0, 0));
    show("sendto(closed, kernel address)", syscall(SYS_sendto, 40, -4096L, 10, 0, 0, 0));
    show("sendto(closed, NULL)", syscall(SYS_sendto, 40, 0, 10, 0, 0, 0));
    show("recvfrom(pipe, past user space)", syscall(SYS_recvfrom, p[0], 1L << 47, 10, 0, 0, 0));
    show("accept4(pipe, flags 1)", syscall(SYS_accept4, p[0], 0, 0, 1));
    show("recvmmsg(closed, unreadable timeout)", syscall(SYS_recvmmsg, 40, a, 1, 0, 8));
    show("recvmmsg(pipe, MSG_CMSG_COMPAT)", syscall(SYS_recvmmsg, p[0], a, 1, 0x80000000, 0));
    show("shutdown(pipe)", syscall(SYS_shutdown, p[0], 0));
    show("listen(closed)", syscall(SYS_listen, 40, 1));
    return 0;
}
