; What a program finds after execve: its argv (long strings by their length), envp, which of
; fds 0-7 are open (F_GETFD), SIGUSR1's and SIGUSR2's actions, the blocked set and
; /proc/self/exe. Exits with 10 + argc.
%include "proc.inc"

section .bss
exe: resb 4096

section .text
global _start
_start:
    keep_args
    mov rax, [initial_sp]
    mov rbx, [rax]
    shownum "argc", rbx
    xor r12d, r12d
.argv:
    cmp r12, rbx
    jae .env
    mov rdi, r12
    call argv_at
    mov r13, rax
    say "argv["
    mov rdi, r12
    call print_dec
    say "] "
    mov rdi, r13
    call strlen
    cmp rax, 100
    ja .long
    say "= "
    mov rdi, r13
    call put_cstr
    call newline
    jmp .next
.long:
    shownum "strlen", rax
.next:
    inc r12
    jmp .argv
.env:
    mov rax, [initial_sp]
    lea r13, [rax + 16 + rbx * 8]
    xor r12d, r12d
.envloop:
    mov rdi, [r13 + r12 * 8]
    test rdi, rdi
    jz .fds
    say "env: "
    mov rdi, [r13 + r12 * 8]
    call put_cstr
    call newline
    inc r12
    jmp .envloop
.fds:
    xor r12d, r12d
.fd:
    sys SYS_fcntl, r12, F_GETFD
    push rax
    say "F_GETFD(fd "
    mov rdi, r12
    call print_dec
    say ") = "
    pop rdi
    call print_result
    call newline
    inc r12
    cmp r12, 8
    jb .fd
    mov edi, SIGUSR1
    call handler_of
    cmp rax, 1
    jbe .usr1
    mov eax, 2
.usr1:
    show "SIGUSR1's action [0 default, 1 ignored, 2 a handler]"
    mov edi, SIGUSR2
    call handler_of
    show "SIGUSR2's action"
    call current_mask
    showhex "blocked", rax
    sys SYS_readlink, proc_self_exe, exe, 4096
    mov r14, rax
    show "readlink(/proc/self/exe)"
    test r14, r14
    jle .out
    mov rdx, r14
    lea rsi, [exe]
    call put
    call newline
.out:
    lea rdi, [rbx + 10]
    mov eax, SYS_exit_group
    syscall

strlen:
    xor eax, eax
.loop:
    cmp byte [rdi + rax], 0
    je .done
    inc rax
    jmp .loop
.done:
    ret

section .rodata
proc_self_exe: db "/proc/self/exe", 0
