; fault.S - the SIGSEGV/SIGBUS handler: looks the faulting RIP up in the
; exception table and resumes at its fixup, or chains to the handler that was
; installed before ours (HotSpot's). Also the table's accessors, for the Java
; side and the tests.
;
; The table is every file's ex_table entries, concatenated by the linker
; between __start_ex_table and __stop_ex_table (usercopy.inc describes an
; entry). extable.ld reserves one hit counter an entry, __start_ex_hits on:
; entry i, at byte 16*i of the table, counts at byte 8*i of the counters.

%include "usercopy.inc"

extern __start_ex_table, __stop_ex_table, __start_ex_hits

; %1 = the number of entries in the table (clobbers r8).
%macro extable_size 1
    lea %1, [__stop_ex_table]
    lea r8, [__start_ex_table]
    sub %1, r8
    shr %1, 4                   ; / EXTABLE_ENTRY
%endmacro

section .text

global usercopy_signal_handler:function
global usercopy_set_chain:function
global usercopy_chain:function
global usercopy_counter:function
global usercopy_extable_size:function
global usercopy_extable_entry:function
global usercopy_extable_hits:function

; ---------------------------------------------------------------------------
; void usercopy_signal_handler(int sig, siginfo_t *info, ucontext_t *uc)
; An SA_SIGINFO handler for SIGSEGV and SIGBUS. rdi, rsi and rdx are left
; intact so the chained handler sees exactly what the kernel passed.
usercopy_signal_handler:
    mov rax, [rdx + UC_RIP]
    lea r8, [__start_ex_table]
    lea r9, [__stop_ex_table]
.scan:
    cmp r8, r9
    jae .chain
    movsxd r11, dword [r8 + EXTABLE_INSN]
    add r11, r8
    cmp r11, rax
    je .fixup
    add r8, EXTABLE_ENTRY
    jmp .scan
.fixup:
    movsxd r11, dword [r8 + EXTABLE_FIXUP]
    add r11, r8
    mov [rdx + UC_RIP], r11     ; resume at the fixup when the handler returns
    mov r11, [rsi + SI_ADDR]
    mov [rdx + UC_R11], r11     ; and with the fault address in r11 (caller-saved; no routine keeps it)
    lea r9, [__start_ex_table]
    sub r8, r9
    shr r8, 1                   ; 16 bytes an entry, 8 a counter
    lea r9, [__start_ex_hits]
    lock inc qword [r9 + r8]
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

; ---------------------------------------------------------------------------
; long usercopy_extable_size(void): entries in the exception table.
usercopy_extable_size:
    extable_size rax
    ret

; long usercopy_extable_entry(long i, int which): the address of entry i's
; instruction (which = 0), fixup (1) or label name, a C string (2); 0 when i
; or which is out of range.
usercopy_extable_entry:
    extable_size rax
    cmp rdi, rax
    jae .out
    cmp esi, 2
    ja .out
    lea r8, [__start_ex_table]
    shl rdi, 4                  ; * EXTABLE_ENTRY
    add r8, rdi
    movsxd rax, dword [r8 + rsi * 4]
    add rax, r8
    ret
.out:
    xor eax, eax
    ret

; long usercopy_extable_hits(long i): how often entry i was fixed up; -1 out of range.
usercopy_extable_hits:
    extable_size rax
    cmp rdi, rax
    jae .out
    lea r9, [__start_ex_hits]
    mov rax, [r9 + rdi * 8]
    ret
.out:
    mov rax, -1
    ret

section .bss
align 8
chain:          resq 2          ; previous handlers: [0] SIGSEGV, [1] SIGBUS
counters:       resq 3
