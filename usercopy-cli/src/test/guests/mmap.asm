; mmap, munmap, mprotect and madvise sequences (mm/mmap.c, mm/mprotect.c, mm/madvise.c): the
; argument checks, fixed placement, holes, replacement, protection changes seen by the kernel's
; own copies, shared and private anonymous memory, a file mapped private and shared (argv[1]: a
; file of at least 5000 bytes, which must not change), code written then executed, and many
; small mappings. Fixed addresses are at 256 MiB, which nothing else uses.
%include "guest.inc"
%define X 0x10000000
%define MADV_DONTNEED 4
%define CLOCK_MONOTONIC 1
%define MAP_SHARED_VALIDATE 3

section .bss
timespec: resq 2

section .text
global _start
_start:
    keep_args
    sys SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0
    show "mmap(length 0)"
    sys SYS_mmap, 0, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0
    show "mmap(neither SHARED nor PRIVATE)"
    sys SYS_mmap, X + 1, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0
    show "mmap(FIXED at an unaligned address)"
    mov rsi, 1 << 47
    sys SYS_mmap, 0, rsi, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0
    show "mmap(length 1 << 47)"
    mov rsi, -PAGE
    sys SYS_mmap, 0, rsi, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0
    show "mmap(length -4096)"
    sys SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 4095
    show "mmap(offset 4095)"
    sys SYS_mmap, 0, PAGE, 0x100, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0
    showok "mmap(prot 0x100)"
    sys SYS_mmap, 0, PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x40000000, -1, 0
    show "mmap(SHARED_VALIDATE with an unknown flag)"
    mov rdi, 0xfffffffffffff000
    sys SYS_mmap, rdi, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0
    show "mmap(FIXED at 0xfffffffffffff000)"

    ; four pages at X
    sys SYS_mmap, X, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0
    show "mmap(X, 4 pages, FIXED_NOREPLACE)"
    mov rdi, X
    mov ecx, 4 * PAGE
    mov al, 'x'
    rep stosb
    sys SYS_mmap, X + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0
    show "mmap(X + 4096, FIXED_NOREPLACE) [taken]"
    sys SYS_munmap, X + PAGE, PAGE
    show "munmap(X + 4096)"
    sys SYS_write, 1, X + PAGE, 1
    show "write(stdout, X + 4096 [hole], 1)"
    sys SYS_mprotect, X, 3 * PAGE, PROT_READ
    show "mprotect(X, 3 pages) [across the hole]"
    sys SYS_mprotect, X + 1, PAGE, PROT_READ
    show "mprotect(X + 1)"
    sys SYS_mprotect, X, 0, PROT_READ
    show "mprotect(X, 0)"
    sys SYS_mprotect, X, PAGE, 0x100
    show "mprotect(X, prot 0x100)"
    sys SYS_munmap, X + 1, PAGE
    show "munmap(X + 1)"
    sys SYS_munmap, X, 0
    show "munmap(X, 0)"
    sys SYS_munmap, X + 64 * PAGE, PAGE
    show "munmap(X + 64 pages) [nothing there]"
    mov rdi, KERNEL_ADDR
    sys SYS_munmap, rdi, PAGE
    show "munmap(kernel address)"

    ; the kernel's own writes see protection changes
    sys SYS_mprotect, X + 2 * PAGE, PAGE, PROT_READ
    show "mprotect(X + 2 pages, READ)"
    sys SYS_clock_gettime, CLOCK_MONOTONIC, X + 2 * PAGE
    show "clock_gettime(into the read-only page)"
    movzx eax, byte [abs X + 2 * PAGE]
    shownum "  X[2 pages] still", rax
    sys SYS_mprotect, X + 2 * PAGE, PAGE, PROT_READ | PROT_WRITE
    show "mprotect(X + 2 pages, READ|WRITE)"
    sys SYS_clock_gettime, CLOCK_MONOTONIC, X + 2 * PAGE + 8
    show "clock_gettime(into it again)"
    sys SYS_mprotect, X + 3 * PAGE, PAGE, PROT_NONE
    show "mprotect(X + 3 pages, NONE)"
    sys SYS_clock_gettime, CLOCK_MONOTONIC, X + 3 * PAGE
    show "clock_gettime(into PROT_NONE)"
    sys SYS_mprotect, X + 3 * PAGE, PAGE, PROT_READ
    show "mprotect(X + 3 pages, READ)"
    movzx eax, byte [abs X + 3 * PAGE + 5]
    shownum "  X[3 pages + 5] kept through PROT_NONE", rax

    ; MAP_FIXED replaces: the old bytes go
    sys SYS_mmap, X, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0
    show "mmap(X, FIXED) [replacing]"
    movzx eax, byte [abs X]
    shownum "  X[0] after replacement", rax

    ; MADV_DONTNEED on private anonymous memory: zeros after
    mov byte [abs X + 100], 7
    sys SYS_madvise, X, PAGE, MADV_DONTNEED
    show "madvise(X, DONTNEED)"
    movzx eax, byte [abs X + 100]
    shownum "  X[100] after DONTNEED", rax
    sys SYS_madvise, X, PAGE, 12345
    show "madvise(X, advice 12345)"
    sys SYS_madvise, X + 1, PAGE, MADV_DONTNEED
    show "madvise(X + 1)"
    sys SYS_madvise, X + PAGE, PAGE, MADV_DONTNEED
    show "madvise(X + 4096 [hole], DONTNEED)"

    ; shared anonymous memory keeps its bytes through DONTNEED
    anon_map PAGE, PROT_READ | PROT_WRITE
    sys SYS_mmap, 0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0
    mov rbx, rax
    mov byte [rbx + 9], 9
    sys SYS_madvise, rbx, PAGE, MADV_DONTNEED
    show "madvise(shared anonymous, DONTNEED)"
    movzx eax, byte [rbx + 9]
    shownum "  shared[9] after DONTNEED", rax

    ; code written, then executed
    anon_map PAGE, PROT_READ | PROT_WRITE
    mov rbx, rax
    mov byte [rbx], 0xb8                    ; mov eax, imm32
    mov dword [rbx + 1], 1234
    mov byte [rbx + 5], 0xc3                ; ret
    sys SYS_mprotect, rbx, PAGE, PROT_READ | PROT_EXEC
    show "mprotect(code page, READ|EXEC)"
    call rbx
    shownum "  the written code returned", rax

    ; many single pages whose protections alternate: no two neighbours merge
    xor r12d, r12d
    sys SYS_mmap, X + 1024 * PAGE, 2000 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0
    show "mmap(X + 1024 pages, 2000 pages)"
    mov rbx, X + 1024 * PAGE
.many:
    mov byte [rbx], 1
    test r12, 1
    jz .next
    sys SYS_mprotect, rbx, PAGE, PROT_READ
    test rax, rax
    jnz .failed
.next:
    add rbx, PAGE
    inc r12
    cmp r12, 2000
    jb .many
    xor eax, eax
.failed:
    show "mprotect every other page of 2000"
    mov rdi, X + 1024 * PAGE
    mov rsi, 2000 * PAGE
    sys SYS_munmap, rdi, rsi
    show "munmap(the 2000 pages)"

    ; 64 MiB, every page touched
    mov rsi, 64 << 20
    sys SYS_mmap, 0, rsi, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0
    mov rbx, rax
    xor ecx, ecx
    xor r12d, r12d
.touch:
    add r12b, [rbx + rcx]
    mov byte [rbx + rcx], 3
    add rcx, PAGE
    cmp rcx, 64 << 20
    jb .touch
    movzx eax, r12b
    shownum "64 MiB touched, sum of what was there", rax
    mov rsi, 64 << 20
    sys SYS_munmap, rbx, rsi
    show "munmap(64 MiB)"

    ; files: a descriptor that is not open, then argv[1]
    sys SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, 99, 0
    show "mmap(fd 99)"
    mov edi, 1
    call argv_at
    test rax, rax
    jz .done
    mov rdi, rax
    sys SYS_open, rdi, O_RDONLY, 0
    mov r12, rax
    test rax, rax
    js .done
    sys SYS_mmap, 0, 3 * PAGE, PROT_READ, MAP_PRIVATE, r12, 0
    mov rbx, rax
    showok "mmap(file, PRIVATE, READ)"
    cmp rbx, -4095
    jae .done
    mov rdi, rbx
    mov esi, 5000
    call checksum
    shownum "file mapped private: checksum of its first 5000 bytes", rax
    sys SYS_mmap, 0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, r12, 0
    show "mmap(file opened O_RDONLY, SHARED, READ|WRITE)"
    sys SYS_mmap, 0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, r12, 0
    mov r13, rax
    showok "mmap(file, PRIVATE, READ|WRITE)"
    cmp r13, -4095
    jae .done
    mov byte [r13], 'p'
    movzx eax, byte [r13]
    shownum "file mapped private writable: [0] after a write", rax
    movzx eax, byte [rbx]
    shownum "  the other private mapping's [0]", rax
    sys SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, r12, 1
    show "mmap(file, offset 1)"
    sys SYS_close, r12
    show "close(file)"
    movzx eax, byte [rbx + 1]
    shownum "  mapping after close: [1]", rax
    sys SYS_open, dot, O_RDONLY | O_DIRECTORY, 0
    mov r12, rax
    sys SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, r12, 0
    show "mmap(a directory)"
    sys SYS_close, r12
.done:
    exit 0

section .rodata
dot: db '.', 0
