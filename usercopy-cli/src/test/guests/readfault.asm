; read(2) into buffers the kernel cannot fully write: crossing into an unmapped page (touched
; first or not), into a read-only page, NULL, PROT_NONE, kernel and stub addresses, the binary's
; text, .data and .bss; then readv with a bad iovec and pread. Run with stdin a regular file
; (Linux returns the short count copied) and a pipe (Linux returns EFAULT when nothing was
; copied and leaves the bytes in the pipe: the later reads and the final checksum show where
; the stream stands).
%include "guest.inc"

section .data
data_buf: db 'the binary', 39, 's own .data, 32 bytes', 0
align 16
iov: dq 0, 10, 0, 10, 0, 10

section .bss
bss_buf: resb 64
alignb 4096
good: resb 65536

section .text
global _start
_start:
    keep_args
    ; One-page mappings before the holes, so no later mapping fills a hole.
    anon_map PAGE, PROT_READ
    mov [ro], rax
    anon_map PAGE, PROT_NONE
    mov [none], rax
    anon_map 2 * PAGE, PROT_READ | PROT_WRITE
    mov [a], rax
    mov byte [rax], 1                       ; a's first page present, touched by the guest
    anon_map 2 * PAGE, PROT_READ | PROT_WRITE
    mov [b], rax                            ; b's first page never touched before the read
    anon_map 2 * PAGE, PROT_READ | PROT_WRITE
    mov [c], rax
    mov rdi, [a]
    add rdi, PAGE
    sys SYS_munmap, rdi, PAGE
    show "munmap(a + 4096)"
    mov rdi, [b]
    add rdi, PAGE
    sys SYS_munmap, rdi, PAGE
    show "munmap(b + 4096)"
    mov rdi, [c]
    add rdi, PAGE
    sys SYS_mprotect, rdi, PAGE, PROT_READ
    show "mprotect(c + 4096, READ)"

    ; Blocks until the writer's bytes are there, so a pipe holds them all from here on.
    sys SYS_read, 0, good, 1
    show "read(good, 1)"

    mov rbx, [a]
    add rbx, PAGE - 100
    sys SYS_read, 0, rbx, 8192
    show "read(a + 4096 - 100, 8192) [touched, then unmapped]"
    mov rdi, rbx
    mov esi, 100
    call checksum
    shownum "  the 100 bytes", rax

    mov rbx, [b]
    add rbx, PAGE - 100
    sys SYS_read, 0, rbx, 8192
    show "read(b + 4096 - 100, 8192) [untouched, then unmapped]"
    mov rdi, rbx
    mov esi, 100
    call checksum
    shownum "  the 100 bytes", rax

    mov rbx, [c]
    add rbx, PAGE - 300
    sys SYS_read, 0, rbx, 8192
    show "read(c + 4096 - 300, 8192) [then read-only]"
    mov rdi, rbx
    mov esi, 300
    call checksum
    shownum "  the 300 bytes", rax

    sys SYS_read, 0, 0, 10
    show "read(NULL, 10)"
    sys SYS_read, 0, 0, 0
    show "read(NULL, 0)"
    sys SYS_read, 0, [ro], 10
    show "read(read-only page, 10)"
    sys SYS_read, 0, [none], 10
    show "read(PROT_NONE page, 10)"
    mov rbx, KERNEL_ADDR
    sys SYS_read, 0, rbx, 10
    show "read(kernel address, 10)"
    mov rbx, STUB_ADDR
    sys SYS_read, 0, rbx, 10
    show "read(0x7f0000000000, 10)"
    lea rbx, [_start]
    sys SYS_read, 0, rbx, 10
    show "read(own text, 10)"
    mov rbx, -1
    sys SYS_read, 0, good, rbx
    show "read(good, SIZE_MAX)"

    sys SYS_read, 0, data_buf, 16
    show "read(own .data, 16)"
    lea rdi, [data_buf]
    mov esi, 32
    call checksum
    shownum "  .data checksum", rax
    sys SYS_read, 0, bss_buf, 16
    show "read(.bss, 16)"
    lea rdi, [bss_buf]
    mov esi, 64
    call checksum
    shownum "  .bss checksum", rax

    mov rbx, [a]
    sys SYS_read, 0, rbx, PAGE
    show "read(a, 4096) [exactly the mapped page]"
    mov rdi, rbx
    mov esi, PAGE
    call checksum
    shownum "  checksum", rax

    ; readv: the second iovec is NULL
    lea rax, [good]
    mov [iov], rax
    add rax, 10
    mov [iov + 32], rax
    sys SYS_readv, 0, iov, 3
    show "readv({good, 10}, {NULL, 10}, {good + 10, 10})"
    lea rdi, [good]
    mov esi, 20
    call checksum
    shownum "  checksum", rax
    sys SYS_readv, 0, 0, 1
    show "readv(iov NULL)"
    sys SYS_readv, 0, iov, -1
    show "readv(iovcnt -1)"
    sys SYS_readv, 0, iov, 1025
    show "readv(iovcnt 1025)"
    mov qword [iov + 16], 0
    mov qword [iov + 24], 0
    sys SYS_readv, 0, iov, 0
    show "readv(iovcnt 0)"

    sys SYS_pread64, 0, good, 10, 5
    show "pread64(good, 10, 5)"
    sys SYS_pread64, 0, good, 10, -1
    show "pread64(good, 10, -1)"

    ; the rest of the stream, so that where each read left it shows
    xor r12d, r12d                          ; total
    xor r13d, r13d                          ; checksum of checksums
.drain:
    sys SYS_read, 0, good, 65536
    test rax, rax
    jle .drained
    add r12, rax
    lea rdi, [good]
    mov rsi, rax
    call checksum
    imul r13, r13, 131
    add r13, rax
    jmp .drain
.drained:
    show "last read"
    shownum "rest", r12
    shownum "rest checksum", r13
    exit 0

section .bss
ro: resq 1
none: resq 1
a: resq 1
b: resq 1
c: resq 1
