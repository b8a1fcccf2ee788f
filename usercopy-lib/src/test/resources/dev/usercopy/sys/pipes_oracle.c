/* What Linux answers for the pipe, poll and select cases PipesTest gives a guest task: one "name value" line a case. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long r(long v) { return v < 0 ? -errno : v; }
static volatile int handled;
static volatile siginfo_t last;
static void on(int sig, siginfo_t *i, void *uc) { handled++; last = *i; }

static void handle(int sig, void (*h)(int, siginfo_t *, void *), int flags) {
    struct sigaction a;
    memset(&a, 0, sizeof a);
    a.sa_sigaction = h;
    a.sa_flags = SA_SIGINFO | flags;
    sigaction(sig, &a, 0);
}

static void block(int sig, int how) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(how, &s, 0);
}

static int pending(int sig) {
    sigset_t s;
    sigpending(&s);
    return sigismember(&s, sig);
}

int main(void) {
    int p[2];
    char buf[64];
    printf("pipe2_bad_flags %ld\n", r(syscall(SYS_pipe2, p, O_WRONLY)));
    printf("pipe2_efault %ld\n", r(syscall(SYS_pipe2, (void *) 8, 0)));
    int lowest = dup(0);
    close(lowest);
    printf("pipe2_efault_leaves_no_fd %ld\n", r(fcntl(lowest, F_GETFD)));

    syscall(SYS_pipe2, p, 0);
    printf("getfl_read %ld\ngetfl_write %ld\ngetfd %ld\n", r(fcntl(p[0], F_GETFL)), r(fcntl(p[1], F_GETFL)), r(fcntl(p[0], F_GETFD)));
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    printf("setfl_nonblock_getfl %ld\n", r(fcntl(p[0], F_GETFL)));
    printf("setfl_nonblock_read %ld\n", r(read(p[0], buf, 8)));
    close(p[1]);
    printf("read_after_last_writer %ld\n", r(read(p[0], buf, 8)));
    close(p[0]);

    syscall(SYS_pipe2, p, O_NONBLOCK | O_CLOEXEC);
    printf("nonblock_getfl_read %ld\nnonblock_getfl_write %ld\ncloexec_getfd %ld\n", r(fcntl(p[0], F_GETFL)), r(fcntl(p[1], F_GETFL)),
           r(fcntl(p[1], F_GETFD)));
    printf("nonblock_read_empty %ld\n", r(read(p[0], buf, 8)));
    fcntl(p[0], F_SETFL, 0);
    printf("clear_nonblock_getfl %ld\n", r(fcntl(p[0], F_GETFL)));
    close(p[0]);
    handle(SIGPIPE, on, 0);
    printf("write_no_reader %ld\n", r(write(p[1], "x", 1)));
    printf("sigpipe_handled %d\nsigpipe_code %d\nsigpipe_pid_is_self %d\n", handled, last.si_code, last.si_pid == getpid());
    signal(SIGPIPE, SIG_IGN);
    printf("write_no_reader_ignored %ld\n", r(write(p[1], "x", 1)));
    printf("sigpipe_pending_ignored %d\n", pending(SIGPIPE));
    signal(SIGPIPE, SIG_DFL);
    block(SIGPIPE, SIG_BLOCK);
    printf("write_no_reader_blocked %ld\n", r(write(p[1], "x", 1)));
    printf("sigpipe_pending_blocked %d\n", pending(SIGPIPE));
    signal(SIGPIPE, SIG_IGN); /* discards it */
    block(SIGPIPE, SIG_UNBLOCK);
    close(p[1]);

    /* poll, ppoll: readiness wins over a pending signal; with none ready, the signal interrupts even a zero timeout. */
    syscall(SYS_pipe2, p, 0);
    handle(SIGUSR1, on, 0);
    block(SIGUSR1, SIG_BLOCK);
    sigset_t none;
    sigemptyset(&none);
    struct pollfd pf = {p[0], POLLIN, 0};
    struct timespec zero = {0, 0};
    raise(SIGUSR1);
    handled = 0;
    printf("ppoll_zero_timeout_signal %ld\n", r(ppoll(&pf, 1, &zero, &none)));
    printf("ppoll_zero_timeout_handled %d\n", handled);
    write(p[1], "abc", 3);
    raise(SIGUSR1);
    handled = 0;
    printf("ppoll_ready_beats_signal %ld\n", r(ppoll(&pf, 1, &zero, &none)));
    printf("ppoll_ready_revents %d\nppoll_ready_pending_after %d\n", pf.revents, pending(SIGUSR1));
    sigset_t drain;
    sigemptyset(&drain);
    sigaddset(&drain, SIGUSR1);
    int sig;
    sigwait(&drain, &sig);
    printf("ppoll_sigsetsize %ld\n", r(syscall(SYS_ppoll, &pf, 1, &zero, &none, 4)));
    struct pollfd bad[2] = {{60, POLLIN, 0}, {-1, POLLIN, 0x77}};
    printf("poll_closed_fd %ld\n", r(poll(bad, 2, -1)));
    printf("poll_closed_revents %d\npoll_negative_revents %d\n", bad[0].revents, bad[1].revents);

    /* select: one count a set bit; the time left written back; Linux's timeval rules. */
    fd_set rd, wr, ex;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_ZERO(&ex);
    FD_SET(p[0], &rd);
    FD_SET(p[1], &rd);
    FD_SET(p[0], &wr);
    FD_SET(p[1], &wr);
    FD_SET(p[0], &ex);
    FD_SET(p[1], &ex);
    struct timeval tv = {5, 0};
    printf("select_ready %ld\n", r(syscall(SYS_select, p[1] + 1, &rd, &wr, &ex, &tv)));
    printf("select_read_set %d%d\nselect_write_set %d%d\nselect_except_set %d%d\nselect_time_left_sec %ld\n", FD_ISSET(p[0], &rd),
           FD_ISSET(p[1], &rd), FD_ISSET(p[0], &wr), FD_ISSET(p[1], &wr), FD_ISSET(p[0], &ex), FD_ISSET(p[1], &ex), (long) tv.tv_sec);
    FD_ZERO(&rd);
    FD_SET(60, &rd);
    printf("select_closed_fd %ld\n", r(syscall(SYS_select, 61, &rd, 0, 0, &zero)));
    printf("select_negative_nfds %ld\n", r(syscall(SYS_select, -1, 0, 0, 0, 0)));
    struct timeval negative = {0, -1};
    printf("select_negative_usec %ld\n", r(syscall(SYS_select, 0, 0, 0, 0, &negative)));
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    struct timeval over = {0, 1500000};
    printf("select_usec_past_a_second %ld\n", r(syscall(SYS_select, p[0] + 1, &rd, 0, 0, &over)));
    printf("select_usec_past_a_second_left_sec %ld\n", (long) over.tv_sec);
    struct { const sigset_t *set; size_t size; } pack = {&none, 4};
    printf("pselect6_sigsetsize %ld\n", r(syscall(SYS_pselect6, p[0] + 1, &rd, 0, 0, 0, &pack)));
    read(p[0], buf, 3);
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    struct timeval brief = {0, 20000};
    printf("select_timeout %ld\n", r(syscall(SYS_select, p[0] + 1, &rd, 0, 0, &brief)));
    printf("select_timeout_set %d\nselect_timeout_left_usec %ld\n", FD_ISSET(p[0], &rd), (long) brief.tv_usec);
    struct timespec bad_ts = {0, 1000000000};
    printf("nanosleep_bad_nsec %ld\n", r(syscall(SYS_nanosleep, &bad_ts, 0)));
    return 0;
}
