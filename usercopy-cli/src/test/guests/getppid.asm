; getppid(2) argv[1] times (default 1): the cheapest syscall, for the round-trip benchmark.
; Counts errors only: 0 is a parent in another pid namespace, as a guest's may be.
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
    xor r12d, r12d                          ; errors
.loop:
    test rbx, rbx
    jz .done
    sys SYS_getppid
    test rax, rax
    jns .ok
    inc r12
.ok:
    dec rbx
    jmp .loop
.done:
    shownum "getppid errors", r12
    exit 0
