; usercopy.S - fallible copies between kernel buffers and guest ("user") memory.
;
; Every instruction that may touch guest memory carries a label listed in the
; exception table at the end of .text. When it faults (SIGSEGV, or SIGBUS past
; the end of a memfd), usercopy_signal_handler finds the faulting RIP in the
; table, rewrites RIP to the fixup, and the routine returns how many bytes it
; did NOT copy. Any other fault is passed, untouched, to the handler that was
; installed before ours (HotSpot's).
;
; Calling convention: System V x86-64. Nothing here touches the stack except
; the handler's fallback to the default disposition.

default rel
bits 64

%define EFAULT          14
%define SIGBUS          7
%define SIGSEGV         11
%define SYS_rt_sigaction 13
%define SYS_fork        57
%define SYS_wait4       61
%define SYS_exit_group  231

; glibc x86-64: ucontext_t.uc_mcontext.gregs starts at 40, REG_RIP is gregs[16].
%define UC_GREGS        40
%define REG_RIP         16
%define UC_RIP          (UC_GREGS + REG_RIP * 8)

section .text

global copy_from_user:function
global copy_to_user:function
global copy_from_user_flat:function
global copy_to_user_flat:function
global strncpy_from_user:function
global clear_user:function
global usercopy_signal_handler:function
global usercopy_set_chain:function
global usercopy_chain:function
global usercopy_counter:function
global usercopy_extable_size:function
global usercopy_extable_entry:function
global usercopy_extable_hits:function
global usercopy_abi:function
global usercopy_fork_wait:function
global usercopy0, usercopy1, usercopy1b, usercopy1c, usercopy1d, usercopy2, usercopy3

; ---------------------------------------------------------------------------
; size_t copy_from_user_flat(void *dst, const void *src, size_t n)
; size_t copy_to_user_flat(void *dst, const void *src, size_t n)
; The flat form: one rep movsb. Returns the bytes not copied.
copy_from_user_flat:
copy_to_user_flat:
    cld
    mov rcx, rdx
usercopy0:                      ; faults on the first inaccessible byte; rcx = bytes left -> fix_rcx
    rep movsb
    mov rax, rcx
    ret

; ---------------------------------------------------------------------------
; size_t copy_from_user(void *dst, const void *src, size_t n)
; size_t copy_to_user(void *dst, const void *src, size_t n)
; The alignment-aware form: align the destination to 8 with rep movsb, copy
; the bulk with rep movsq, finish the tail with rep movsb. Returns the bytes
; not copied, exact to the byte.
copy_from_user:
copy_to_user:
    cld
    mov rcx, rdx
    cmp rdx, 8
    jb copy_tail                ; short copy: all of it is "tail"
    mov rcx, rdi
    neg rcx
    and rcx, 7                  ; bytes to the next 8-aligned destination
    jz copy_bulk
    sub rdx, rcx
usercopy1:                      ; leading bytes; rcx = lead left, rdx = rest -> fix_lead
    rep movsb
copy_bulk:
    mov rcx, rdx
    shr rcx, 3
    and edx, 7
usercopy1b:                     ; qwords; rcx = qwords left, rdx = tail -> fix_bulk
    rep movsq
    mov ecx, edx
copy_tail:
usercopy1c:                     ; trailing (or all of a short copy); rcx = bytes left -> fix_rcx
    rep movsb
    mov rax, rcx
    ret

fix_lead:
    lea rax, [rcx + rdx]
    ret

; A qword that straddles the fault may still have accessible bytes before the
; boundary (a misaligned source): redo what is left one byte at a time so the
; count ends exactly at the first inaccessible byte.
fix_bulk:
    lea rcx, [rdx + rcx * 8]
usercopy1d:                     ; byte retry after a qword fault; rcx = bytes left -> fix_rcx
    rep movsb
    mov rax, rcx
    ret

fix_rcx:
    mov rax, rcx
    ret

; ---------------------------------------------------------------------------
; long strncpy_from_user(char *dst, const char *src, long count)
; Linux semantics: copies up to count bytes and stops after a NUL. Returns the
; string's length without the NUL if a NUL was found within count, count if
; not, -EFAULT if a byte before either could not be read.
strncpy_from_user:
    xor eax, eax
    test rdx, rdx
    jle strncpy_done
strncpy_loop:
usercopy2:                      ; reads one guest byte -> fix_efault
    movzx ecx, byte [rsi + rax]
    mov [rdi + rax], cl
    test ecx, ecx
    jz strncpy_done             ; rax = length without the NUL
    inc rax
    cmp rax, rdx
    jb strncpy_loop
strncpy_done:
    ret

fix_efault:
    mov rax, -EFAULT
    ret

; ---------------------------------------------------------------------------
; size_t clear_user(void *dst, size_t n)
; Zeroes n guest bytes. Returns the bytes not cleared.
clear_user:
    cld
    mov rcx, rsi
    xor eax, eax
usercopy3:                      ; stores zeros; rcx = bytes left -> fix_rcx
    rep stosb
    mov rax, rcx
    ret

; ---------------------------------------------------------------------------
; void usercopy_signal_handler(int sig, siginfo_t *info, ucontext_t *uc)
; An SA_SIGINFO handler for SIGSEGV and SIGBUS. rdi, rsi and rdx are left
; intact so the chained handler sees exactly what the kernel passed.
usercopy_signal_handler:
    mov rax, [rdx + UC_RIP]
    lea r10, [ex_table]
    lea r8, [ex_table]
    lea r9, [ex_table_end]
.scan:
    cmp r8, r9
    jae .chain
    movsxd r11, dword [r8]
    add r11, r10
    cmp r11, rax
    je .fixup
    add r8, 8
    jmp .scan
.fixup:
    movsxd r11, dword [r8 + 4]
    add r11, r10
    mov [rdx + UC_RIP], r11     ; resume at the fixup when the handler returns
    sub r8, r10
    lea r9, [extable_hits]
    lock inc qword [r9 + r8]    ; entry i is at 8*i: its counter too
    xor eax, eax
    cmp edi, SIGBUS
    sete al
    lea r9, [counters]
    lock inc qword [r9 + rax * 8]   ; counters[0] SIGSEGV fixups, [1] SIGBUS fixups
    ret
.chain:
    xor eax, eax
    cmp edi, SIGBUS
    sete al
    lea r9, [chain]
    mov rax, [r9 + rax * 8]
    lea r9, [counters]
    lock inc qword [r9 + 16]    ; counters[2]: faults passed on
    cmp rax, 1                  ; SIG_DFL (0) or SIG_IGN (1): nothing to call
    jbe .default
    jmp rax                     ; tail call with the kernel's (sig, info, uc)
.default:
    ; Restore the default disposition and return: the faulting instruction
    ; runs again and the process dies as it would have without us.
    sub rsp, 40                 ; kernel struct sigaction: handler, flags, restorer, mask
    xor eax, eax
    mov [rsp], rax
    mov [rsp + 8], rax
    mov [rsp + 16], rax
    mov [rsp + 24], rax
    mov rsi, rsp                ; edi is still the signal number
    xor edx, edx
    mov r10d, 8
    mov eax, SYS_rt_sigaction
    syscall
    add rsp, 40
    ret

; ---------------------------------------------------------------------------
; int usercopy_set_chain(int sig, void *handler): the handler faults outside
; the table go to. Returns 0, or -1 for a signal other than SIGSEGV/SIGBUS.
usercopy_set_chain:
    xor eax, eax
    cmp edi, SIGSEGV
    je .store
    inc eax
    cmp edi, SIGBUS
    je .store
    mov eax, -1
    ret
.store:
    lea r9, [chain]
    mov [r9 + rax * 8], rsi
    xor eax, eax
    ret

; void *usercopy_chain(int sig): the handler set by usercopy_set_chain (NULL if none).
usercopy_chain:
    xor eax, eax
    cmp edi, SIGBUS
    sete al
    lea r9, [chain]
    mov rax, [r9 + rax * 8]
    ret

; long usercopy_counter(int which): 0 SIGSEGV fixups, 1 SIGBUS fixups, 2 faults passed on.
usercopy_counter:
    cmp edi, 2
    ja .none
    lea r9, [counters]
    mov rax, [r9 + rdi * 8]
    ret
.none:
    mov rax, -1
    ret

; long usercopy_extable_size(void): entries in the exception table.
usercopy_extable_size:
    mov eax, (ex_table_end - ex_table) / 8
    ret

; long usercopy_extable_entry(long i, int which): address of entry i's
; instruction (which = 0) or fixup (which = 1); 0 when i is out of range.
usercopy_extable_entry:
    xor eax, eax
    cmp rdi, (ex_table_end - ex_table) / 8
    jae .out
    and esi, 1
    lea r10, [ex_table]
    lea r8, [r10 + rdi * 8]
    movsxd rax, dword [r8 + rsi * 4]
    add rax, r10
.out:
    ret

; long usercopy_extable_hits(long i): how often entry i was fixed up; -1 out of range.
usercopy_extable_hits:
    cmp rdi, (ex_table_end - ex_table) / 8
    jae .out
    lea r9, [extable_hits]
    mov rax, [r9 + rdi * 8]
    ret
.out:
    mov rax, -1
    ret

; long usercopy_abi(int which): the layout constants this file was built with,
; so a test can hold them against the C headers. 0: offset of RIP in ucontext_t.
usercopy_abi:
    mov eax, UC_RIP
    test edi, edi
    jz .done
    mov rax, -1
.done:
    ret

; ---------------------------------------------------------------------------
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

; ---------------------------------------------------------------------------
; The exception table: (faulting instruction, fixup) as 32-bit offsets from
; ex_table, so it needs no relocations and lives read-only beside the code.
; Keep the order: the Java side names the entries by index.
align 8
ex_table:
    dd usercopy0  - ex_table, fix_rcx    - ex_table
    dd usercopy1  - ex_table, fix_lead   - ex_table
    dd usercopy1b - ex_table, fix_bulk   - ex_table
    dd usercopy1c - ex_table, fix_rcx    - ex_table
    dd usercopy1d - ex_table, fix_rcx    - ex_table
    dd usercopy2  - ex_table, fix_efault - ex_table
    dd usercopy3  - ex_table, fix_rcx    - ex_table
ex_table_end:

section .bss
align 8
chain:          resq 2          ; previous handlers: [0] SIGSEGV, [1] SIGBUS
counters:       resq 3
extable_hits:   resq 7          ; one per exception table entry

section .note.GNU-stack noalloc noexec nowrite progbits
