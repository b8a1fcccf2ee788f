; The program break (mm/mmap.c's brk): where it starts, growth, shrink within a page (the page
; and its bytes stay) and across pages (they go: regrowth reads zeros), the refusals (below the
; start, far too high, into the page before another mapping). Offsets from the initial break
; only, since Linux randomises where it starts. With argv[1] = "touch" it ends by touching the
; page just above a shrunk break: SIGSEGV.
%include "guest.inc"
extern _end

section .text
global _start
_start:
    keep_args
    sys SYS_brk, 0
    mov rbx, rax                            ; b0
    mov rax, rbx
    and rax, PAGE - 1
    shownum "brk(0) % 4096", rax
    lea rcx, [_end]
    xor eax, eax
    cmp rbx, rcx
    setae al
    shownum "brk(0) >= _end", rax

    lea rdi, [rbx + 3 * PAGE + 100]
    sys SYS_brk, rdi
    sub rax, rbx
    shownum "brk(b0 + 3*4096 + 100) - b0", rax
    ; fill the new memory, including the rest of its last page
    mov rdi, rbx
    mov ecx, 4 * PAGE
    mov al, 0x5a
    rep stosb
    mov byte [rbx + PAGE + 500], 'k'
    mov byte [rbx + PAGE + 20], 'j'
    movzx eax, byte [rbx + 4 * PAGE - 1]
    shownum "byte at b0 + 4*4096 - 1", rax

    lea rdi, [rbx + PAGE + 10]
    sys SYS_brk, rdi
    sub rax, rbx
    shownum "brk(b0 + 4096 + 10) - b0 [shrink]", rax
    movzx eax, byte [rbx + PAGE + 20]
    shownum "byte at b0 + 4096 + 20 [above the break, same page]", rax

    lea rdi, [rbx + 3 * PAGE + 100]
    sys SYS_brk, rdi
    sub rax, rbx
    shownum "brk(b0 + 3*4096 + 100) - b0 [regrow]", rax
    movzx eax, byte [rbx + PAGE + 500]
    shownum "byte at b0 + 4096 + 500 [kept page]", rax
    movzx eax, byte [rbx + PAGE + 20]
    shownum "byte at b0 + 4096 + 20 [kept page]", rax
    mov rdi, rbx
    add rdi, 2 * PAGE
    mov esi, 2 * PAGE
    call checksum
    shownum "checksum of b0 + 2*4096 .. + 4*4096 [regrown: zeros]", rax

    lea rdi, [rbx - PAGE]
    sys SYS_brk, rdi
    sub rax, rbx
    shownum "brk(b0 - 4096) - b0 [below the start: refused]", rax
    mov rdi, 1 << 46
    sys SYS_brk, rdi
    sub rax, rbx
    shownum "brk(1 << 46) - b0 [refused]", rax
    mov rdi, -1
    sys SYS_brk, rdi
    sub rax, rbx
    shownum "brk(-1) - b0 [refused]", rax

    ; another mapping 16 pages above b0: the break may grow to one page below it, no further
    lea r12, [rbx + 16 * PAGE]
    sys SYS_mmap, r12, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0
    sub rax, r12
    shownum "mmap(b0 + 16*4096, FIXED_NOREPLACE) - (b0 + 16*4096)", rax
    lea rdi, [rbx + 15 * PAGE + 1]
    sys SYS_brk, rdi
    sub rax, rbx
    shownum "brk(b0 + 15*4096 + 1) - b0 [refused: no page between]", rax
    lea rdi, [rbx + 15 * PAGE]
    sys SYS_brk, rdi
    sub rax, rbx
    shownum "brk(b0 + 15*4096) - b0", rax
    mov byte [rbx + 15 * PAGE - 1], 1
    sys SYS_munmap, r12, PAGE
    show "munmap(b0 + 16*4096)"
    lea rdi, [rbx + 40 * PAGE]
    sys SYS_brk, rdi
    sub rax, rbx
    shownum "brk(b0 + 40*4096) - b0", rax
    mov byte [rbx + 40 * PAGE - 1], 1

    mov rdi, rbx
    sys SYS_brk, rdi
    sub rax, rbx
    shownum "brk(b0) - b0", rax

    mov edi, 1
    call argv_at
    test rax, rax
    jz .done
    mov rdi, rax
    lea rsi, [touch]
    call streq
    jne .done
    say "touching b0 + 10", 10
    mov byte [rbx + 10], 1
    say "still alive", 10
.done:
    exit 0

section .rodata
touch: db 'touch', 0
