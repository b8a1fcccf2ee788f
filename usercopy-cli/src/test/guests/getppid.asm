; getppid(2) argv[1] times (default 1): the cheapest syscall, for the round-trip benchmark.
%include "guest.inc"

section .text
global _start
_start:
    keep_args
    mov ebx, 1
    mov edi, 1
    call argv_at
    test rax, rax
    jz .loop
    mov rdi, rax
    call parse_dec
    mov rbx, rax
    xor r12d, r12d                          ; results that were not a pid
.loop:
    test rbx, rbx
    jz .done
    sys SYS_getppid
    test rax, rax
    jg .ok
    inc r12
.ok:
    dec rbx
    jmp .loop
.done:
    shownum "getppid failures", r12
    exit 0
