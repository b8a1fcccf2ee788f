; cpu.S - which CPU features the adaptive copy may use: detected once with
; CPUID when the library is loaded, narrowed by tests.

%include "usercopy.inc"

; CPUID bits (Intel SDM vol. 2A, CPUID; AMD APM vol. 3, appendix E).
%define CPUID1_ECX_OSXSAVE  27      ; leaf 1: the OS enabled XSAVE, so XGETBV works
%define CPUID1_ECX_AVX      28      ; leaf 1: AVX
%define CPUID7_EBX_AVX2     5       ; leaf 7 subleaf 0
%define CPUID7_EBX_ERMS     9       ; enhanced rep movsb/stosb
%define CPUID7_EDX_FSRM     4       ; fast short rep movsb
%define XCR0_SSE_AVX        6       ; XCR0 bits 1 and 2: the OS saves xmm and ymm state

section .text

global usercopy_cpu_features:function
global usercopy_set_cpu_features:function
global cpu_features:data hidden         ; read by copy.S's adaptive form

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

; The loader runs usercopy_detect_cpu when it maps the library.
section .init_array write align=8
    dq usercopy_detect_cpu

section .bss
cpu_detected:   resb 1          ; FEAT_* bits CPUID reported
cpu_features:   resb 1          ; the ones the adaptive form uses
