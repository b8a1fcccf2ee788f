; Processes, one case a run, chosen by argv[1]: fork and copy-on-write, vfork and clone, a
; hundred children, wait4 and waitid, SIGCHLD, ids (getpid/getppid, process groups, sessions),
; an orphan reparented, kill(0, sig) to the process group. Pids are never printed (native and
; guest pids differ), only compared.
%include "proc.inc"

section .data
modes:
    mode "cow", do_cow
    mode "vfork", do_vfork
    mode "clone", do_clone
    mode "many", do_many
    mode "wnohang", do_wnohang
    mode "waitid", do_waitid
    mode "sigchld", do_sigchld
    mode "ids", do_ids
    mode "first", do_first
    mode "orphan", do_orphan
    mode "killpg", do_killpg
    dq 0, 0

section .data align=4096
dpage: times PAGE db 'I'

section .bss align=4096
bpage: resb PAGE
fresh: resb PAGE
fds: resd 2
mypid: resq 1
child: resq 1
child2: resq 1
token: resq 1
counter: resq 1
info: resb 128

section .text
global _start
_start:
    keep_args
    lea rdi, [modes]
    call run_mode

; cow: pages present before the fork (.data from the file, .bss, 64 anonymous pages) and one
; touched by neither before it; the parent writes first, then the child reads and writes, and
; each must see only its own writes.
do_cow:
    mov byte [bpage], 'I'
    movzx eax, byte [dpage]
    anon_map 64 * PAGE, PROT_READ | PROT_WRITE
    mov r15, rax
    mov rdi, r15
    mov esi, 'A'
    call fill64
    sys SYS_pipe, fds
    show "pipe"
    sys SYS_fork
    test rax, rax
    js .failed
    jz .child
    mov [child], rax
    ; parent: writes first, then lets the child go
    mov byte [dpage], 'P'
    mov byte [bpage], 'P'
    mov byte [fresh], 'P'
    mov rdi, r15
    mov esi, 'P'
    call fill64
    say "parent wrote P everywhere", 10
    mov edi, [fds + 4]
    sys SYS_write, rdi, token, 1
    mov rdi, [child]
    call wait_status
    cmp rax, [child]
    sete al
    movzx eax, al
    shownum "parent: wait4 gave the child", rax
    call show_status
    movzx eax, byte [dpage]
    shownum "parent: .data byte", rax
    movzx eax, byte [bpage]
    shownum "parent: .bss byte", rax
    movzx eax, byte [fresh]
    shownum "parent: page untouched before the fork", rax
    mov rdi, r15
    call sum64
    shownum "parent: 64 anonymous pages sum", rax
    ret
.child:
    mov edi, [fds]
    sys SYS_read, rdi, token, 1
    movzx eax, byte [dpage]
    shownum "child: .data byte", rax
    movzx eax, byte [bpage]
    shownum "child: .bss byte", rax
    movzx eax, byte [fresh]
    shownum "child: page untouched before the fork", rax
    mov rdi, r15
    call sum64
    shownum "child: 64 anonymous pages sum", rax
    mov byte [dpage], 'C'
    mov byte [bpage], 'C'
    mov byte [fresh], 'C'
    mov rdi, r15
    mov esi, 'C'
    call fill64
    movzx eax, byte [dpage]
    shownum "child: .data byte after its write", rax
    mov rdi, r15
    call sum64
    shownum "child: 64 anonymous pages sum after its write", rax
    exit 3
.failed:
    show "fork"
    exit 1

; fill64(rdi=base, esi=byte): one byte at 100 in each of 64 pages.
fill64:
    mov ecx, 64
.loop:
    mov [rdi + 100], sil
    add rdi, PAGE
    dec ecx
    jnz .loop
    ret

; sum64(rdi=base) -> rax: the sum of those bytes.
sum64:
    xor eax, eax
    mov ecx, 64
.loop:
    movzx edx, byte [rdi + 100]
    add rax, rdx
    add rdi, PAGE
    dec ecx
    jnz .loop
    ret

; vfork: the child shares the parent's memory and the parent waits until it exits; then a vfork
; child that execs (argv[2], when given) lets the parent go on at its execve.
do_vfork:
    mov qword [token], 0
    sys SYS_getpid
    mov [mypid], rax
    sys SYS_vfork
    test rax, rax
    js .failed
    jnz .parent
    ; child, on the parent's memory and stack: it never returns from here
    mov edi, 50
    call sleep_ms
    mov qword [token], 'V'
    sys SYS_getppid
    cmp rax, [mypid]
    sete al
    movzx eax, al
    mov [counter], rax
    sys SYS_exit, 7
.parent:
    mov [child], rax
    mov rax, [token]
    shownum "parent after vfork: the child's write is seen", rax
    shownum "  the child's getppid was the parent", qword [counter]
    mov rdi, [child]
    call wait_status
    cmp rax, [child]
    sete al
    movzx eax, al
    shownum "wait4 gave the vfork child", rax
    call show_status
    mov edi, 2
    call argv_at
    test rax, rax
    jz .done
    mov r12, rax
    sys SYS_vfork
    test rax, rax
    jnz .parent2
    lea rax, [vfork_argv]
    mov [rax], r12
    sys SYS_execve, r12, vfork_argv, 0
    sys SYS_exit, 127
.parent2:
    mov [child], rax
    mov rdi, rax
    call wait_status
    say "parent: the exec'd vfork child", 10
    call show_status
.done:
    ret
.failed:
    show "vfork"
    exit 1

section .data
vfork_argv: dq 0, vfork_arg1, 0
vfork_arg1: db "from a vfork child", 0

section .text
; clone: clone(SIGCHLD) is fork; clone(CLONE_VM | CLONE_VFORK | SIGCHLD) with a stack of its own
; is posix_spawn's vfork.
do_clone:
    mov qword [token], 1
    sys SYS_clone, SIGCHLD, 0, 0, 0, 0
    test rax, rax
    js .failed
    jnz .parent
    mov qword [token], 2
    sys SYS_exit, 4
.parent:
    mov rdi, rax
    call wait_status
    call show_status
    shownum "  the parent's token after the fork-like child's write", qword [token]
    anon_map 16 * PAGE, PROT_READ | PROT_WRITE
    lea rsi, [rax + 16 * PAGE]
    sys SYS_clone, CLONE_VM | CLONE_VFORK | SIGCHLD, rsi, 0, 0, 0
    test rax, rax
    js .failed
    jnz .parent2
    ; on its own stack, sharing the memory
    mov qword [token], 3
    sys SYS_exit, 5
.parent2:
    mov rdi, rax
    call wait_status
    call show_status
    shownum "  the parent's token after the vfork-like child's write", qword [token]
    ret
.failed:
    show "clone"
    exit 1

; many: a hundred children, child i exits with i; the parent reaps them all with wait4(-1).
do_many:
    mov ebx, 1
.fork:
    sys SYS_fork
    test rax, rax
    js .failed
    jz .child
    inc ebx
    cmp ebx, 100
    jbe .fork
    xor r12d, r12d                          ; children reaped
    xor r13d, r13d                          ; sum of their exit codes
.reap:
    sys SYS_wait4, -1, wstatus, 0, 0
    test rax, rax
    jle .reaped
    inc r12
    mov eax, [wstatus]
    shr eax, 8
    and eax, 0xff
    add r13, rax
    jmp .reap
.reaped:
    show "wait4 after the last child"
    shownum "children reaped", r12
    shownum "sum of their exit codes", r13
    ret
.child:
    mov edi, ebx
    mov eax, SYS_exit_group
    syscall
.failed:
    show "fork"
    shownum "  children so far", rbx
    exit 1

; wnohang: wait4(WNOHANG) is 0 while the child runs, then the child's pid with its status;
; a child killed by SIGKILL; no children left is ECHILD.
do_wnohang:
    sys SYS_pipe, fds
    sys SYS_fork
    test rax, rax
    jz .child
    mov [child], rax
    mov dword [wstatus], 0x5555
    sys SYS_wait4, [child], wstatus, WNOHANG, 0
    show "wait4(child, WNOHANG) while it runs"
    mov eax, [wstatus]
    showhex "  status token untouched", rax
    mov edi, [fds + 4]
    sys SYS_write, rdi, token, 1
    sys SYS_wait4, [child], wstatus, 0, 0
    cmp rax, [child]
    sete al
    movzx eax, al
    shownum "wait4(child, 0) gave the child", rax
    mov eax, [wstatus]
    showhex "  raw status", rax
    sys SYS_wait4, [child], wstatus, WNOHANG, 0
    show "wait4(reaped child, WNOHANG)"
    ; a child that never ends, killed
    sys SYS_fork
    test rax, rax
    jz .forever
    mov [child], rax
    sys SYS_kill, [child], SIGKILL
    show "kill(child, SIGKILL)"
    sys SYS_wait4, -1, wstatus, 0, 0
    cmp rax, [child]
    sete al
    movzx eax, al
    shownum "wait4(-1) gave the killed child", rax
    mov eax, [wstatus]
    showhex "  raw status", rax
    sys SYS_kill, [child], 0
    show "kill(reaped child, 0)"
    sys SYS_wait4, -1, wstatus, WNOHANG, 0
    show "wait4(-1, WNOHANG) without children"
    sys SYS_wait4, -1, wstatus, WNOWAIT, 0
    show "wait4(-1, WNOWAIT) [not a wait4 option]"
    ret
.child:
    mov edi, [fds]
    sys SYS_read, rdi, token, 1
    exit 3
.forever:
    sys SYS_getpid
    jmp .forever

; waitid: P_PID with WEXITED fills the siginfo; WNOWAIT leaves the child waitable; WNOHANG with
; nothing to report zeroes si_signo and si_pid; a killed child is CLD_KILLED.
do_waitid:
    sys SYS_pipe, fds
    sys SYS_fork
    test rax, rax
    jz .child
    mov [child], rax
    call fill_info
    sys SYS_waitid, P_ALL, 0, info, WEXITED | WNOHANG, 0
    show "waitid(P_ALL, WEXITED | WNOHANG) while the child runs"
    call print_info
    mov edi, [fds + 4]
    sys SYS_write, rdi, token, 1
    call fill_info
    sys SYS_waitid, P_PID, [child], info, WEXITED | WNOWAIT, 0
    show "waitid(P_PID, WEXITED | WNOWAIT)"
    call print_info
    call fill_info
    sys SYS_waitid, P_PID, [child], info, WEXITED, 0
    show "waitid(P_PID, WEXITED) again"
    call print_info
    sys SYS_waitid, P_PID, [child], info, WEXITED, 0
    show "waitid(reaped child)"
    sys SYS_waitid, P_ALL, 0, info, 0, 0
    show "waitid(options 0)"
    sys SYS_fork
    test rax, rax
    jz .forever
    mov [child], rax
    sys SYS_kill, [child], SIGTERM
    call fill_info
    sys SYS_waitid, P_ALL, 0, info, WEXITED, 0
    show "waitid(P_ALL) of a child killed by SIGTERM"
    call print_info
    ret
.child:
    mov edi, [fds]
    sys SYS_read, rdi, token, 1
    exit 5
.forever:
    sys SYS_getpid
    jmp .forever

fill_info:
    lea rdi, [info]
    mov ecx, 128
    mov al, 0xff
    rep stosb
    ret

print_info:
    mov eax, [info + SI_SIGNO]
    shownum "  si_signo", rax
    mov eax, [info + SI_CODE]
    shownum "  si_code", rax
    movsxd rax, dword [info + SI_PID]
    test rax, rax
    jz .zero
    cmp rax, [child]
    sete al
    movzx eax, al
    shownum "  si_pid is the child", rax
    jmp .status
.zero:
    shownum "  si_pid", rax
.status:
    mov eax, [info + SI_STATUS]
    shownum "  si_status", rax
    ret

; sigchld: a SIGCHLD handler (SA_SIGINFO) sees the child's exit; with SIGCHLD blocked until
; rt_sigsuspend, it runs exactly there.
do_sigchld:
    mov edi, SIGCHLD
    lea rsi, [on_sigchld]
    mov edx, SA_SIGINFO
    call set_action
    show "rt_sigaction(SIGCHLD, handler)"
    mov edi, SIG_BLOCK
    mov esi, bit(SIGCHLD)
    call mask_op
    sys SYS_fork
    test rax, rax
    jz .child
    mov [child], rax
    xor edi, edi
    call suspend
    show "rt_sigsuspend(empty)"
    shownum "  handler calls", qword [counter]
    call print_info
    call current_mask
    showhex "  mask after rt_sigsuspend", rax
    mov rdi, [child]
    call wait_status
    call show_status
    ret
.child:
    exit 6

on_sigchld:
    inc qword [counter]
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

; ids: the child's getppid is the parent's getpid, its getpid fork's result; process groups and
; sessions below the first process: a child's setpgid(0, 0), a parent's setpgid of its child, a
; grandchild's setsid, and what each may no longer do.
do_ids:
    sys SYS_getpid
    mov [mypid], rax
    sys SYS_gettid
    cmp rax, [mypid]
    sete al
    movzx eax, al
    shownum "gettid == getpid", rax
    sys SYS_pipe, fds
    sys SYS_fork
    test rax, rax
    jz .child
    mov [child], rax
    mov rdi, [child]
    call wait_status
    say "the child", 10
    call show_status
    mov edi, [fds]
    sys SYS_read, rdi, token, 8
    mov rax, [token]
    cmp rax, [child]
    sete al
    movzx eax, al
    shownum "fork's result is the child's getpid", rax
    sys SYS_getpgid, [child]
    show "getpgid(reaped child)"
    ret
.child:
    sys SYS_getpid
    mov [token], rax
    mov edi, [fds + 4]
    sys SYS_write, rdi, token, 8
    mov rax, [token]
    mov [child], rax                        ; the child's own pid, for its children
    sys SYS_getppid
    cmp rax, [mypid]
    sete al
    movzx eax, al
    shownum "child: getppid == the parent's getpid", rax
    mov rax, [child]
    cmp rax, [mypid]
    setne al
    movzx eax, al
    shownum "child: getpid != the parent's", rax
    sys SYS_getpgid, [mypid]
    mov rbx, rax
    sys SYS_getpgid, 0
    cmp rax, rbx
    sete al
    movzx eax, al
    shownum "child: getpgid(0) == getpgid(parent)", rax
    sys SYS_getsid, [mypid]
    mov rbx, rax
    sys SYS_getsid, 0
    cmp rax, rbx
    sete al
    movzx eax, al
    shownum "child: getsid(0) == getsid(parent)", rax
    sys SYS_setpgid, 0, 0
    show "child: setpgid(0, 0)"
    sys SYS_getpgid, 0
    cmp rax, [child]
    sete al
    movzx eax, al
    shownum "child: getpgid(0) == getpid", rax
    sys SYS_getpgrp
    cmp rax, [child]
    sete al
    movzx eax, al
    shownum "child: getpgrp == getpid", rax
    sys SYS_setsid
    show "child: setsid() as a group leader"
    ; a grandchild put in a group of its own by its parent, before it runs on
    sys SYS_pipe, fds
    sys SYS_fork
    test rax, rax
    jz .grandchild
    mov [child2], rax
    sys SYS_setpgid, [child2], 0
    show "child: setpgid(grandchild, 0)"
    sys SYS_getpgid, [child2]
    cmp rax, [child2]
    sete al
    movzx eax, al
    shownum "child: getpgid(grandchild) == its pid", rax
    mov edi, [fds + 4]
    sys SYS_write, rdi, token, 1
    mov rdi, [child2]
    call wait_status
    call show_status
    ; a grandchild that makes a session of its own
    sys SYS_fork
    test rax, rax
    jz .leader
    mov [child2], rax
    mov rdi, rax
    call wait_status
    call show_status
    sys SYS_setpgid, [child2], 0
    show "child: setpgid(reaped grandchild, 0)"
    sys SYS_setpgid, 0, -1
    show "child: setpgid(0, -1)"
    exit 0
.grandchild:
    mov edi, [fds]
    sys SYS_read, rdi, token, 1
    sys SYS_getpid
    mov rbx, rax
    sys SYS_getpgid, 0
    cmp rax, rbx
    sete al
    movzx eax, al
    shownum "grandchild: getpgid(0) == getpid", rax
    sys SYS_setsid
    show "grandchild: setsid() as a group leader"
    exit 0
.leader:
    sys SYS_getpid
    mov rbx, rax
    sys SYS_getpgid, 0
    cmp rax, [child]
    sete al
    movzx eax, al
    shownum "second grandchild: getpgid(0) is its parent's group", rax
    sys SYS_setsid
    cmp rax, rbx
    sete al
    movzx eax, al
    shownum "second grandchild: setsid() == getpid", rax
    sys SYS_getsid, 0
    cmp rax, rbx
    sete al
    movzx eax, al
    shownum "second grandchild: getsid(0) == getpid", rax
    sys SYS_getpgid, 0
    cmp rax, rbx
    sete al
    movzx eax, al
    shownum "second grandchild: getpgid(0) == getpid", rax
    sys SYS_setpgid, 0, [child]
    show "second grandchild: setpgid(0, its parent's group in another session)"
    sys SYS_setsid
    show "second grandchild: setsid() again"
    exit 0

; first: the first process, a child of a process in another session (natively the test runner,
; for a guest the tree's init): it may make a session of its own, and is then a group leader.
do_first:
    sys SYS_getpid
    mov rbx, rax
    sys SYS_setsid
    cmp rax, rbx
    sete al
    movzx eax, al
    shownum "setsid() == getpid", rax
    sys SYS_getsid, 0
    cmp rax, rbx
    sete al
    movzx eax, al
    shownum "getsid(0) == getpid", rax
    sys SYS_getpgid, 0
    cmp rax, rbx
    sete al
    movzx eax, al
    shownum "getpgid(0) == getpid", rax
    sys SYS_setpgid, 0, 0
    show "setpgid(0, 0) as a session leader"
    sys SYS_setsid
    show "setsid() again"
    ret

; orphan: a grandchild whose parent exits is reparented to the guest's init (here: the first
; process, made a subreaper natively so that Linux does the same) and reaped by it.
do_orphan:
    sys SYS_getpid
    mov [mypid], rax
    sys SYS_prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0
    sys SYS_fork
    test rax, rax
    jz .middle
    mov [child], rax
    mov rdi, rax
    call wait_status
    say "the middle process", 10
    call show_status
    sys SYS_wait4, -1, wstatus, 0, 0
    cmp rax, [child]
    setne al
    movzx eax, al
    shownum "wait4(-1) gave another process (the orphan)", rax
    say "the orphan (42: its getppid became the first process)", 10
    call show_status
    sys SYS_wait4, -1, wstatus, 0, 0
    show "wait4(-1) then"
    ret
.middle:
    sys SYS_getpid
    mov [child], rax
    sys SYS_fork
    test rax, rax
    jz .grandchild
    exit 0
.grandchild:
    mov ebx, 500
.poll:
    sys SYS_getppid
    cmp rax, [child]
    jne .moved
    mov edi, 10
    call sleep_ms
    dec ebx
    jnz .poll
    exit 41
.moved:
    cmp rax, [mypid]
    jne .elsewhere
    exit 42
.elsewhere:
    exit 43

; killpg: kill(0, SIGUSR1) reaches every process of the group: a child makes a group of its own
; (natively the first process shares the test runner's), forks two children waiting in
; rt_sigsuspend, and signals its group, itself included (SIGUSR1 blocked until it unblocks it);
; then kill(-pgrp, SIGUSR2) kills it.
do_killpg:
    sys SYS_fork
    test rax, rax
    jz .leader
    mov rdi, rax
    call wait_status
    say "the group leader (140: SIGUSR2)", 10
    call show_status
    ret
.leader:
    sys SYS_setpgid, 0, 0
    mov rbx, rax
    show "setpgid(0, 0)"
    test rbx, rbx
    jnz .refuse                             ; else kill(0) would reach the test runner's group
    mov edi, SIGUSR1
    lea rsi, [on_usr1]
    xor edx, edx
    call set_action
    mov edi, SIG_BLOCK
    mov esi, bit(SIGUSR1)
    call mask_op
    sys SYS_fork
    test rax, rax
    jz .child
    mov [child], rax
    sys SYS_fork
    test rax, rax
    jz .child
    mov [child2], rax
    sys SYS_kill, [child], 0
    show "kill(child, 0)"
    sys SYS_kill, 0, SIGUSR1
    show "kill(0, SIGUSR1)"
    shownum "  handler calls before unblocking", qword [counter]
    mov edi, SIG_UNBLOCK
    mov esi, bit(SIGUSR1)
    call mask_op
    shownum "  handler calls after unblocking", qword [counter]
    mov rdi, [child]
    call wait_status
    say "first child (20 + its handler calls)", 10
    call show_status
    mov rdi, [child2]
    call wait_status
    say "second child", 10
    call show_status
    sys SYS_getpgrp
    neg rax
    sys SYS_kill, rax, SIGUSR2
    say "kill(-getpgrp(), SIGUSR2) kills the sender too, so this is not printed", 10
    exit 0
.child:
    xor edi, edi
    call suspend
    mov rdi, [counter]
    add rdi, 20
    mov eax, SYS_exit_group
    syscall
.refuse:
    exit 3

on_usr1:
    inc qword [counter]
    ret
