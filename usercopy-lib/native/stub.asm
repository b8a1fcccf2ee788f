; The guest stub: the program a guest process starts as, before the loader
; replaces its memory. A static ELF of one page, hand-made (nasm -f bin),
; loaded at STUB_BASE, far above any guest address. It asks to be traced and
; stops itself; from then on its tracer (dev.usercopy.proc) drives it. The
; bytes at STUB_BASE + INJECT_OFFSET are `syscall; int3`: the tracer points
; rip there to make a host syscall in the child and get control back.

BITS 64
%define STUB_BASE     0x7f0000000000
%define INJECT_OFFSET 0xc0
%define SYS_getpid    39
%define SYS_kill      62
%define SYS_ptrace    101
%define SYS_exit      60
%define PTRACE_TRACEME 0
%define SIGSTOP       19

        org STUB_BASE
ehdr:   db 0x7f, "ELF", 2, 1, 1, 0          ; 64-bit, little endian, SysV
        times 8 db 0
        dw 2                                ; ET_EXEC
        dw 0x3e                             ; EM_X86_64
        dd 1                                ; EV_CURRENT
        dq _start                           ; e_entry
        dq phdrs - ehdr                     ; e_phoff
        dq 0                                ; e_shoff
        dd 0                                ; e_flags
        dw 64, 56, 2, 0, 0, 0               ; ehsize, phentsize, phnum, shentsize, shnum, shstrndx
phdrs:  dd 1, 5                             ; PT_LOAD, PF_R|PF_X
        dq 0, STUB_BASE, STUB_BASE          ; offset, vaddr, paddr
        dq filesize, filesize, 0x1000       ; filesz, memsz, align
        dd 0x6474e551, 6                    ; PT_GNU_STACK, PF_R|PF_W: no executable stack
        dq 0, 0, 0, 0, 0, 16

        times INJECT_OFFSET - ($ - $$) db 0
inject: syscall                             ; the tracer's injected calls
        int3

_start: mov eax, SYS_ptrace
        mov edi, PTRACE_TRACEME
        xor esi, esi
        xor edx, edx
        xor r10d, r10d
        syscall
        test rax, rax
        jnz .fail                           ; not traceable: end now, the tracer sees the exit
        mov eax, SYS_getpid
        syscall
        mov edi, eax
        mov esi, SIGSTOP
        mov eax, SYS_kill
        syscall
.fail:  mov eax, SYS_exit                   ; reached only when no tracer took over
        mov edi, 127
        syscall
        hlt

filesize equ $ - $$
