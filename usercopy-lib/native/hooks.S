; hooks.S - calls that exist for the tests and the benchmarks, not for
; copying: the ABI this library was built with, and a bare fork.

%include "usercopy.inc"

section .text

global usercopy_abi:function
global usercopy_fork_wait:function

; long usercopy_abi(int which): the layout constants this library was built
; with, so a test can hold them against the C headers. 0: offset of RIP in
; ucontext_t.
usercopy_abi:
    mov eax, UC_RIP
    test edi, edi
    jz .done
    mov rax, -1
.done:
    ret

; long usercopy_fork_wait(void): fork(2) by raw syscall; the child exits at
; once with status 0 and never returns to the JVM's code; the parent waits for
; it. Returns 0, or -errno. For measuring what the host's fork costs.
usercopy_fork_wait:
    mov eax, SYS_fork
    syscall
    test rax, rax
    js .done
    jnz .wait
    xor edi, edi
    mov eax, SYS_exit_group
    syscall
.wait:
    mov rdi, rax                ; the child's pid; syscall keeps rdi
.again:
    xor esi, esi
    xor edx, edx
    xor r10d, r10d
    mov eax, SYS_wait4
    syscall
    cmp rax, -4                 ; EINTR
    je .again
    test rax, rax
    js .done
    xor eax, eax
.done:
    ret
