; string.S - the guest-memory string routines: strncpy_from_user and
; clear_user, with Linux's return values. Their faulting instructions are
; uaccess lines (see usercopy.inc).

%include "usercopy.inc"

section .text

global strncpy_from_user:function
global clear_user:function

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
    uaccess usercopy2, fix_efault, movzx ecx, byte [rsi + rax]  ; reads one guest byte
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
    uaccess usercopy3, fix_clear, rep stosb     ; stores zeros; rcx = bytes left
    mov rax, rcx
    ret

fix_clear:
    mov rax, rcx
    ret
