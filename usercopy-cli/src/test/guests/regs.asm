; Registers across what the kernel does behind the program's back: a page fault (first read
; and first write of fresh anonymous memory, the first write to the binary's .data, a new stack
; page) must leave every register, the flags and the vector registers as they were; a syscall
; leaves all but rax, rcx (the return address) and r11 (the flags). Prints each difference.
%include "guest.inc"

section .data
data_word: dq 5

section .bss
alignb 16
saved: resq 16
saved_flags: resq 1
saved_xmm: resq 2
fresh: resq 1
alignb 4096
bss_page: resb 4096

; set_regs: every general register but rsp to a value of its own, CF set, xmm0 to a pattern
%macro set_regs 0
    mov rax, 0x1010101010101010
    movq xmm0, rax
    pinsrq xmm0, rax, 1
    mov rax, 0xa0a0a0a0a0a0a0a0
    mov rbx, 0xb0b0b0b0b0b0b0b0
    mov rcx, 0xc0c0c0c0c0c0c0c0
    mov rdx, 0xd0d0d0d0d0d0d0d0
    mov rsi, 0x5151515151515151
    mov rdi, 0xd1d1d1d1d1d1d1d1
    mov rbp, 0xbbbbbbbbbbbbbbbb
    mov r8, 0x0808080808080808
    mov r9, 0x0909090909090909
    mov r10, 0x1010101010101010
    mov r11, 0x1111111111111111
    mov r12, 0x1212121212121212
    mov r13, 0x1313131313131313
    mov r14, 0x1414141414141414
    mov r15, 0x1515151515151515
    stc
%endmacro

; save_regs: everything set_regs set, as it is now
%macro save_regs 0
    mov [saved + 0 * 8], rax
    mov [saved + 1 * 8], rbx
    mov [saved + 2 * 8], rcx
    mov [saved + 3 * 8], rdx
    mov [saved + 4 * 8], rsi
    mov [saved + 5 * 8], rdi
    mov [saved + 6 * 8], rbp
    mov [saved + 7 * 8], r8
    mov [saved + 8 * 8], r9
    mov [saved + 9 * 8], r10
    mov [saved + 10 * 8], r11
    mov [saved + 11 * 8], r12
    mov [saved + 12 * 8], r13
    mov [saved + 13 * 8], r14
    mov [saved + 14 * 8], r15
    pushfq
    pop qword [saved_flags]
    movdqu [saved_xmm], xmm0
%endmacro

section .text
global _start
_start:
    keep_args
    say "read fault on fresh anonymous memory", 10
    sys SYS_write, 1, names, 0
    anon_map PAGE, PROT_READ | PROT_WRITE
    mov [fresh], rax
    mov r8, rax
    set_regs
    push rax
    mov rax, [fresh]
    movzx eax, byte [rax]                   ; the fault; then rax as it was
    pop rax
    save_regs
    call compare

    say "write fault on fresh anonymous memory", 10
    anon_map PAGE, PROT_READ | PROT_WRITE
    mov [fresh], rax
    set_regs
    push rax
    mov rax, [fresh]
    mov byte [rax], 1
    pop rax
    save_regs
    call compare

    ; .rodata: the kernel has read this page (the writes above came from it), the program not
    say "first read of a .rodata page the kernel already read", 10
    set_regs
    movq xmm1, [names]
    save_regs
    call compare

    say "write fault on the binary's .data", 10
    set_regs
    mov byte [data_word], 1
    save_regs
    call compare

    say "a new stack page, 64 KiB down", 10
    set_regs
    mov byte [rsp - 65536], 1
    save_regs
    call compare

    say "a new stack page by push, 128 KiB down", 10
    mov [fresh], rsp
    sub rsp, 131072 - 8
    set_regs
    push rax
    pop rax
    save_regs
    mov rsp, [fresh]
    call compare

    ; a store, then a load of the same byte, on pages the program touches first by that store
    say "store then load: the page below the stack's", 10
    mov rbx, rsp
    and rbx, -PAGE
    sub rbx, PAGE - 100
    mov byte [rbx], 0x5a
    movzx eax, byte [rbx]
    shownum "  loaded", rax
    say "store then load: 200 KiB down the stack", 10
    lea rbx, [rsp - 204800]
    mov byte [rbx], 0x5b
    movzx eax, byte [rbx]
    shownum "  loaded", rax
    say "store then load: fresh anonymous memory", 10
    anon_map PAGE, PROT_READ | PROT_WRITE
    mov rbx, rax
    mov byte [rbx + 7], 0x5c
    movzx eax, byte [rbx + 7]
    shownum "  loaded", rax
    say "store then load: .bss", 10
    mov byte [bss_page + 9], 0x5d
    movzx eax, byte [bss_page + 9]
    shownum "  loaded", rax

    say "getppid", 10
    set_regs
    mov eax, SYS_getppid
    syscall
after_syscall:
    save_regs
    mov rax, 0xa0a0a0a0a0a0a0a0
    mov [saved + 0 * 8], rax                ; rax is the result
    lea rax, [after_syscall]
    xor ecx, ecx
    cmp [saved + 2 * 8], rax
    sete cl
    shownum "  rcx is the return address", rcx
    mov rax, [saved + 10 * 8]
    and rax, 0xcd5                          ; the status flags syscall saved in r11
    shownum "  r11's status flags", rax
    mov rax, 0xc0c0c0c0c0c0c0c0
    mov [saved + 2 * 8], rax
    mov rax, 0x1111111111111111
    mov [saved + 10 * 8], rax
    call compare
    exit 0

; compare: prints each saved register that differs from what set_regs put there
compare:
    xor ebx, ebx
    lea r12, [expected]
.loop:
    mov rax, [saved + rbx * 8]
    cmp rax, [r12 + rbx * 8]
    je .next
    say "  changed: "
    lea rsi, [names + rbx * 4]
    mov edx, 3
    call put
    say " = "
    mov rdi, [saved + rbx * 8]
    call print_hex
    call newline
.next:
    inc ebx
    cmp ebx, 15
    jb .loop
    test qword [saved_flags], 1
    jnz .cf
    say "  changed: CF", 10
.cf:
    mov rax, 0x1010101010101010
    cmp [saved_xmm], rax
    jne .xmm
    cmp [saved_xmm + 8], rax
    je .done
.xmm:
    say "  changed: xmm0", 10
.done:
    ret

section .rodata
align 8
expected:
    dq 0xa0a0a0a0a0a0a0a0, 0xb0b0b0b0b0b0b0b0, 0xc0c0c0c0c0c0c0c0, 0xd0d0d0d0d0d0d0d0
    dq 0x5151515151515151, 0xd1d1d1d1d1d1d1d1, 0xbbbbbbbbbbbbbbbb, 0x0808080808080808
    dq 0x0909090909090909, 0x1010101010101010, 0x1111111111111111, 0x1212121212121212
    dq 0x1313131313131313, 0x1414141414141414, 0x1515151515151515
names: db 'rax rbx rcx rdx rsi rdi rbp r8  r9  r10 r11 r12 r13 r14 r15 '
