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
; gregs[REG_R11]: the handler hands a fixup the fault address in r11.
%define REG_R11         3
%define UC_R11          (UC_GREGS + REG_R11 * 8)
; siginfo_t.si_addr for SIGSEGV and SIGBUS: the address that faulted.
%define SI_ADDR         16
; The host page size: protections, and so faults, come a page at a time.
%define PAGE_SIZE       4096

; CPUID bits (Intel SDM vol. 2A, CPUID; AMD APM vol. 3, appendix E).
%define CPUID1_ECX_OSXSAVE  27      ; leaf 1: the OS enabled XSAVE, so XGETBV works
%define CPUID1_ECX_AVX      28      ; leaf 1: AVX
%define CPUID7_EBX_AVX2     5       ; leaf 7 subleaf 0
%define CPUID7_EBX_ERMS     9       ; enhanced rep movsb/stosb
%define CPUID7_EDX_FSRM     4       ; fast short rep movsb
%define XCR0_SSE_AVX        6       ; XCR0 bits 1 and 2: the OS saves xmm and ymm state

; usercopy_cpu_features() bits, as UserCopy.CpuFeature's ordinals.
%define FEAT_ERMS       1
%define FEAT_FSRM       2
%define FEAT_AVX2       4

; Where the adaptive form stops using the AVX2 loop and uses rep movsb; the
; data that put it here is in the origin comment at copy_from_user_adaptive.
%define ADAPTIVE_VEC_MAX    16384

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
global copy_from_user_adaptive:function
global copy_to_user_adaptive:function
global usercopy_cpu_features:function
global usercopy_set_cpu_features:function
global usercopy0, usercopy1, usercopy1b, usercopy1c, usercopy1d, usercopy2, usercopy3
global usercopy4a, usercopy4b, usercopy5a, usercopy5b, usercopy5c, usercopy5d
global usercopy6a, usercopy6b, usercopy6c, usercopy6d
global usercopy7a, usercopy7b, usercopy7c, usercopy7d, usercopy7e, usercopy7f, usercopy7g, usercopy7h
global usercopy8a, usercopy8b, usercopy8c, usercopy8d, usercopy8e, usercopy8f
global usercopy8g, usercopy8h, usercopy8i, usercopy8j, usercopy9, usercopy9r

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
; size_t copy_from_user_adaptive(void *dst, const void *src, size_t n)
; size_t copy_to_user_adaptive(void *dst, const void *src, size_t n)
; The adaptive form: picks the instructions by size and by what CPUID said at
; load (Linux's alternatives, with a flag test where Linux patches the code).
;
;   n = 0           nothing
;   1..7            a byte loop                             usercopy4a/4b
;   8..16           two overlapping qwords                  usercopy5a..5d
;   17..32          two overlapping xmm                     usercopy6a..6d
;   33..64          four overlapping xmm                    usercopy7a..7h
;   65 B..16 KiB-1  AVX2: 32 bytes, then a 64-byte loop
;                   with 32-aligned destination stores,
;                   the last 64 bytes overlapping           usercopy8a..8j
;   larger, or no AVX2: rep movsb with ERMS                 usercopy9
;                   without ERMS: the aligned form          usercopy1..1d
;
; Origin of the lines (Zen 4 VM with ERMS, FSRM and AVX2, JDK 25, both
; sides in cache; JMH: ./usercopy bench --suite quick, bench/README.md; the
; machine was shared, so single cells carry +-10-20% noise):
; - 1..64 bytes: movs. SmallHeapCopyBench, byte[] <-> guest: 3.1-5.7 ns a
;   copy against 6.3-8.4 for flat rep movsb (FSRM and all); a C loop timing
;   the instructions alone: 1.3 ns against 2.9 for rep movsb at every size
;   8..64 and either alignment.
; - 65 bytes..16 KiB: the AVX2 loop. CopyBench from user, 512 B: 45-58 GB/s
;   against 28-31 for rep movsb with the destination not ahead of the source,
;   and against 15-18 when it is 1..63 bytes ahead modulo 4 KiB (rep movsb's
;   slow case on Zen 4); 4 KiB: 117-125 against 101-116, and 91-115 against
;   60-77 with the destination ahead.
; - 16 KiB up: rep movsb. The C loop timing (best of 3, same buffers as
;   CopyBench) has the AVX2 loop ahead or even up to 16 KiB and behind from
;   16-24 KiB when the destination is 37..63 bytes ahead (105 against 117
;   GB/s), and 1.3x behind at 64 KiB (87 against 115) and 1 MiB (53 against
;   65): ADAPTIVE_VEC_MAX is 16 KiB.
;
; Exact counts: at every labelled instruction rsi, rdi and rdx describe what
; is left, from a point before which everything is copied. Each chunk loads
; everything before it stores, so a faulting load has written nothing of its
; chunk; a faulting store may have written part of it (to_user), which the
; retry writes again with the same bytes. The fixup (fix_retry) copies from
; rsi byte by byte up to the faulting page and stops at exactly the first
; inaccessible byte with one fault in all: bench/FaultPathBench, an EFAULT
; round trip of 2.3 us as flat's 2.4, against 5.1-6.8 us when the byte retry
; ran into the boundary and faulted a second time.
copy_from_user_adaptive:
copy_to_user_adaptive:
    cmp rdx, 64
    ja adaptive_big
    cmp edx, 16
    ja adaptive_over16
    cmp edx, 8
    jae adaptive_qwords
    test edx, edx
    jz adaptive_none
adaptive_bytes:
usercopy4a:                     ; load one byte; rdx = bytes left -> fix_rdx
    movzx eax, byte [rsi]
usercopy4b:                     ; store it -> fix_rdx
    mov [rdi], al
    inc rsi
    inc rdi
    dec edx
    jnz adaptive_bytes
adaptive_none:
    xor eax, eax
    ret
adaptive_qwords:                        ; 8..16: first and last qword, overlapping
usercopy5a:                     ; each of 5a..7h -> fix_retry (rsi, rdi, rdx: the whole copy)
    mov r8, [rsi]
usercopy5b:
    mov r9, [rsi + rdx - 8]
usercopy5c:
    mov [rdi], r8
usercopy5d:
    mov [rdi + rdx - 8], r9
    xor eax, eax
    ret
adaptive_over16:
    cmp edx, 32
    ja adaptive_xmm4
usercopy6a:                     ; 17..32: first and last 16 bytes
    movdqu xmm0, [rsi]
usercopy6b:
    movdqu xmm1, [rsi + rdx - 16]
usercopy6c:
    movdqu [rdi], xmm0
usercopy6d:
    movdqu [rdi + rdx - 16], xmm1
    xor eax, eax
    ret
adaptive_xmm4:                          ; 33..64: first 32 and last 32 bytes
usercopy7a:
    movdqu xmm0, [rsi]
usercopy7b:
    movdqu xmm1, [rsi + 16]
usercopy7c:
    movdqu xmm2, [rsi + rdx - 32]
usercopy7d:
    movdqu xmm3, [rsi + rdx - 16]
usercopy7e:
    movdqu [rdi], xmm0
usercopy7f:
    movdqu [rdi + 16], xmm1
usercopy7g:
    movdqu [rdi + rdx - 32], xmm2
usercopy7h:
    movdqu [rdi + rdx - 16], xmm3
    xor eax, eax
    ret

adaptive_big:
    movzx eax, byte [cpu_features]
    cmp rdx, ADAPTIVE_VEC_MAX
    jae adaptive_rep
    test eax, FEAT_AVX2
    jz adaptive_rep
usercopy8a:                     ; 8a..8j -> fix_vec (rsi, rdi, rdx: what is left)
    vmovdqu ymm0, [rsi]
usercopy8b:
    vmovdqu [rdi], ymm0
    mov eax, edi
    and eax, 31
    neg rax
    add rax, 32                 ; 1..32: the 32 bytes are copied, go to a 32-aligned destination
    add rsi, rax
    add rdi, rax
    sub rdx, rax                ; still more than 32 left
    cmp rdx, 64
    jbe adaptive_vtail
adaptive_vloop:
usercopy8c:
    vmovdqu ymm0, [rsi]
usercopy8d:
    vmovdqu ymm1, [rsi + 32]
usercopy8e:
    vmovdqu [rdi], ymm0         ; 32-aligned: never splits a cache line
usercopy8f:
    vmovdqu [rdi + 32], ymm1
    add rsi, 64
    add rdi, 64
    sub rdx, 64
    cmp rdx, 64
    ja adaptive_vloop
adaptive_vtail:                         ; the last 64 bytes, overlapping what is copied (n > 64)
    lea rsi, [rsi + rdx - 64]
    lea rdi, [rdi + rdx - 64]
    mov edx, 64
usercopy8g:
    vmovdqu ymm0, [rsi]
usercopy8h:
    vmovdqu ymm1, [rsi + 32]
usercopy8i:
    vmovdqu [rdi], ymm0
usercopy8j:
    vmovdqu [rdi + 32], ymm1
    vzeroupper
    xor eax, eax
    ret
adaptive_rep:
    test eax, FEAT_ERMS
    jz copy_from_user           ; no fast rep movsb: the aligned form, with its own labels
    cld
    mov rcx, rdx
usercopy9:                      ; rcx = bytes left -> fix_rcx
    rep movsb
    mov rax, rcx
    ret

fix_rdx:
    mov rax, rdx
    ret

fix_vec:
    vzeroupper                  ; only reached from the AVX2 loop, so AVX is there
; A mov or AVX2 chunk faulted; rsi, rdi, rdx: what is left, from the chunk on;
; r11: the fault address. Protection is per page, so the faulting page is
; inaccessible to this kind of access from its first byte: copy byte by byte
; up to that page (or up to the fault, if the copy starts inside it) and the
; count is exact without faulting a second time. If a byte before it faults
; after all, usercopy9r's own fixup still stops there exactly. A fault
; address in neither range cannot happen; it would retry everything.
fix_retry:
    cld
    mov rax, r11
    and rax, -PAGE_SIZE         ; the faulting page
    mov rcx, r11
    sub rcx, rsi
    cmp rcx, rdx
    jb .in_source               ; the fault is in [rsi, rsi + rdx)
    mov rcx, r11
    sub rcx, rdi
    cmp rcx, rdx
    jb .in_destination
    mov rcx, rdx                ; unknown: retry it all
    jmp .retry
.in_source:
    sub rax, rsi                ; bytes before the faulting page, negative if rsi is in it
    jmp .limit
.in_destination:
    sub rax, rdi
.limit:
    xor ecx, ecx
    test rax, rax
    cmovg rcx, rax              ; rcx = readable bytes before the fault (0..rdx)
.retry:
    sub rdx, rcx                ; rdx = bytes past the faulting page's start: not copied
usercopy9r:                     ; byte retry; rcx = bytes left before the fault -> fix_retry_left
    rep movsb
    mov rax, rdx
    ret

fix_retry_left:
    lea rax, [rcx + rdx]
    ret

; ---------------------------------------------------------------------------
; long usercopy_cpu_features(void): FEAT_* bits the adaptive form uses, as
; detected at load and narrowed by usercopy_set_cpu_features.
usercopy_cpu_features:
    movzx eax, byte [cpu_features]
    ret

; long usercopy_set_cpu_features(long keep): uses only the detected features
; that are also in keep (a test reaches the fallbacks this way; the kernel's
; clearcpuid= does the same); returns the features now in use. Never adds one
; the CPU lacks.
usercopy_set_cpu_features:
    movzx eax, byte [cpu_detected]
    and eax, edi
    mov [cpu_features], al
    ret

; void usercopy_detect_cpu(void): run once by the dynamic loader (.init_array),
; before any copy can be called.
usercopy_detect_cpu:
    push rbx
    xor r8d, r8d                ; the features found
    xor eax, eax
    cpuid
    cmp eax, 7
    jb .store                   ; no leaf 7: none of them
    mov eax, 7
    xor ecx, ecx
    cpuid
    bt ebx, CPUID7_EBX_ERMS
    jnc .no_erms
    or r8d, FEAT_ERMS
.no_erms:
    bt edx, CPUID7_EDX_FSRM
    jnc .no_fsrm
    or r8d, FEAT_FSRM
.no_fsrm:
    bt ebx, CPUID7_EBX_AVX2
    jnc .store
    mov eax, 1                  ; AVX2 is usable only if the OS saves ymm state
    cpuid
    bt ecx, CPUID1_ECX_OSXSAVE
    jnc .store
    bt ecx, CPUID1_ECX_AVX
    jnc .store
    xor ecx, ecx
    xgetbv
    and eax, XCR0_SSE_AVX
    cmp eax, XCR0_SSE_AVX
    jne .store
    or r8d, FEAT_AVX2
.store:
    mov [cpu_detected], r8b
    mov [cpu_features], r8b
    pop rbx
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
    mov r11, [rsi + SI_ADDR]
    mov [rdx + UC_R11], r11     ; and with the fault address in r11 (caller-saved; no routine keeps it)
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
    dd usercopy4a - ex_table, fix_rdx    - ex_table
    dd usercopy4b - ex_table, fix_rdx    - ex_table
    dd usercopy5a - ex_table, fix_retry  - ex_table
    dd usercopy5b - ex_table, fix_retry  - ex_table
    dd usercopy5c - ex_table, fix_retry  - ex_table
    dd usercopy5d - ex_table, fix_retry  - ex_table
    dd usercopy6a - ex_table, fix_retry  - ex_table
    dd usercopy6b - ex_table, fix_retry  - ex_table
    dd usercopy6c - ex_table, fix_retry  - ex_table
    dd usercopy6d - ex_table, fix_retry  - ex_table
    dd usercopy7a - ex_table, fix_retry  - ex_table
    dd usercopy7b - ex_table, fix_retry  - ex_table
    dd usercopy7c - ex_table, fix_retry  - ex_table
    dd usercopy7d - ex_table, fix_retry  - ex_table
    dd usercopy7e - ex_table, fix_retry  - ex_table
    dd usercopy7f - ex_table, fix_retry  - ex_table
    dd usercopy7g - ex_table, fix_retry  - ex_table
    dd usercopy7h - ex_table, fix_retry  - ex_table
    dd usercopy8a - ex_table, fix_vec    - ex_table
    dd usercopy8b - ex_table, fix_vec    - ex_table
    dd usercopy8c - ex_table, fix_vec    - ex_table
    dd usercopy8d - ex_table, fix_vec    - ex_table
    dd usercopy8e - ex_table, fix_vec    - ex_table
    dd usercopy8f - ex_table, fix_vec    - ex_table
    dd usercopy8g - ex_table, fix_vec    - ex_table
    dd usercopy8h - ex_table, fix_vec    - ex_table
    dd usercopy8i - ex_table, fix_vec    - ex_table
    dd usercopy8j - ex_table, fix_vec    - ex_table
    dd usercopy9  - ex_table, fix_rcx    - ex_table
    dd usercopy9r - ex_table, fix_retry_left - ex_table
ex_table_end:

; The loader runs usercopy_detect_cpu when it maps the library.
section .init_array write align=8
    dq usercopy_detect_cpu

section .bss
align 8
chain:          resq 2          ; previous handlers: [0] SIGSEGV, [1] SIGBUS
counters:       resq 3
extable_hits:   resq 37         ; one per exception table entry
cpu_detected:   resb 1          ; FEAT_* bits CPUID reported
cpu_features:   resb 1          ; the ones the adaptive form uses

section .note.GNU-stack noalloc noexec nowrite progbits
