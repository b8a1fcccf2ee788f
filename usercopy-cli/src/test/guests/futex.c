/* futex(2) as a C library and a program of several processes use it: the
 * errors in Linux's order, a wait that times out, a wait that a signal ends,
 * and a wake of another process waiting in shared memory. Prints results and
 * errno names, never addresses or times. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long futex(void *addr, int op, int val, const struct timespec *ts, void *addr2, int val3) {
    return syscall(SYS_futex, addr, op, val, ts, addr2, val3);
}

static void show(const char *what, long r) {
    if (r < 0) {
        printf("%s = -1 %s\n", what, strerrorname_np(errno));
    } else {
        printf("%s = %ld\n", what, r);
    }
}

static void nothing(int sig) {
    (void) sig;
}

int main(void) {
    static uint32_t word = 7;
    struct timespec short_ts = {0, 20 * 1000 * 1000};
    struct timespec bad_ts = {0, 1000000000};
    setvbuf(stdout, NULL, _IONBF, 0);
    show("wake, private, nobody waits", futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
    show("wake, shared flag off, nobody waits", futex(&word, FUTEX_WAKE, 1, NULL, NULL, 0));
    show("wait, value differs", futex(&word, FUTEX_WAIT_PRIVATE, 8, NULL, NULL, 0));
    show("wait, misaligned", futex((char *) &word + 1, FUTEX_WAIT_PRIVATE, 7, NULL, NULL, 0));
    show("wake, misaligned", futex((char *) &word + 2, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
    show("wait, NULL word", futex(NULL, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
    show("wait, bad timeout", futex(&word, FUTEX_WAIT_PRIVATE, 7, &bad_ts, NULL, 0));
    show("wait, bad timeout and misaligned", futex((char *) &word + 1, FUTEX_WAIT_PRIVATE, 7, &bad_ts, NULL, 0));
    show("wait, timeout unreadable", futex(&word, FUTEX_WAIT_PRIVATE, 7, (void *) 8, NULL, 0));
    show("wait, times out", futex(&word, FUTEX_WAIT_PRIVATE, 7, &short_ts, NULL, 0));
    show("wait_bitset, bitset 0", futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 7, NULL, NULL, 0));
    show("wake_bitset, bitset 0", futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0));
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    now.tv_nsec += 20 * 1000 * 1000;
    if (now.tv_nsec >= 1000000000) {
        now.tv_sec++;
        now.tv_nsec -= 1000000000;
    }
    show("wait_bitset, absolute monotonic deadline passes",
         futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 7, &now, NULL, FUTEX_BITSET_MATCH_ANY));
    clock_gettime(CLOCK_REALTIME, &now);
    show("wait_bitset, realtime deadline already past",
         futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 7, &now, NULL, FUTEX_BITSET_MATCH_ANY));
    show("wake with FUTEX_CLOCK_REALTIME", futex(&word, FUTEX_WAKE_PRIVATE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0));

    /* A signal with a handler ends a wait with no timeout: EINTR without SA_RESTART. The timer
     * repeats, so an alarm that comes before the wait begins (a loaded machine) is not the last. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = nothing;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval every = {{0, 30000}, {0, 30000}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &every, NULL);
    show("wait, a handled SIGALRM comes", futex(&word, FUTEX_WAIT_PRIVATE, 7, NULL, NULL, 0));
    setitimer(ITIMER_REAL, &off, NULL);

    /* Another process wakes this one through shared memory. */
    uint32_t *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    shared[0] = 0;
    shared[1] = 0;
    pid_t child = fork();
    if (child == 0) {
        while (__atomic_load_n(&shared[1], __ATOMIC_SEQ_CST) == 0) {
            usleep(1000); /* until the parent is about to wait */
        }
        usleep(50000);
        __atomic_store_n(&shared[0], 1, __ATOMIC_SEQ_CST);
        long woken = futex(&shared[0], FUTEX_WAKE, 1, NULL, NULL, 0);
        _exit(woken == 1 ? 0 : 10 + (int) woken);
    }
    __atomic_store_n(&shared[1], 1, __ATOMIC_SEQ_CST);
    long r = futex(&shared[0], FUTEX_WAIT, 0, NULL, NULL, 0);
    show("wait in shared memory, woken by the other process (0 or EAGAIN if it came first)", r == 0 || errno == EAGAIN ? 0 : r);
    printf("word after the wake = %u\n", shared[0]);
    int status;
    waitpid(child, &status, 0);
    printf("the waker saw one process woken or none waiting: %d\n", WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 10));
    return 0;
}
