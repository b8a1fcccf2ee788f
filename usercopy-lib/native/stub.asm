; The guest stub: the program a guest process starts as, before the loader
; replaces its memory. A static ELF of one page, hand-made (nasm -f bin),
; loaded at STUB_BASE, far above any guest address. It asks to die with the
; thread that spawned it (argv[1] names that thread's process: a stub whose
; spawner is already gone ends at once), asks to be traced and stops itself; from then on its tracer (dev.usercopy.proc) drives it. The
; bytes at STUB_BASE + INJECT_OFFSET are `syscall; int3`: the tracer points
; rip there to make a host syscall in the child and get control back.
;
; Before it stops it installs a seccomp filter: the guest's own syscalls never
; reach it (PTRACE_SYSEMU stops them before the host would run them, and
; before seccomp), so it limits only what the tracer injects, and what the
; host kernel runs for a call into [vsyscall]: mmap, mprotect, munmap,
; prlimit64, the stub's own getpid, kill and exit, and the three vsyscalls.
; Anything else kills the process: a bug in the tracer cannot become a guest's
; open() on the host.

BITS 64
%define STUB_BASE     0x7f0000000000
%define INJECT_OFFSET 0xc0
%define SYS_getpid    39
%define SYS_kill      62
%define SYS_ptrace    101
%define SYS_exit      60
%define PTRACE_TRACEME 0
%define SIGSTOP       19
%define SYS_prctl     157
%define SYS_getppid   110
%define PR_SET_PDEATHSIG 1
%define SIGKILL       9
%define SYS_seccomp   317
%define PR_SET_NO_NEW_PRIVS 38
%define SECCOMP_SET_MODE_FILTER 1
%define AUDIT_ARCH_X86_64 0xc000003e
%define RET_KILL_PROCESS 0x80000000
%define RET_ALLOW     0x7fff0000

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

; Until the tracer has set PTRACE_O_EXITKILL, only the parent-death signal
; ends a stub whose JVM was killed: without it such a stub stays stopped for
; good, reparented, with no tracer.
_start: mov rsi, [rsp + 16]                 ; argv[1]: the spawner's pid, in decimal
        test rsi, rsi
        jz .fail
        xor ebx, ebx
.digit: movzx eax, byte [rsi]
        sub eax, '0'
        cmp eax, 9
        ja .parsed                          ; the NUL, or anything not a digit
        imul ebx, ebx, 10
        add ebx, eax
        inc rsi
        jmp .digit
.parsed:
        mov eax, SYS_prctl
        mov edi, PR_SET_PDEATHSIG
        mov esi, SIGKILL
        xor edx, edx
        xor r10d, r10d
        xor r8d, r8d
        syscall
        test rax, rax
        jnz .fail
        mov eax, SYS_getppid                ; the spawner died before the prctl: no signal will come
        syscall
        cmp eax, ebx
        jne .fail
        mov eax, SYS_ptrace
        mov edi, PTRACE_TRACEME
        xor esi, esi
        xor edx, edx
        xor r10d, r10d
        syscall
        test rax, rax
        jnz .fail                           ; not traceable: end now, the tracer sees the exit
        mov eax, SYS_prctl
        mov edi, PR_SET_NO_NEW_PRIVS
        mov esi, 1
        xor edx, edx
        xor r10d, r10d
        xor r8d, r8d
        syscall
        test rax, rax
        jnz .fail
        mov eax, SYS_seccomp
        mov edi, SECCOMP_SET_MODE_FILTER
        xor esi, esi
        mov rdx, fprog
        syscall
        test rax, rax
        jnz .fail
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

; The filter (classic BPF over struct seccomp_data: nr at 0, arch at 4).
%define ALLOWED 11
%macro allow 2                              ; index among the allowed, syscall number
        dw 0x15                             ; BPF_JMP|BPF_JEQ|BPF_K
        db ALLOWED - %1, 0                  ; equal: on to RET_ALLOW
        dd %2
%endmacro
        align 8
fprog:  dw (filter_end - filter) / 8
        times 6 db 0
        dq filter
filter: dw 0x20                             ; BPF_LD|BPF_W|BPF_ABS: arch
        db 0, 0
        dd 4
        dw 0x15                             ; not x86-64 (an x32 or i386 call): kill
        db 1, 0
        dd AUDIT_ARCH_X86_64
        dw 0x06
        db 0, 0
        dd RET_KILL_PROCESS
        dw 0x20                             ; the syscall number
        db 0, 0
        dd 0
        allow 0, 9                          ; mmap
        allow 1, 10                         ; mprotect
        allow 2, 11                         ; munmap
        allow 3, 302                        ; prlimit64
        allow 4, 39                         ; getpid
        allow 5, 62                         ; kill
        allow 6, 60                         ; exit
        allow 7, 231                        ; exit_group
        allow 8, 96                         ; gettimeofday ([vsyscall])
        allow 9, 201                        ; time ([vsyscall])
        allow 10, 309                       ; getcpu ([vsyscall])
        dw 0x06
        db 0, 0
        dd RET_KILL_PROCESS
        dw 0x06
        db 0, 0
        dd RET_ALLOW
filter_end:

filesize equ $ - $$
