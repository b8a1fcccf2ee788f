/* Signals a guest takes from its own faults, for GuestSignalFrameTest.
   "addr": a write to a read-only page; the SIGSEGV handler reports si_addr
   and si_code, makes the page writable and returns, so the write is made
   again and goes through. "badstack": SIGUSR1 with a handler while rsp
   points at nothing: the frame does not fit and the process dies of
   SIGSEGV. "altstack": the same, but the handler runs on an alternate
   stack and reports that it did. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static char *page;
static char altstack[65536] __attribute__((aligned(64)));
static volatile int handled;

static void segv(int sig, siginfo_t *info, void *uc) {
    (void)uc;
    printf("sig=%d code=%d addr_is_page_plus_8=%d\n", sig, info->si_code, info->si_addr == page + 8);
    mprotect(page, 4096, PROT_READ | PROT_WRITE);
    handled++;
}

static void usr1(int sig) {
    char probe;
    printf("usr1 %d on_altstack=%d\n", sig, &probe > altstack && &probe < altstack + sizeof altstack);
    fflush(stdout);
}

static void kill_self_with_rsp(long rsp) {
    __asm__ volatile("mov %%rsp, %%r12\n\t"
                     "mov %3, %%rsp\n\t"
                     "syscall\n\t"
                     "mov %%r12, %%rsp"
                     : : "a"((long)SYS_kill), "D"((long)getpid()), "S"((long)SIGUSR1), "r"(rsp) : "r12", "rcx", "r11", "memory");
}

int main(int argc, char **argv) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "addr") == 0) {
        page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        sa.sa_sigaction = segv;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGSEGV, &sa, NULL);
        page[8] = 42;
        printf("handled=%d value=%d\n", handled, page[8]);
        return 0;
    }
    sa.sa_handler = usr1;
    if (argc > 1 && strcmp(argv[1], "altstack") == 0) {
        stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
        sigaltstack(&ss, NULL);
        sa.sa_flags = SA_ONSTACK;
    }
    sigaction(SIGUSR1, &sa, NULL);
    kill_self_with_rsp(0x1000); /* nothing is mapped there */
    printf("returned\n");
    return 0;
}
