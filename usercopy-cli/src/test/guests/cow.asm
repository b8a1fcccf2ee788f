; The binary's own pages are private file mappings (copy-on-write of the file): writes to .data
; by the program and by the kernel (read(2) into a page never touched), .bss zeros, madvise
; MADV_DONTNEED bringing back the file's bytes, mprotect of .data to read-only, and the text
; made writable and patched (self-modifying code). The harness checks that the file on disk
; has not changed. Reads 16 bytes from stdin.
%include "guest.inc"
%define MADV_DONTNEED 4

section .data align=4096
page1: times PAGE db 'D'
page2: times PAGE db 'E'
page3: times 100 db 'F'

; In the file's last .data page: the bytes after .data there are the symbol table's, and the
; loader must zero them.
section .bss
bss_words: resq 512

section .text align=4096
global _start
_start:
    keep_args
    movzx eax, byte [page1 + 7]
    shownum "page1[7] from the file", rax
    mov byte [page1 + 7], 'd'
    movzx eax, byte [page1 + 7]
    shownum "page1[7] after the guest's write", rax

    sys SYS_read, 0, page2 + 100, 16
    show "read(stdin, page2 + 100, 16) [page never touched]"
    lea rdi, [page2]
    mov esi, PAGE
    call checksum
    shownum "  page2 checksum", rax
    movzx eax, byte [page2 + 99]
    shownum "  page2[99]", rax

    lea rdi, [bss_words]
    mov esi, 512 * 8
    call checksum
    shownum ".bss checksum [zeros]", rax

    sys SYS_madvise, page1, PAGE, MADV_DONTNEED
    show "madvise(page1, DONTNEED)"
    movzx eax, byte [page1 + 7]
    shownum "page1[7] after DONTNEED [the file's again]", rax

    sys SYS_mprotect, page2, PAGE, PROT_READ
    show "mprotect(page2, READ)"
    sys SYS_read, 0, page2, 4
    show "read(stdin, read-only .data, 4)"
    sys SYS_mprotect, page2, PAGE, PROT_READ | PROT_WRITE
    show "mprotect(page2, READ|WRITE)"
    movzx eax, byte [page2 + 100]
    shownum "  page2[100] kept", rax

    call patched
    shownum "patched() before", rax
    lea rdi, [patched]
    and rdi, -PAGE
    sys SYS_mprotect, rdi, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC
    show "mprotect(text page, RWX)"
    mov dword [patched + 1], 42
    call patched
    shownum "patched() after writing its immediate", rax
    lea rdi, [patched]
    and rdi, -PAGE
    sys SYS_mprotect, rdi, PAGE, PROT_READ | PROT_EXEC
    show "mprotect(text page, RX)"
    call patched
    shownum "patched() after RX again", rax
    exit 0

patched:
    mov eax, 7                              ; b8 imm32: the immediate is at patched + 1
    ret
