; Signal delivery, one case a run, chosen by argv[1]: a SIGSEGV handler reading si_addr and
; si_code of its own fault, one that resumes elsewhere through rt_sigreturn, frames that cannot
; be written (a bad stack pointer, no restorer: Linux kills with SIGSEGV), masks and pending
; sets, the alternate signal stack, SA_RESETHAND, kill/tgkill's siginfo.
%include "proc.inc"

section .data
modes:
    mode "segv-maperr", do_segv_maperr
    mode "segv-accerr", do_segv_accerr
    mode "segv-resume", do_segv_resume
    mode "segv-context", do_segv_context
    mode "segv-in-handler", do_segv_in_handler
    mode "badstack-kill", do_badstack_kill
    mode "badstack-fault", do_badstack_fault
    mode "badstack-altstack", do_badstack_altstack
    mode "no-restorer", do_no_restorer
    mode "mask", do_mask
    mode "altstack", do_altstack
    mode "resethand", do_resethand
    mode "ignore", do_ignore
    mode "siginfo", do_siginfo
    dq 0, 0

section .rodata
rodata_byte: db 1

section .bss
counter: resq 1
mypid: resq 1
saved: resq 8
alt_base: resq 1
in_rsp: resq 1
in_flags: resq 1
in_change: resq 1
info: resb 128

%define UNMAPPED 0x100000                   ; 1 MiB: below the binary, never mapped

section .text
global _start
_start:
    keep_args
    lea rdi, [modes]
    call run_mode

; print_fault(rsi=siginfo): si_signo, si_code and si_addr.
print_fault:
    push rsi
    mov eax, [rsi + SI_SIGNO]
    shownum "  si_signo", rax
    mov rsi, [rsp]
    mov eax, [rsi + SI_CODE]
    shownum "  si_code", rax
    pop rsi
    mov rax, [rsi + SI_ADDR]
    showhex "  si_addr", rax
    ret

segv_print_exit:
    mov r12, rsi
    say "SIGSEGV handler", 10
    mov rsi, r12
    call print_fault
    exit 0

do_segv_maperr:
    mov edi, SIGSEGV
    lea rsi, [segv_print_exit]
    mov edx, SA_SIGINFO
    call set_action
    show "rt_sigaction(SIGSEGV, handler)"
    mov rax, UNMAPPED + 0x123
    mov al, [rax]
    say "survived", 10
    ret

do_segv_accerr:
    mov edi, SIGSEGV
    lea rsi, [segv_accerr_handler]
    mov edx, SA_SIGINFO
    call set_action
    show "rt_sigaction(SIGSEGV, handler)"
    mov byte [rodata_byte], 2
    say "survived", 10
    ret

segv_accerr_handler:
    push rsi
    say "SIGSEGV handler", 10
    mov rsi, [rsp]
    mov eax, [rsi + SI_CODE]
    shownum "  si_code", rax
    pop rsi
    lea rax, [rodata_byte]
    cmp rax, [rsi + SI_ADDR]
    sete al
    movzx eax, al
    shownum "  si_addr is the .rodata byte written", rax
    exit 0

; segv-resume: the handler moves rip past the fault and sets rax in the ucontext; rt_sigreturn
; brings them back with every other register as it was, and the mask from before the signal.
do_segv_resume:
    mov edi, SIGSEGV
    lea rsi, [segv_resume_handler]
    mov edx, SA_SIGINFO
    call set_action
    show "rt_sigaction(SIGSEGV, handler)"
    mov rbx, 0x1111
    mov rbp, 0x2222
    mov r12, 0x3333
    mov r13, 0x4444
    mov r14, 0x5555
    mov r15, 0x6666
    mov rax, UNMAPPED
.fault:
    mov al, [rax]
    say "not resumed here", 10
    exit 1
.resume:
    mov [saved], rax
    mov [saved + 8], rbx
    mov [saved + 16], rbp
    mov [saved + 24], r12
    mov [saved + 32], r13
    mov [saved + 40], r14
    mov [saved + 48], r15
    say "resumed where the handler said", 10
    shownum "  rax as the handler set it", qword [saved]
    xor ecx, ecx
    cmp qword [saved + 8], 0x1111
    sete cl
    cmp qword [saved + 16], 0x2222
    sete dl
    and cl, dl
    cmp qword [saved + 24], 0x3333
    sete dl
    and cl, dl
    cmp qword [saved + 32], 0x4444
    sete dl
    and cl, dl
    cmp qword [saved + 40], 0x5555
    sete dl
    and cl, dl
    cmp qword [saved + 48], 0x6666
    sete dl
    and cl, dl
    movzx ecx, cl
    shownum "  rbx, rbp, r12-r15 kept", rcx
    call current_mask
    showhex "  mask after rt_sigreturn", rax
    shownum "  handler calls", qword [counter]
    ret

segv_resume_handler:
    inc qword [counter]
    mov r12, rsi
    mov r13, rdx
    say "SIGSEGV handler", 10
    mov rsi, r12
    call print_fault
    lea rax, [do_segv_resume.fault]
    cmp rax, [r13 + UC_REG(REG_RIP)]
    sete al
    movzx eax, al
    shownum "  uc rip is the faulting instruction", rax
    cmp qword [r13 + UC_REG(REG_RBX)], 0x1111
    sete al
    movzx eax, al
    shownum "  uc rbx is the program's", rax
    call current_mask
    showhex "  mask in the handler", rax
    mov rax, [r13 + UC_SIGMASK]
    showhex "  uc_sigmask", rax
    lea rax, [do_segv_resume.resume]
    mov [r13 + UC_REG(REG_RIP)], rax
    mov qword [r13 + UC_REG(REG_RAX)], 77
    ret

; segv-context: what the sigcontext says about a page fault: trapno 14, the error code (4: user,
; 2: write, 1: present) and cr2, for a read of an unmapped page and a write to .rodata.
do_segv_context:
    mov edi, SIGSEGV
    lea rsi, [segv_context_handler]
    mov edx, SA_SIGINFO
    call set_action
    mov rax, UNMAPPED + 8
.read:
    mov al, [rax]
.write:
    mov byte [rodata_byte], 3
.done:
    say "both faults seen", 10
    ret

segv_context_handler:
    mov r13, rdx
    inc qword [counter]
    say "SIGSEGV handler", 10
    mov rax, [r13 + UC_REG(REG_TRAPNO)]
    shownum "  trapno", rax
    mov rax, [r13 + UC_REG(REG_ERR)]
    shownum "  err", rax
    mov rax, [r13 + UC_REG(REG_CR2)]
    showhex "  cr2", rax
    lea rax, [do_segv_context.write]
    cmp qword [counter], 1
    je .set
    lea rax, [do_segv_context.done]
.set:
    mov [r13 + UC_REG(REG_RIP)], rax
    ret

; segv-in-handler: a fault in the SIGSEGV handler, where SIGSEGV is blocked: Linux kills.
do_segv_in_handler:
    mov edi, SIGSEGV
    lea rsi, [segv_twice_handler]
    mov edx, SA_SIGINFO
    call set_action
    mov rax, UNMAPPED
    mov al, [rax]
    say "survived", 10
    ret

segv_twice_handler:
    say "SIGSEGV handler, about to fault again", 10
    xor eax, eax
    mov al, [rax]
    say "survived in the handler", 10
    exit 1

; badstack-kill: a handled signal arrives while rsp points at unmapped memory: the frame cannot
; be written, and Linux kills the process with SIGSEGV.
do_badstack_kill:
    mov edi, SIGUSR1
    lea rsi, [usr1_say]
    xor edx, edx
    call set_action
    show "rt_sigaction(SIGUSR1, handler)"
    sys SYS_getpid
    mov rbx, rax
    say "kill(self, SIGUSR1) with rsp unmapped", 10
    mov rsp, UNMAPPED + PAGE
    sys SYS_kill, rbx, SIGUSR1
    mov rsp, [initial_sp]
    say "survived", 10
    ret

usr1_say:
    inc qword [counter]
    say "SIGUSR1 handler", 10
    ret

do_badstack_fault:
    mov edi, SIGSEGV
    lea rsi, [segv_print_exit]
    mov edx, SA_SIGINFO
    call set_action
    show "rt_sigaction(SIGSEGV, handler)"
    say "a fault with rsp unmapped", 10
    mov rsp, UNMAPPED + PAGE
    xor eax, eax
    mov al, [rax]
    mov rsp, [initial_sp]
    say "survived", 10
    ret

; badstack-altstack: the same fault with an alternate stack and SA_ONSTACK: the handler runs.
do_badstack_altstack:
    call make_altstack
    mov edi, SIGSEGV
    lea rsi, [segv_print_exit]
    mov edx, SA_SIGINFO | SA_ONSTACK
    call set_action
    show "rt_sigaction(SIGSEGV, handler, SA_ONSTACK)"
    say "a fault with rsp unmapped", 10
    mov rsp, UNMAPPED + PAGE
    xor eax, eax
    mov al, [rax]
    mov rsp, [initial_sp]
    say "survived", 10
    ret

; no-restorer: a handler without SA_RESTORER: x86-64 Linux cannot build the frame, SIGSEGV.
do_no_restorer:
    mov edi, SIGUSR1
    lea rsi, [usr1_say]
    xor edx, edx
    xor ecx, ecx
    call set_action_raw
    show "rt_sigaction(SIGUSR1, handler, no SA_RESTORER)"
    sys SYS_getpid
    sys SYS_kill, rax, SIGUSR1
    say "survived", 10
    ret

; mask: a blocked signal stays pending (once, however often sent) until unblocked, and its
; handler runs before rt_sigprocmask returns; SIGKILL and SIGSTOP cannot be blocked or caught;
; rt_sigsuspend runs the handler and restores the mask.
do_mask:
    mov edi, SIGUSR1
    lea rsi, [usr1_count]
    xor edx, edx
    call set_action
    show "rt_sigaction(SIGUSR1, handler)"
    sys SYS_getpid
    mov [mypid], rax
    mov edi, SIG_BLOCK
    mov esi, bit(SIGUSR1)
    call mask_op
    show "rt_sigprocmask(SIG_BLOCK, {USR1})"
    showhex "  old mask", qword [old_mask]
    sys SYS_kill, [mypid], SIGUSR1
    show "kill(self, SIGUSR1)"
    sys SYS_kill, [mypid], SIGUSR1
    show "kill(self, SIGUSR1) again"
    shownum "  handler calls", qword [counter]
    call pending
    showhex "rt_sigpending", rax
    mov edi, SIG_UNBLOCK
    mov esi, bit(SIGUSR1)
    call mask_op
    mov rbx, [counter]
    show "rt_sigprocmask(SIG_UNBLOCK, {USR1})"
    shownum "  handler calls when it returned", rbx
    call pending
    showhex "rt_sigpending", rax
    mov edi, SIG_SETMASK
    mov rsi, -1
    call mask_op
    show "rt_sigprocmask(SIG_SETMASK, everything)"
    call current_mask
    showhex "  mask", rax
    mov edi, SIG_SETMASK
    xor esi, esi
    call mask_op
    sys SYS_rt_sigprocmask, SIG_BLOCK, 0, old_mask, 4
    show "rt_sigprocmask(sigsetsize 4)"
    sys SYS_rt_sigprocmask, 7, old_mask, 0, 8
    show "rt_sigprocmask(how 7)"
    mov edi, SIGKILL
    lea rsi, [usr1_count]
    xor edx, edx
    call set_action
    show "rt_sigaction(SIGKILL, handler)"
    mov edi, SIGSTOP
    mov esi, SIG_IGN
    xor edx, edx
    call set_action
    show "rt_sigaction(SIGSTOP, SIG_IGN)"
    mov edi, 65
    lea rsi, [usr1_count]
    xor edx, edx
    call set_action
    show "rt_sigaction(65, handler)"
    mov edi, SIGKILL
    call handler_of
    show "rt_sigaction(SIGKILL, NULL, &old) [a query]"
    ; rt_sigsuspend
    mov edi, SIG_BLOCK
    mov esi, bit(SIGUSR1)
    call mask_op
    sys SYS_kill, [mypid], SIGUSR1
    xor edi, edi
    call suspend
    show "rt_sigsuspend(empty) with SIGUSR1 pending"
    shownum "  handler calls", qword [counter]
    call current_mask
    showhex "  mask after it", rax
    ret

usr1_count:
    inc qword [counter]
    ret

; make_altstack: 64 KiB mapped, set as the alternate stack; its base in [alt_base].
make_altstack:
    anon_map 16 * PAGE, PROT_READ | PROT_WRITE
    mov [alt_base], rax
    sub rsp, 24
    mov [rsp], rax
    mov dword [rsp + 8], 0
    mov qword [rsp + 16], 16 * PAGE
    sys SYS_sigaltstack, rsp, 0
    add rsp, 24
    show "sigaltstack(64 KiB)"
    ret

; altstack: sigaltstack's checks, and where handlers with and without SA_ONSTACK run.
do_altstack:
    sub rsp, 24
    mov qword [rsp], 0x77
    mov dword [rsp + 8], 0x77
    sys SYS_sigaltstack, 0, rsp
    show "sigaltstack(NULL, &old)"
    mov eax, [rsp + 8]
    shownum "  old ss_flags", rax
    mov rax, [rsp + 16]
    shownum "  old ss_size", rax
    anon_map PAGE, PROT_READ | PROT_WRITE
    mov [rsp], rax
    mov dword [rsp + 8], 0
    mov qword [rsp + 16], 1024
    sys SYS_sigaltstack, rsp, 0
    show "sigaltstack(1024 bytes)"
    mov dword [rsp + 8], 5
    mov qword [rsp + 16], PAGE
    sys SYS_sigaltstack, rsp, 0
    show "sigaltstack(flags 5)"
    add rsp, 24
    call make_altstack
    mov edi, SIGUSR1
    lea rsi, [where_am_i]
    mov edx, SA_ONSTACK
    call set_action
    mov edi, SIGUSR2
    lea rsi, [where_am_i]
    xor edx, edx
    call set_action
    sys SYS_getpid
    mov [mypid], rax
    sys SYS_kill, [mypid], SIGUSR1
    say "SIGUSR1 (SA_ONSTACK)", 10
    call print_where
    sys SYS_kill, [mypid], SIGUSR2
    say "SIGUSR2 (no SA_ONSTACK)", 10
    call print_where
    sub rsp, 24
    sys SYS_sigaltstack, 0, rsp
    mov eax, [rsp + 8]
    shownum "ss_flags outside the handler", rax
    mov dword [rsp + 8], SS_DISABLE
    sys SYS_sigaltstack, rsp, 0
    show "sigaltstack(SS_DISABLE)"
    add rsp, 24
    sys SYS_kill, [mypid], SIGUSR1
    say "SIGUSR1 (SA_ONSTACK, the alternate stack disabled)", 10
    call print_where
    ret

where_am_i:
    mov [in_rsp], rsp
    sub rsp, 24
    sys SYS_sigaltstack, 0, rsp
    mov eax, [rsp + 8]
    mov [in_flags], rax
    mov dword [rsp + 8], 0
    sys SYS_sigaltstack, rsp, 0
    mov [in_change], rax
    add rsp, 24
    ret

print_where:
    mov rax, [in_rsp]
    sub rax, [alt_base]
    cmp rax, 16 * PAGE
    setb al
    movzx eax, al
    shownum "  the handler ran on the alternate stack", rax
    mov rax, [in_rsp]
    add rax, 8
    and rax, 15
    shownum "  (rsp + 8) % 16 at its entry", rax
    shownum "  ss_flags in it", qword [in_flags]
    mov rax, [in_change]
    show "  sigaltstack(change) in it"
    ret

; resethand: the first SIGUSR1 runs the handler and resets the action; the second kills.
do_resethand:
    mov edi, SIGUSR1
    lea rsi, [usr1_say]
    mov edx, SA_RESETHAND
    call set_action
    show "rt_sigaction(SIGUSR1, handler, SA_RESETHAND)"
    sys SYS_getpid
    mov [mypid], rax
    sys SYS_kill, [mypid], SIGUSR1
    show "kill(self, SIGUSR1)"
    mov edi, SIGUSR1
    call handler_of
    show "  handler now [0: SIG_DFL]"
    sys SYS_kill, [mypid], SIGUSR1
    say "survived", 10
    ret

; ignore: an ignored signal does nothing, SIGTERM's default kills, SIGCHLD's default ignores.
do_ignore:
    mov edi, SIGUSR1
    mov esi, SIG_IGN
    xor edx, edx
    call set_action
    show "rt_sigaction(SIGUSR1, SIG_IGN)"
    sys SYS_getpid
    mov [mypid], rax
    sys SYS_kill, [mypid], SIGUSR1
    show "kill(self, SIGUSR1)"
    sys SYS_kill, [mypid], SIGCHLD
    show "kill(self, SIGCHLD)"
    sys SYS_kill, [mypid], 0
    show "kill(self, 0)"
    sys SYS_kill, [mypid], 65
    show "kill(self, 65)"
    sys SYS_kill, [mypid], SIGTERM
    say "survived", 10
    ret

; siginfo: what a handler learns of kill, tgkill and tkill: si_code SI_USER (0) or SI_TKILL (-6),
; si_pid the sender.
do_siginfo:
    mov edi, SIGUSR1
    lea rsi, [usr1_info]
    mov edx, SA_SIGINFO
    call set_action
    sys SYS_getpid
    mov [mypid], rax
    sys SYS_kill, [mypid], SIGUSR1
    show "kill(self, SIGUSR1)"
    call print_sender
    sys SYS_gettid
    sys SYS_tgkill, [mypid], rax, SIGUSR1
    show "tgkill(self, self, SIGUSR1)"
    call print_sender
    sys SYS_gettid
    sys SYS_tkill, rax, SIGUSR1
    show "tkill(self, SIGUSR1)"
    call print_sender
    sys SYS_tgkill, 0, [mypid], SIGUSR1
    show "tgkill(0, self, SIGUSR1)"
    ret

usr1_info:
    mov rdi, rsi
    lea rsi, [info]
    mov ecx, 128
.copy:
    mov al, [rdi]
    mov [rsi], al
    inc rdi
    inc rsi
    dec ecx
    jnz .copy
    ret

print_sender:
    mov eax, [info + SI_SIGNO]
    shownum "  si_signo", rax
    movsxd rax, dword [info + SI_CODE]
    shownum "  si_code", rax
    movsxd rax, dword [info + SI_PID]
    cmp rax, [mypid]
    sete al
    movzx eax, al
    shownum "  si_pid is the sender", rax
    ret
