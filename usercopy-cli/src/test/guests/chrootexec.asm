; chrootexec ROOT DIR PROGRAM ARGS...: chroot(ROOT), chdir(DIR) inside it, execve(PROGRAM, ARGS)
; with this environment: Linux's own answer to what a program under `usercopy exec --root ROOT`
; should see (needs CAP_SYS_CHROOT). On failure prints the step and exits 125.
%include "guest.inc"

section .text
global _start
_start:
    keep_args
    mov edi, 1
    call argv_at
    sys SYS_chroot, rax
    test rax, rax
    jnz .chroot_failed
    mov edi, 2
    call argv_at
    sys SYS_chdir, rax
    test rax, rax
    jnz .chdir_failed
    mov rbx, [initial_sp]
    mov rcx, [rbx]                          ; argc
    lea rdx, [rbx + 16 + rcx * 8]           ; envp
    lea rsi, [rbx + 8 + 3 * 8]              ; &argv[3]
    mov rdi, [rsi]
    mov eax, SYS_execve
    syscall
    show "execve"
    exit 125
.chroot_failed:
    show "chroot"
    exit 125
.chdir_failed:
    show "chdir"
    exit 125
