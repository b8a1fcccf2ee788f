; write(2) and writev(2) from buffers the kernel cannot fully read: NULL, crossing into an
; unmapped page, PROT_NONE, execute-only, kernel and stub addresses; and from pages it can
; (never-touched anonymous memory reads as zeros, the binary's own text). What reaches fd 1 is
; part of the output, so a pipe and a file on fd 1 are both checked.
%include "guest.inc"

section .data
abc: db 'abc'
def: db 'def', 10
align 16
iov: dq abc, 3, 0, 5, def, 4

section .text
global _start
_start:
    keep_args
    anon_map PAGE, PROT_NONE
    mov [none], rax
    anon_map PAGE, PROT_EXEC
    mov [xonly], rax
    anon_map PAGE, PROT_READ | PROT_WRITE
    mov [fresh], rax
    anon_map 2 * PAGE, PROT_READ | PROT_WRITE
    mov [a], rax
    mov rdi, rax
    add rdi, PAGE - 64
    mov ecx, 64
    mov al, 'a'
    rep stosb
    mov rdi, [a]
    mov byte [rdi + PAGE - 1], 10
    add rdi, PAGE
    sys SYS_munmap, rdi, PAGE
    show "munmap(a + 4096)"

    sys SYS_write, 1, 0, 10
    show "write(NULL, 10)"
    sys SYS_write, 1, 0, 0
    show "write(NULL, 0)"
    mov rbx, [a]
    add rbx, PAGE - 64
    sys SYS_write, 1, rbx, 200
    shownl "write(a + 4096 - 64, 200) [then unmapped]"
    sys SYS_write, 1, [none], 10
    show "write(PROT_NONE page, 10)"
    sys SYS_write, 1, [xonly], 10
    shownl "write(PROT_EXEC page, 10)"
    sys SYS_write, 1, [fresh], 10
    shownl "write(never-touched page, 10)"
    mov rbx, KERNEL_ADDR
    sys SYS_write, 1, rbx, 10
    show "write(kernel address, 10)"
    mov rbx, STUB_ADDR
    sys SYS_write, 1, rbx, 10
    show "write(0x7f0000000000, 10)"
    lea rbx, [_start]
    sys SYS_write, 1, rbx, 16
    shownl "write(own text, 16)"
    mov rbx, -1
    sys SYS_write, 1, abc, rbx
    show "write(abc, SIZE_MAX)"
    sys SYS_writev, 1, iov, 3
    show "writev({abc, 3}, {NULL, 5}, {def, 4})"
    sys SYS_writev, 1, 0, 1
    show "writev(iov NULL)"
    sys SYS_writev, 1, iov, 1025
    show "writev(iovcnt 1025)"
    sys SYS_write, 99, abc, 3
    show "write(fd 99)"
    sys SYS_write, -1, abc, 3
    show "write(fd -1)"
    sys SYS_pwrite64, 1, abc, 3, -1
    show "pwrite64(stdout, offset -1)"
    sys SYS_write, 2, def, 4
    show "write(stderr, def)"
    exit 0

section .bss
none: resq 1
xonly: resq 1
fresh: resq 1
a: resq 1
