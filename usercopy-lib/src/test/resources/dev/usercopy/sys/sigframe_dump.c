/* The oracle for SignalDeliveryTest: a handler that reports the frame Linux
   built for it, as offsets and values that do not depend on where the stack
   is. Three deliveries: on the stack (SA_SIGINFO, sa_mask SIGUSR2), on an
   alternate stack, on an alternate stack with SS_AUTODISARM. Each line is
   "case.key=value". Runs natively; built static, it runs as a guest too. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31) /* linux/signal.h; glibc does not name it */
#endif

static char altstack[65536] __attribute__((aligned(64)));
static const char *name;
static char out[8192];
static size_t used;

static void put(const char *key, long long value) {
    used += snprintf(out + used, sizeof out - used, "%s.%s=%lld\n", name, key, value);
}

static void handler(int sig, siginfo_t *info, void *ucv) {
    ucontext_t *uc = ucv;
    char *frame = (char *)uc - 8;
    uintptr_t sp = uc->uc_mcontext.gregs[REG_RSP];
    uintptr_t top = uc->uc_stack.ss_size ? (uintptr_t)altstack + sizeof altstack : sp;
    char *fp = (char *)uc->uc_mcontext.fpregs;
    uint32_t *sw = (uint32_t *)(fp + 464);
    uint64_t mask, now;
    stack_t cur;

    put("sig", sig);
    put("top_mod64", top % 64);
    put("frame_below_top", (long long)(top - (uintptr_t)frame));
    put("fpstate_below_top", (long long)(top - (uintptr_t)fp));
    put("frame_mod16", (uintptr_t)frame % 16);
    put("info_minus_frame", (char *)info - frame);
    put("uc_flags", uc->uc_flags);
    put("uc_link", (long long)(uintptr_t)uc->uc_link);
    put("uc_stack_sp_is_altstack", uc->uc_stack.ss_sp == altstack);
    put("uc_stack_flags", (unsigned)uc->uc_stack.ss_flags);
    put("uc_stack_size", uc->uc_stack.ss_size);
    put("sc_cs", (uint16_t)uc->uc_mcontext.gregs[REG_CSGSFS]);
    put("sc_gs", (uint16_t)(uc->uc_mcontext.gregs[REG_CSGSFS] >> 16));
    put("sc_fs", (uint16_t)(uc->uc_mcontext.gregs[REG_CSGSFS] >> 32));
    put("sc_ss", (uint16_t)(uc->uc_mcontext.gregs[REG_CSGSFS] >> 48));
    put("sc_oldmask", uc->uc_mcontext.gregs[REG_OLDMASK]);
    put("sc_trapno", uc->uc_mcontext.gregs[REG_TRAPNO]);
    put("sc_err", uc->uc_mcontext.gregs[REG_ERR]);
    put("sc_cr2", uc->uc_mcontext.gregs[REG_CR2]);
    memcpy(&mask, &uc->uc_sigmask, 8);
    put("uc_sigmask", (long long)mask);
    put("magic1", sw[0]);
    put("extended_size", sw[1]);
    put("xfeatures", (long long)*(uint64_t *)(fp + 472));
    put("xstate_size", sw[4]);
    put("magic2", *(uint32_t *)(fp + sw[4]));
    put("xstate_bv_fpsse", *(uint64_t *)(fp + 512) & 3);
    put("si_signo", info->si_signo);
    put("si_code", info->si_code);
    put("si_pid_is_self", info->si_pid == getpid());
    put("si_uid_is_self", info->si_uid == getuid());
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &now, 8);
    put("handler_mask", (long long)now);
    sigaltstack(NULL, &cur);
    put("altstack_in_handler_flags", (unsigned)cur.ss_flags);
    put("altstack_in_handler_size", cur.ss_size);
}

static void deliver(const char *which, int flags, int ssflags) {
    struct sigaction sa;
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = ssflags};
    name = which;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, NULL);
    if (flags & SA_ONSTACK) {
        sigaltstack(&ss, NULL);
    }
    /* kill(getpid(), SIGUSR1) with rsp at 56 mod 64, so the frame's offsets below it do not depend on
       how the stack above main was laid out (environment, auxiliary vector). */
    __asm__ volatile("mov %%rsp, %%r12\n\t"
                     "and $-64, %%rsp\n\t"
                     "sub $8, %%rsp\n\t"
                     "syscall\n\t"
                     "mov %%r12, %%rsp"
                     : : "a"((long)SYS_kill), "D"((long)getpid()), "S"((long)SIGUSR1) : "r12", "rcx", "r11", "memory");
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
}

int main(void) {
    deliver("stack", 0, 0);
    deliver("altstack", SA_ONSTACK, 0);
    deliver("autodisarm", SA_ONSTACK, SS_AUTODISARM);
    fwrite(out, 1, used, stdout);
    return 0;
}
