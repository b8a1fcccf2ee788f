; Faults a program does not survive, one a run, chosen by argv[1]: each prints a line, then
; dies by the signal Linux sends (exit status 128 + signal as a shell reports it). "stack"
; instead uses 7 MiB of stack below the initial one (Linux grows the stack up to RLIMIT_STACK)
; and exits 0. "spin" loops forever without a syscall (for tests that kill it from outside).
%include "guest.inc"

section .data
data_ret: db 0xc3                           ; ret, in a non-executable page

section .rodata
rodata_byte: db 1
modes:
    dq m_null, do_null
    dq m_unmapped, do_unmapped
    dq m_rodata, do_rodata
    dq m_text, do_text
    dq m_exec_data, do_exec_data
    dq m_exec_stack, do_exec_stack
    dq m_int3, do_int3
    dq m_ud2, do_ud2
    dq m_div0, do_div0
    dq m_hlt, do_hlt
    dq m_stub, do_stub
    dq m_stub_write, do_stub_write
    dq m_kernel, do_kernel
    dq m_noncanonical, do_noncanonical
    dq m_stack, do_stack
    dq m_munmapped, do_munmapped
    dq m_prot_none, do_prot_none
    dq m_spin, do_spin
    dq 0, 0
m_null: db 'null', 0
m_unmapped: db 'unmapped', 0
m_rodata: db 'write-rodata', 0
m_text: db 'write-text', 0
m_exec_data: db 'exec-data', 0
m_exec_stack: db 'exec-stack', 0
m_int3: db 'int3', 0
m_ud2: db 'ud2', 0
m_div0: db 'div0', 0
m_hlt: db 'hlt', 0
m_stub: db 'read-stub', 0
m_stub_write: db 'write-stub', 0
m_kernel: db 'read-kernel', 0
m_noncanonical: db 'read-noncanonical', 0
m_stack: db 'stack', 0
m_munmapped: db 'munmapped', 0
m_prot_none: db 'prot-none', 0
m_spin: db 'spin', 0

section .text
global _start
_start:
    keep_args
    mov edi, 1
    call argv_at
    test rax, rax
    jz .unknown
    mov r12, rax
    lea rbx, [modes]
.find:
    mov rsi, [rbx]
    test rsi, rsi
    jz .unknown
    mov rdi, r12
    call streq
    je .found
    add rbx, 16
    jmp .find
.found:
    say "about to: "
    mov rdi, r12
    call put_cstr
    call newline
    call [rbx + 8]
    say "survived", 10
    exit 0
.unknown:
    say "unknown mode", 10
    exit 2

do_null:
    xor eax, eax
    mov al, [rax]
    ret
do_unmapped:
    mov rax, 0x100000                       ; 1 MiB: below the binary, never mapped
    mov al, [rax]
    ret
do_rodata:
    mov byte [rodata_byte], 2
    ret
do_text:
    mov byte [do_text], 0xc3
    ret
do_exec_data:
    jmp data_ret
do_exec_stack:
    ; a `ret` on the stack, called: SIGSEGV unless the binary asked for an executable stack
    sub rsp, 8
    mov byte [rsp], 0xc3
    call rsp
    add rsp, 8
    ret
do_int3:
    int3
    ret
do_ud2:
    ud2
do_div0:
    xor ecx, ecx
    xor edx, edx
    mov eax, 1
    div ecx
    ret
do_hlt:
    hlt
    ret
do_stub:
    mov rax, STUB_ADDR
    mov al, [rax]
    ret
do_stub_write:
    mov rax, STUB_ADDR
    mov byte [rax], 0xcc
    ret
do_kernel:
    mov rax, KERNEL_ADDR
    mov al, [rax]
    ret
do_noncanonical:
    mov rax, 0x0000800000000000
    mov al, [rax]
    ret
do_stack:
    ; one write a page down to 7 MiB below here, then back
    mov rcx, 7 * 1024 * 1024 / PAGE
    mov rax, rsp
.down:
    sub rax, PAGE
    mov byte [rax], 1
    dec rcx
    jnz .down
    ret
do_munmapped:
    anon_map PAGE, PROT_READ | PROT_WRITE
    mov rbx, rax
    mov byte [rbx], 1
    sys SYS_munmap, rbx, PAGE
    show "munmap"
    mov al, [rbx]
    ret
do_spin:
    jmp do_spin
do_prot_none:
    anon_map PAGE, PROT_READ | PROT_WRITE
    mov rbx, rax
    mov byte [rbx], 1
    sys SYS_mprotect, rbx, PAGE, PROT_NONE
    show "mprotect(NONE)"
    mov al, [rbx]
    ret
