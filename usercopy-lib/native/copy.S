; copy.S - the fallible copies between kernel buffers and guest ("user")
; memory, in three forms: flat, aligned and adaptive.
;
; Every instruction that may touch guest memory is a uaccess line (see
; usercopy.inc): when it faults (SIGSEGV, or SIGBUS past the end of a memfd),
; the handler in fault.S resumes at its fixup, and the routine returns how
; many bytes it did NOT copy, exact to the byte.

%include "usercopy.inc"

; Where the adaptive form stops using the AVX2 loop for every copy; above it,
; the loop only where rep movsb meets its slow case. Why, at
; copy_from_user_adaptive.
%define ADAPTIVE_VEC_MAX    4096
; rep movsb's slow case: the destination 1..ADAPTIVE_SLOW_DIST bytes ahead of
; the source modulo 4 KiB, except exactly ADAPTIVE_FAST_DIST ahead.
%define ADAPTIVE_SLOW_DIST  63
%define ADAPTIVE_FAST_DIST  32

extern cpu_features             ; cpu.S: the FEAT_* bits in use

section .text

global copy_from_user_flat:function
global copy_to_user_flat:function
global copy_from_user:function
global copy_to_user:function
global copy_from_user_adaptive:function
global copy_to_user_adaptive:function

; ---------------------------------------------------------------------------
; size_t copy_from_user_flat(void *dst, const void *src, size_t n)
; size_t copy_to_user_flat(void *dst, const void *src, size_t n)
; The flat form: one rep movsb. Returns the bytes not copied.
copy_from_user_flat:
copy_to_user_flat:
    cld
    mov rcx, rdx
    uaccess usercopy0, fix_rcx, rep movsb       ; faults on the first inaccessible byte; rcx = bytes left
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
    uaccess usercopy1, fix_lead, rep movsb      ; leading bytes; rcx = lead left, rdx = rest
copy_bulk:
    mov rcx, rdx
    shr rcx, 3
    and edx, 7
    uaccess usercopy1b, fix_bulk, rep movsq     ; qwords; rcx = qwords left, rdx = tail
    mov ecx, edx
copy_tail:
    uaccess usercopy1c, fix_rcx, rep movsb      ; trailing (or all of a short copy); rcx = bytes left
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
    uaccess usercopy1d, fix_rcx, rep movsb      ; byte retry after a qword fault; rcx = bytes left
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
;   65 B..4 KiB-1   AVX2: 32 bytes, then a 64-byte loop
;                   with 32-aligned destination stores,
;                   the last 64 bytes overlapping           usercopy8a..8j
;   4 KiB up        the AVX2 loop if the destination is 1..31 or 33..63
;                   bytes ahead of the source modulo 4 KiB, else rep
;                   movsb (ERMS)
;   no AVX2: rep movsb with ERMS                            usercopy9
;            without ERMS: the aligned form                 usercopy1..1d
;
; The boundaries are measured, not guessed: movs beat rep movsb's start-up up
; to 64 bytes; the AVX2 loop beats rep movsb's start-up below 4 KiB; from
; 4 KiB which one is ahead depends on what else the core runs (quiet, the
; loop by up to 1.2x; with the machine loaded, rep movsb by up to 1.4x),
; except in rep movsb's slow case: with the destination 1..31 bytes ahead of
; the source it is 12-50x slower than the loop at any size, and at 33..63
; up to 7x on a quiet machine (32 ahead is not slow). So from 4 KiB the
; distance picks. The numbers,
; and how to measure them again, are in bench/README.md, "Where the adaptive
; form's boundaries come from".
;
; Exact counts: at every labelled instruction rsi, rdi and rdx describe what
; is left, from a point before which everything is copied. Each chunk loads
; everything before it stores, so a faulting load has written nothing of its
; chunk; a faulting store may have written part of it (to_user), which the
; retry writes again with the same bytes. The fixup (fix_retry) copies from
; rsi byte by byte up to the faulting page and stops at exactly the first
; inaccessible byte with one fault in all (a second fault at the boundary
; would double the cost of an EFAULT: bench/README.md, FaultPathBench).
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
    uaccess usercopy4a, fix_rdx, movzx eax, byte [rsi]  ; load one byte; rdx = bytes left
    uaccess usercopy4b, fix_rdx, mov [rdi], al          ; store it
    inc rsi
    inc rdi
    dec edx
    jnz adaptive_bytes
adaptive_none:
    xor eax, eax
    ret
adaptive_qwords:                        ; 8..16: first and last qword, overlapping
    ; each of 5a..7h -> fix_retry, with rsi, rdi, rdx the whole copy
    uaccess usercopy5a, fix_retry, mov r8, [rsi]
    uaccess usercopy5b, fix_retry, mov r9, [rsi + rdx - 8]
    uaccess usercopy5c, fix_retry, mov [rdi], r8
    uaccess usercopy5d, fix_retry, mov [rdi + rdx - 8], r9
    xor eax, eax
    ret
adaptive_over16:
    cmp edx, 32
    ja adaptive_xmm4
    ; 17..32: first and last 16 bytes
    uaccess usercopy6a, fix_retry, movdqu xmm0, [rsi]
    uaccess usercopy6b, fix_retry, movdqu xmm1, [rsi + rdx - 16]
    uaccess usercopy6c, fix_retry, movdqu [rdi], xmm0
    uaccess usercopy6d, fix_retry, movdqu [rdi + rdx - 16], xmm1
    xor eax, eax
    ret
adaptive_xmm4:                          ; 33..64: first 32 and last 32 bytes
    uaccess usercopy7a, fix_retry, movdqu xmm0, [rsi]
    uaccess usercopy7b, fix_retry, movdqu xmm1, [rsi + 16]
    uaccess usercopy7c, fix_retry, movdqu xmm2, [rsi + rdx - 32]
    uaccess usercopy7d, fix_retry, movdqu xmm3, [rsi + rdx - 16]
    uaccess usercopy7e, fix_retry, movdqu [rdi], xmm0
    uaccess usercopy7f, fix_retry, movdqu [rdi + 16], xmm1
    uaccess usercopy7g, fix_retry, movdqu [rdi + rdx - 32], xmm2
    uaccess usercopy7h, fix_retry, movdqu [rdi + rdx - 16], xmm3
    xor eax, eax
    ret

adaptive_big:
    movzx eax, byte [cpu_features]
    test eax, FEAT_AVX2
    jz adaptive_rep
    cmp rdx, ADAPTIVE_VEC_MAX
    jb adaptive_vec
    mov rcx, rdi
    sub rcx, rsi
    dec ecx                     ; distance 0 wraps round to 4095 after the and
    and ecx, PAGE_SIZE - 1      ; (dst - src - 1) mod 4 KiB
    cmp ecx, ADAPTIVE_SLOW_DIST
    jae adaptive_rep            ; distance 0 or 64..4095: rep movsb
    cmp ecx, ADAPTIVE_FAST_DIST - 1
    je adaptive_rep             ; distance 32: rep movsb
adaptive_vec:
    ; 8a..8j -> fix_vec, with rsi, rdi, rdx what is left
    uaccess usercopy8a, fix_vec, vmovdqu ymm0, [rsi]
    uaccess usercopy8b, fix_vec, vmovdqu [rdi], ymm0
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
    uaccess usercopy8c, fix_vec, vmovdqu ymm0, [rsi]
    uaccess usercopy8d, fix_vec, vmovdqu ymm1, [rsi + 32]
    uaccess usercopy8e, fix_vec, vmovdqu [rdi], ymm0        ; 32-aligned: never splits a cache line
    uaccess usercopy8f, fix_vec, vmovdqu [rdi + 32], ymm1
    add rsi, 64
    add rdi, 64
    sub rdx, 64
    cmp rdx, 64
    ja adaptive_vloop
adaptive_vtail:                         ; the last 64 bytes, overlapping what is copied (n > 64)
    lea rsi, [rsi + rdx - 64]
    lea rdi, [rdi + rdx - 64]
    mov edx, 64
    uaccess usercopy8g, fix_vec, vmovdqu ymm0, [rsi]
    uaccess usercopy8h, fix_vec, vmovdqu ymm1, [rsi + 32]
    uaccess usercopy8i, fix_vec, vmovdqu [rdi], ymm0
    uaccess usercopy8j, fix_vec, vmovdqu [rdi + 32], ymm1
    vzeroupper
    xor eax, eax
    ret
adaptive_rep:
    test eax, FEAT_ERMS
    jz copy_from_user           ; no fast rep movsb: the aligned form, with its own labels
    cld
    mov rcx, rdx
    uaccess usercopy9, fix_rcx, rep movsb       ; rcx = bytes left
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
    uaccess usercopy9r, fix_retry_left, rep movsb   ; byte retry; rcx = bytes left before the fault
    mov rax, rdx
    ret

fix_retry_left:
    lea rax, [rcx + rdx]
    ret
