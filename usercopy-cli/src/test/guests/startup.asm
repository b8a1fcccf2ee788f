; The process as execve leaves it: registers, flags, segment and FPU state at the entry point,
; then argc, argv, envp and the auxiliary vector on the initial stack (System V x86-64 ABI 3.4.1
; and Linux's create_elf_tables). Prints only what does not depend on ASLR.
%include "guest.inc"

%define AT_NULL 0
%define AT_PHDR 3
%define AT_RANDOM 25
%define AT_PLATFORM 15
%define AT_EXECFN 31

section .bss
alignb 8
entry_regs: resq 16
scratch: resq 3

section .text
global _start
_start:
    ; Every general register as the kernel left it, before anything changes one.
    mov [entry_regs + 0 * 8], rax
    mov [entry_regs + 1 * 8], rbx
    mov [entry_regs + 2 * 8], rcx
    mov [entry_regs + 3 * 8], rdx
    mov [entry_regs + 4 * 8], rsi
    mov [entry_regs + 5 * 8], rdi
    mov [entry_regs + 6 * 8], rbp
    mov [entry_regs + 7 * 8], r8
    mov [entry_regs + 8 * 8], r9
    mov [entry_regs + 9 * 8], r10
    mov [entry_regs + 10 * 8], r11
    mov [entry_regs + 11 * 8], r12
    mov [entry_regs + 12 * 8], r13
    mov [entry_regs + 13 * 8], r14
    mov [entry_regs + 14 * 8], r15
    mov [entry_regs + 15 * 8], rsp
    keep_args
    pushfq
    pop r12

    xor ebx, ebx
.regs:
    lea rax, [reg_names + rbx * 4]
    mov rsi, rax
    mov edx, 3
    call put
    say " = "
    mov rdi, [entry_regs + rbx * 8]
    call print_hex
    call newline
    inc ebx
    cmp ebx, 15
    jb .regs

    mov rax, [entry_regs + 15 * 8]
    and rax, 15
    shownum "rsp % 16", rax
    say "rflags = "
    mov rdi, r12
    call print_hex
    call newline

    mov ax, cs
    movzx eax, ax
    shownum "cs", rax
    mov ax, ss
    movzx eax, ax
    shownum "ss", rax
    mov ax, ds
    movzx eax, ax
    shownum "ds", rax
    mov ax, es
    movzx eax, ax
    shownum "es", rax
    mov ax, fs
    movzx eax, ax
    shownum "fs", rax
    mov ax, gs
    movzx eax, ax
    shownum "gs", rax

    sub rsp, 16
    stmxcsr [rsp]
    mov eax, [rsp]
    shownum "mxcsr", rax
    fnstcw [rsp]
    movzx eax, word [rsp]
    shownum "fpu control word", rax
    add rsp, 16

    mov qword [scratch], -1
    sys SYS_arch_prctl, 0x1003, scratch     ; ARCH_GET_FS
    show "arch_prctl(ARCH_GET_FS)"
    shownum "fs base", qword [scratch]
    ; Linux's put_user has no alignment rule on x86-64
    mov qword [scratch + 9], -1
    sys SYS_arch_prctl, 0x1003, scratch + 9
    show "arch_prctl(ARCH_GET_FS, unaligned)"
    shownum "fs base", qword [scratch + 9]

    ; the limits the program inherits (the user's, not the JVM's raised ones)
    sys SYS_prlimit64, 0, 7, 0, scratch     ; RLIMIT_NOFILE
    show "prlimit64(RLIMIT_NOFILE)"
    shownum "  soft", qword [scratch]
    shownum "  hard", qword [scratch + 8]
    sys SYS_getrlimit, 3, scratch           ; RLIMIT_STACK
    show "getrlimit(RLIMIT_STACK)"
    shownum "  soft", qword [scratch]

    ; argc and argv
    mov rbx, [initial_sp]
    mov r12, [rbx]
    shownum "argc", r12
    xor r13d, r13d
.argv:
    cmp r13, r12
    jae .argv_done
    say "argv["
    mov rdi, r13
    call print_dec
    say "] = "
    mov rdi, [rbx + 8 + r13 * 8]
    call put_cstr
    call newline
    inc r13
    jmp .argv
.argv_done:
    lea r14, [rbx + 8 + r12 * 8]
    shownum "argv[argc]", qword [r14]

    ; envp, in order
    add r14, 8
    xor r13d, r13d
.envp:
    mov rdi, [r14]
    add r14, 8
    test rdi, rdi
    jz .envp_done
    push rdi
    say "env: "
    pop rdi
    call put_cstr
    call newline
    inc r13
    jmp .envp
.envp_done:
    shownum "envc", r13

    ; auxv: r14 is its first entry. The values that a static program reads, in a fixed order.
    mov r15, r14
    xor ebx, ebx
.aux:
    movzx edi, byte [aux_tags + rbx]
    test edi, edi
    jz .aux_done
    call aux_find
    mov r12, rax                ; entry or 0
    say "AT "
    movzx edi, byte [aux_tags + rbx]
    call print_dec
    test r12, r12
    jnz .present
    say " missing", 10
    jmp .next
.present:
    movzx eax, byte [aux_tags + rbx]
    cmp eax, AT_RANDOM
    je .random
    cmp eax, AT_PLATFORM
    je .string
    cmp eax, AT_EXECFN
    je .string
    say " = "
    mov rdi, [r12 + 8]
    call print_hex
    call newline
    jmp .next
.string:
    say " = "
    mov rdi, [r12 + 8]
    call put_cstr
    call newline
    jmp .next
.random:
    ; 16 bytes that must be readable and (with overwhelming probability) not all zero
    mov rdi, [r12 + 8]
    mov rax, [rdi]
    or rax, [rdi + 8]
    setnz al
    movzx eax, al
    shownum " nonzero", rax
.next:
    inc ebx
    jmp .aux
.aux_done:
    ; AT_PHDR must point at this binary's program headers, which the loader mapped.
    mov edi, AT_PHDR
    call aux_find
    test rax, rax
    jz .no_phdr
    mov rdi, [rax + 8]
    mov eax, [rdi]              ; p_type of the first header
    shownum "phdr[0].p_type", rax
.no_phdr:
    exit 0

; aux_find(rdi=tag) -> rax: the address of its auxv entry (r15 = auxv), or 0.
aux_find:
    mov rax, r15
.loop:
    mov rcx, [rax]
    cmp rcx, rdi
    je .found
    test rcx, rcx
    jz .none
    add rax, 16
    jmp .loop
.none:
    xor eax, eax
.found:
    ret

section .rodata
reg_names: db 'rax rbx rcx rdx rsi rdi rbp r8  r9  r10 r11 r12 r13 r14 r15 '
; PHDR PHENT PHNUM PAGESZ BASE FLAGS ENTRY UID EUID GID EGID PLATFORM HWCAP CLKTCK SECURE
; RANDOM HWCAP2 EXECFN MINSIGSTKSZ
aux_tags: db 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 23, 25, 26, 31, 51, 0
