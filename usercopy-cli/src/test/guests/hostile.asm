; Wild pointers into every pointer argument of the syscalls a static program makes: NULL, 1,
; a kernel address, the stub's address, -1, the last user page, a non-canonical address and
; the top page; then structures and strings that cross into an unmapped page (Linux writes what
; fits before the fault), huge lengths, bad descriptors and unknown syscall numbers. Every call
; must come back with an errno (the process lives on). Reads stdin (a regular file).
; With argv[1] = "stub" it then attacks the stub's page and int 0x80 (guest-only expectations).
%include "guest.inc"
%define SIGUSR1 10
%define RLIMIT_NOFILE 7
%define ARCH_SET_FS 0x1002
%define ARCH_GET_FS 0x1003
%define TCGETS 0x5401
%define MADV_DONTNEED 4

section .rodata
pointers:
    dq 0, 1, KERNEL_ADDR, STUB_ADDR, -1, 0x7ffffffff000, 0x800000000000, 0xfffffffffffff000
POINTERS equ ($ - pointers) / 8
dot: db '.', 0
exe: db '/proc/self/exe', 0

section .bss
alignb 16
buf: resb 4096
brk0: resq 1

; try "label", syscall args...: the call with r12 as the wild pointer, printed `label(P) = r`
%macro try 2-8
    sys %{2:-1}
    push rax
    say %1, "("
    mov rdi, r12
    call print_hex
    say ") = "
    pop rdi
    call print_ok_or_errno
    call newline
%endmacro

; tryq "label", syscall args...: the same, without the pointer (one ASLR placed), and the
; result in full (these are counts)
%macro tryq 2-8
    sys %{2:-1}
    push rax
    say %1, " = "
    pop rdi
    call print_result
    call newline
%endmacro

section .text
global _start
_start:
    keep_args
    sys SYS_brk, 0
    mov [brk0], rax
    sys SYS_open, dot, O_RDONLY | O_DIRECTORY, 0
    mov r15, rax                            ; a directory for getdents64
    xor ebx, ebx
.each_pointer:
    mov r12, [pointers + rbx * 8]
    try "read(0, P, 16)", SYS_read, 0, r12, 16
    try "write(1, P, 16)", SYS_write, 1, r12, 16
    try "open(P)", SYS_open, r12, O_RDONLY, 0
    try "openat(AT_FDCWD, P)", SYS_openat, AT_FDCWD, r12, O_RDONLY, 0
    try "stat(P, buf)", SYS_stat, r12, buf
    try "stat(., P)", SYS_stat, dot, r12
    try "lstat(P, buf)", SYS_lstat, r12, buf
    try "fstat(0, P)", SYS_fstat, 0, r12
    try "newfstatat(AT_FDCWD, ., P)", SYS_newfstatat, AT_FDCWD, dot, r12, 0
    try "statx(AT_FDCWD, ., P)", SYS_statx, AT_FDCWD, dot, 0, 0x7ff, r12
    try "statx(AT_FDCWD, P, buf)", SYS_statx, AT_FDCWD, r12, 0, 0x7ff, buf
    try "access(P)", SYS_access, r12, 0
    try "faccessat(AT_FDCWD, P)", SYS_faccessat, AT_FDCWD, r12, 0
    try "uname(P)", SYS_uname, r12
    try "getcwd(P, 4096)", SYS_getcwd, r12, 4096
    try "readlink(P, buf)", SYS_readlink, r12, buf, 100
    try "readlink(/proc/self/exe, P)", SYS_readlink, exe, r12, 100
    try "chdir(P)", SYS_chdir, r12
    try "clock_gettime(MONOTONIC, P)", SYS_clock_gettime, 1, r12
    try "gettimeofday(P, NULL)", SYS_gettimeofday, r12, 0
    try "gettimeofday(NULL, P)", SYS_gettimeofday, 0, r12
    try "time(P)", SYS_time, r12
    try "nanosleep(P, NULL)", SYS_nanosleep, r12, 0
    try "getrandom(P, 16)", SYS_getrandom, r12, 16, 0
    try "rt_sigaction(SIGUSR1, P, NULL)", SYS_rt_sigaction, SIGUSR1, r12, 0, 8
    try "rt_sigaction(SIGUSR1, NULL, P)", SYS_rt_sigaction, SIGUSR1, 0, r12, 8
    try "rt_sigprocmask(SIG_BLOCK, P, NULL)", SYS_rt_sigprocmask, 0, r12, 0, 8
    try "rt_sigprocmask(SIG_BLOCK, NULL, P)", SYS_rt_sigprocmask, 0, 0, r12, 8
    try "prlimit64(0, NOFILE, NULL, P)", SYS_prlimit64, 0, RLIMIT_NOFILE, 0, r12
    try "prlimit64(0, NOFILE, P, NULL)", SYS_prlimit64, 0, RLIMIT_NOFILE, r12, 0
    try "getrlimit(NOFILE, P)", SYS_getrlimit, RLIMIT_NOFILE, r12
    try "sysinfo(P)", SYS_sysinfo, r12
    try "readv(0, P, 1)", SYS_readv, 0, r12, 1
    try "writev(1, P, 1)", SYS_writev, 1, r12, 1
    try "pread64(0, P, 16, 0)", SYS_pread64, 0, r12, 16, 0
    try "getdents64(dir, P, 4096)", SYS_getdents64, r15, r12, 4096
    try "arch_prctl(ARCH_GET_FS, P)", SYS_arch_prctl, ARCH_GET_FS, r12
    try "mkdir(P)", SYS_mkdir, r12, 0o755
    try "unlink(P)", SYS_unlink, r12
    try "rename(P, P)", SYS_rename, r12, r12
    try "symlink(P, P)", SYS_symlink, r12, r12
    try "chmod(P)", SYS_chmod, r12, 0o777
    mov r13, r12
    and r13, -PAGE
    try "mprotect(P & ~4095, 4096, RWX)", SYS_mprotect, r13, PAGE, 7
    try "madvise(P & ~4095, 4096, DONTNEED)", SYS_madvise, r13, PAGE, MADV_DONTNEED
    inc ebx
    cmp ebx, POINTERS
    jb .each_pointer

    ; arch_prctl(ARCH_SET_FS) with an address the process may not use as its fs base
    mov r12, KERNEL_ADDR
    try "arch_prctl(ARCH_SET_FS, P)", SYS_arch_prctl, ARCH_SET_FS, r12
    mov r12, 0x800000000000
    try "arch_prctl(ARCH_SET_FS, P)", SYS_arch_prctl, ARCH_SET_FS, r12
    sys SYS_brk, STUB_ADDR
    sub rax, [brk0]
    shownum "brk(0x7f0000000000) - brk(0)", rax

    call crossing
    call huge
    call bad_numbers

    mov edi, 1
    call argv_at
    test rax, rax
    jz .done
    mov rdi, rax
    lea rsi, [stub_word]
    call streq
    jne .done
    call stub_attack
.done:
    say "alive", 10
    exit 0

; Structures and strings that end in an unmapped page.
crossing:
    anon_map 2 * PAGE, PROT_READ | PROT_WRITE
    mov r13, rax
    lea rdi, [r13 + PAGE]
    sys SYS_munmap, rdi, PAGE
    lea r12, [r13 + PAGE - 8]
    mov qword [r12], -1
    tryq "stat(., P: 8 bytes before a hole)", SYS_stat, dot, r12
    mov rdi, r12
    mov esi, 8
    call checksum
    push rax
    sys SYS_stat, dot, buf
    lea rdi, [buf]
    mov esi, 8
    call checksum
    pop rcx
    cmp rax, rcx
    sete al
    movzx eax, al
    shownum "  its first 8 bytes are st_dev", rax
    mov qword [r12], -1
    tryq "clock_gettime(MONOTONIC, P: 8 bytes before a hole)", SYS_clock_gettime, 1, r12
    xor eax, eax
    cmp qword [r12], -1
    setne al
    shownum "  tv_sec written", rax
    lea r12, [r13 + PAGE - 100]
    mov qword [r12], 0
    tryq "uname(P: 100 bytes before a hole)", SYS_uname, r12
    lea rsi, [r12]
    mov edx, 5
    call put
    call newline
    ; a path with no NUL before the hole
    lea r12, [r13 + PAGE - 3]
    mov byte [r12], 'a'
    mov byte [r12 + 1], 'b'
    mov byte [r12 + 2], 'c'
    tryq "open(P: 'abc' and no NUL before a hole)", SYS_open, r12, O_RDONLY, 0
    tryq "mkdir(P: 'abc' and no NUL before a hole)", SYS_mkdir, r12, 0o755
    ; a path of 4096 bytes
    mov rdi, r13
    mov ecx, PAGE - 1
    mov al, 'a'
    rep stosb
    mov byte [r13 + PAGE - 1], 0
    mov r12, r13
    tryq "open(P: 4095 a's)", SYS_open, r12, O_RDONLY, 0
    mov byte [r13], 0
    tryq "open(P: empty)", SYS_open, r12, O_RDONLY, 0
    sys SYS_munmap, r13, PAGE
    ret

; Huge lengths from a page of dots followed by a hole: Linux refuses a count that runs past
; the end of user space (access_ok), else clamps it to MAX_RW_COUNT and copies up to the hole.
; The page is at 512 MiB, so that the same lengths do the same in a guest's smaller space.
huge:
    sys SYS_mmap, 0x20000000, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0
    mov r14, rax
    showok "mmap(512 MiB, 2 pages, FIXED_NOREPLACE)"
    lea rdi, [r14 + PAGE]
    sys SYS_munmap, rdi, PAGE
    mov rdi, r14
    mov ecx, PAGE
    mov al, '.'
    rep stosb
    mov byte [r14 + PAGE - 1], 10
    mov r12, 1 << 62
    tryq "write(1, page, 1 << 62)", SYS_write, 1, r14, r12
    tryq "read(0, page, 1 << 62)", SYS_read, 0, r14, r12
    mov r12, 1 << 32
    tryq "write(1, page, 1 << 32)", SYS_write, 1, r14, r12
    mov [iov], r14
    mov [iov + 8], r12
    tryq "writev(1, {page, 1 << 32}, 1)", SYS_writev, 1, iov, 1
    tryq "read(0, page, 1 << 32)", SYS_read, 0, r14, r12
    mov r12, -1
    mov [iov + 8], r12
    tryq "readv(0, {page, -1}, 1)", SYS_readv, 0, iov, 1
    tryq "writev(1, {page, -1}, 1)", SYS_writev, 1, iov, 1
    tryq "mmap(NULL, -1)", SYS_mmap, 0, r12, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0
    tryq "munmap(0x400000, -1)", SYS_munmap, 0x400000, r12
    tryq "mprotect(0x400000, -1)", SYS_mprotect, 0x400000, r12, PROT_READ
    tryq "madvise(0x400000, -1)", SYS_madvise, 0x400000, r12, MADV_DONTNEED
    sys SYS_getrandom, r14, -1, 0
    show "getrandom(page, -1)"
    sys SYS_getcwd, r14, -1
    show "getcwd(page, -1)"
    mov r12, 0
    tryq "getcwd(buf, 0)", SYS_getcwd, buf, 0
    tryq "getcwd(buf, 1)", SYS_getcwd, buf, 1
    tryq "readlink(/proc/self/exe, buf, 0)", SYS_readlink, exe, buf, 0
    tryq "readlink(/proc/self/exe, buf, -1)", SYS_readlink, exe, buf, -1
    ret

bad_numbers:
    mov r12, -1
    try "read(-1)", SYS_read, r12, buf, 1
    try "close(-1)", SYS_close, r12
    try "fstat(-1)", SYS_fstat, r12, buf
    try "dup(-1)", SYS_dup, r12
    try "dup2(1, -1)", SYS_dup2, 1, r12
    try "fcntl(-1, F_GETFL)", SYS_fcntl, r12, 3
    try "lseek(-1)", SYS_lseek, r12, 0, 0
    mov r12, 1 << 20
    try "dup2(1, 1 << 20)", SYS_dup2, 1, r12
    try "read(1 << 20)", SYS_read, r12, buf, 1
    mov r12, 0x7fffffff
    try "close(0x7fffffff)", SYS_close, r12
    try "fcntl(1, 12345)", SYS_fcntl, 1, 12345
    try "lseek(0, 0, whence 99)", SYS_lseek, 0, 0, 99
    try "lseek(0, -1, SEEK_SET)", SYS_lseek, 0, -1, 0
    try "lseek(1 [pipe], 0, SEEK_CUR)", SYS_lseek, 1, 0, 1
    try "ioctl(0 [file], TCGETS, buf)", SYS_ioctl, 0, TCGETS, buf
    try "ioctl(0, 0xdeadbeef, buf)", SYS_ioctl, 0, 0xdeadbeef, buf
    try "clock_gettime(clock 12345, buf)", SYS_clock_gettime, 12345, buf
    try "clock_gettime(clock -1, buf)", SYS_clock_gettime, -1, buf
    mov qword [buf], 0
    mov qword [buf + 8], 1000000000
    try "nanosleep({0, 1000000000})", SYS_nanosleep, buf, 0
    mov qword [buf], -1
    mov qword [buf + 8], 0
    try "nanosleep({-1, 0})", SYS_nanosleep, buf, 0
    try "getrandom(buf, 16, flags 0x100)", SYS_getrandom, buf, 16, 0x100
    try "rt_sigaction(SIGKILL, buf, NULL)", SYS_rt_sigaction, 9, buf, 0, 8
    try "rt_sigaction(65, NULL, NULL)", SYS_rt_sigaction, 65, 0, 0, 8
    try "rt_sigaction(SIGUSR1, NULL, NULL, sigsetsize 4)", SYS_rt_sigaction, SIGUSR1, 0, 0, 4
    try "rt_sigprocmask(how 99, buf, NULL)", SYS_rt_sigprocmask, 99, buf, 0, 8
    try "prlimit64(0, resource 99, NULL, buf)", SYS_prlimit64, 0, 99, 0, buf
    try "arch_prctl(0x9999, buf)", SYS_arch_prctl, 0x9999, buf
    mov r12, 999
    try "syscall 999", 999
    mov r12, -1
    try "syscall -1", -1
    mov r12, 0x40000027
    try "syscall 0x40000027 [x32 getpid]", 0x40000027
    mov r12, 0x80000000
    try "syscall 0x80000000", r12
    ret

; The stub's page, at the guest's own request: whatever each call answers, the process must
; go on making syscalls afterwards (not comparable with Linux, where nothing is there).
stub_attack:
    mov r12, STUB_ADDR
    try "mprotect(stub, RWX)", SYS_mprotect, r12, PAGE, 7
    try "madvise(stub, DONTNEED)", SYS_madvise, r12, PAGE, MADV_DONTNEED
    try "munmap(stub)", SYS_munmap, r12, PAGE
    try "mmap(stub, FIXED)", SYS_mmap, r12, PAGE, 7, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0
    sys SYS_getppid
    xor ecx, ecx
    test rax, rax
    setns cl
    shownum "getppid works after", rcx
    ; int 0x80 from a 64-bit program: i386 getpid (20)
    mov eax, 20
    int 0x80
    xor ecx, ecx
    test eax, eax
    setg cl
    shownum "int 0x80 getpid > 0", rcx
    ret

section .rodata
stub_word: db 'stub', 0
section .bss
iov: resq 2
