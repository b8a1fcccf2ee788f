; The read-only file syscalls of a static program, in folder argv[1] (the harness makes it: a
; file "ten" holding 0123456789, a folder "sub", a symlink "link" -> ten): open and its flags,
; fstat/stat/lstat/newfstatat/statx fields that do not depend on the host's inode numbers or
; times, lseek's whences and errors, pread, getdents64 (names in the host's order; a buffer too
; small for one entry), dup/dup2/dup3/fcntl, ioctl on a file, readlink, getcwd and chdir,
; access, close twice, readlink of /proc/self/exe (not when there is an argv[2]: a chroot has
; no /proc); then the process itself: uname, getrandom, clocks, nanosleep.
%include "guest.inc"
%define SYS_dup3 292
%define SYS_getdents64 217
%define F_GETFD 1
%define F_SETFD 2
%define F_GETFL 3
%define F_DUPFD 0
%define F_DUPFD_CLOEXEC 1030
%define SEEK_SET 0
%define SEEK_CUR 1
%define SEEK_END 2
%define SEEK_DATA 3
%define SEEK_HOLE 4
%define O_CLOEXEC 0x80000
%define O_NOFOLLOW 0x20000
%define O_PATH 0x200000
%define AT_SYMLINK_NOFOLLOW 0x100
%define AT_EMPTY_PATH 0x1000
%define TCGETS 0x5401

section .rodata
ten: db 'ten', 0
sub: db 'sub', 0
link: db 'link', 0
missing: db 'missing', 0
ten_slash: db 'ten/', 0
dotdot: db '..', 0
empty: db 0
proc_self_exe: db '/proc/self/exe', 0

section .bss
alignb 16
st: resb 256
buf: resb 8192
ts: resq 4

section .text
global _start
_start:
    keep_args
    mov edi, 1
    call argv_at
    sys SYS_chdir, rax
    show "chdir(argv[1])"

    sys SYS_open, ten, O_RDONLY | O_CLOEXEC, 0
    mov rbx, rax
    show "open(ten, O_RDONLY|O_CLOEXEC)"
    sys SYS_fcntl, rbx, F_GETFD
    show "fcntl(F_GETFD)"
    sys SYS_fcntl, rbx, F_GETFL
    show "fcntl(F_GETFL)"
    sys SYS_fcntl, rbx, F_SETFD, 0
    show "fcntl(F_SETFD, 0)"
    sys SYS_fcntl, rbx, F_GETFD
    show "fcntl(F_GETFD)"
    sys SYS_fstat, rbx, st
    show "fstat(ten)"
    call print_stat
    sys SYS_read, rbx, buf, 4
    show "read(ten, 4)"
    sys SYS_lseek, rbx, 0, SEEK_CUR
    show "lseek(0, SEEK_CUR)"
    sys SYS_lseek, rbx, -2, SEEK_END
    show "lseek(-2, SEEK_END)"
    sys SYS_read, rbx, buf, 100
    show "read(ten, 100)"
    lea rsi, [buf]
    mov edx, 2
    call put
    call newline
    sys SYS_read, rbx, buf, 100
    show "read(ten, 100) at the end"
    sys SYS_lseek, rbx, 100, SEEK_SET
    show "lseek(100, SEEK_SET)"
    sys SYS_read, rbx, buf, 100
    show "read(ten, 100) past the end"
    sys SYS_lseek, rbx, -1, SEEK_SET
    show "lseek(-1, SEEK_SET)"
    sys SYS_lseek, rbx, 0, SEEK_DATA
    show "lseek(0, SEEK_DATA)"
    sys SYS_lseek, rbx, 0, SEEK_HOLE
    show "lseek(0, SEEK_HOLE)"
    sys SYS_lseek, rbx, 11, SEEK_DATA
    show "lseek(11, SEEK_DATA)"
    sys SYS_pread64, rbx, buf, 3, 6
    show "pread64(3, 6)"
    lea rsi, [buf]
    mov edx, 3
    call put
    call newline
    sys SYS_lseek, rbx, 0, SEEK_CUR
    show "lseek(0, SEEK_CUR) after pread"
    sys SYS_write, rbx, buf, 1
    show "write(ten opened O_RDONLY)"
    sys SYS_ioctl, rbx, TCGETS, buf
    show "ioctl(ten, TCGETS)"

    sys SYS_dup, rbx
    mov r12, rax
    show "dup(ten)"
    sys SYS_lseek, r12, 0, SEEK_CUR
    show "lseek(dup, 0, SEEK_CUR) [shared offset]"
    sys SYS_dup2, rbx, 20
    show "dup2(ten, 20)"
    sys SYS_dup2, rbx, rbx
    show "dup2(ten, ten)"
    sys SYS_dup3, rbx, rbx, 0
    show "dup3(ten, ten)"
    sys SYS_dup3, rbx, 21, O_CLOEXEC
    show "dup3(ten, 21, O_CLOEXEC)"
    sys SYS_fcntl, 21, F_GETFD
    show "fcntl(21, F_GETFD)"
    sys SYS_dup3, rbx, 22, 1
    show "dup3(ten, 22, bad flags)"
    sys SYS_fcntl, rbx, F_DUPFD, 30
    show "fcntl(ten, F_DUPFD, 30)"
    sys SYS_fcntl, rbx, F_DUPFD_CLOEXEC, 30
    show "fcntl(ten, F_DUPFD_CLOEXEC, 30)"
    sys SYS_close, 20
    show "close(20)"
    sys SYS_close, 20
    show "close(20) again"
    sys SYS_close, r12
    sys SYS_close, rbx
    show "close(ten)"
    sys SYS_read, rbx, buf, 1
    show "read(closed)"

    sys SYS_open, missing, O_RDONLY, 0
    show "open(missing)"
    sys SYS_open, ten_slash, O_RDONLY, 0
    show "open(ten/)"
    sys SYS_open, sub, O_RDONLY, 0
    mov rbx, rax
    show "open(sub)"
    sys SYS_read, rbx, buf, 10
    show "read(sub)"
    sys SYS_close, rbx
    sys SYS_open, ten, O_RDONLY | O_DIRECTORY, 0
    show "open(ten, O_DIRECTORY)"
    sys SYS_open, link, O_RDONLY | O_NOFOLLOW, 0
    show "open(link, O_NOFOLLOW)"
    sys SYS_open, link, O_PATH | O_NOFOLLOW, 0
    mov rbx, rax
    showok "open(link, O_PATH|O_NOFOLLOW)"
    sys SYS_newfstatat, rbx, empty, st, AT_EMPTY_PATH
    show "newfstatat(that, empty path, AT_EMPTY_PATH)"
    call print_stat
    sys SYS_close, rbx

    sys SYS_stat, link, st
    show "stat(link)"
    call print_stat
    sys SYS_lstat, link, st
    show "lstat(link)"
    call print_stat
    sys SYS_newfstatat, AT_FDCWD, sub, st, 0
    show "newfstatat(sub)"
    call print_stat
    sys SYS_newfstatat, AT_FDCWD, link, st, 0x1234
    show "newfstatat(link, bad flags)"
    sys SYS_statx, AT_FDCWD, link, AT_SYMLINK_NOFOLLOW, 0x7ff, st
    show "statx(link, AT_SYMLINK_NOFOLLOW)"
    mov eax, [st + 0x1c]                    ; stx_mode (u16) and padding
    movzx eax, ax
    shownum "  stx_mode", rax
    mov rax, [st + 0x28]
    shownum "  stx_size", rax
    mov eax, [st + 0x10]
    shownum "  stx_nlink", rax

    sys SYS_readlink, link, buf, 100
    show "readlink(link)"
    lea rsi, [buf]
    mov edx, 3
    call put
    call newline
    sys SYS_readlink, link, buf, 2
    show "readlink(link, 2 bytes)"
    sys SYS_readlink, ten, buf, 100
    show "readlink(ten)"
    sys SYS_access, ten, 4
    show "access(ten, R_OK)"
    sys SYS_access, missing, 0
    show "access(missing)"
    sys SYS_access, ten, 0x80
    show "access(ten, bad mode)"

    ; getdents64: every name, in the host's order
    sys SYS_open, sub, O_RDONLY | O_DIRECTORY, 0
    sys SYS_close, rax
    sys SYS_open, dotdot, O_RDONLY | O_DIRECTORY, 0
    mov rbx, rax
    sys SYS_getdents64, rbx, buf, 10
    show "getdents64(.., 10 bytes)"
    sys SYS_getdents64, rbx, buf, 8192
    mov r12, rax
    show "getdents64(.., 8192)"
    xor r13d, r13d
.dirent:
    cmp r13, r12
    jae .dirents_done
    movzx r14d, word [buf + r13 + 16]       ; d_reclen
    say "  "
    movzx edi, byte [buf + r13 + 18]        ; d_type
    call print_dec
    say " "
    lea rdi, [buf + r13 + 19]
    call put_cstr
    call newline
    add r13, r14
    jmp .dirent
.dirents_done:
    sys SYS_getdents64, rbx, buf, 8192
    show "getdents64(..) at the end"
    sys SYS_close, rbx

    sys SYS_getcwd, buf, 4096
    show "getcwd"
    lea rdi, [buf]
    call put_cstr
    call newline
    sys SYS_chdir, ten
    show "chdir(ten)"
    sys SYS_chdir, dotdot
    show "chdir(..)"
    sys SYS_getcwd, buf, 4096
    lea rdi, [buf]
    call put_cstr
    call newline

    mov edi, 2                              ; argv[2]: no /proc (a chroot has none)
    call argv_at
    test rax, rax
    jnz .no_proc
    sys SYS_readlink, proc_self_exe, buf, 4096
    mov r12, rax
    show "readlink(/proc/self/exe)"
    mov byte [buf + r12], 0
    lea rdi, [buf]
    call put_cstr
    call newline
.no_proc:

    ; the process: uname, randomness, clocks
    sys SYS_uname, buf
    show "uname"
    lea rdi, [buf]
    call put_cstr
    call newline
    lea rdi, [buf + 65 * 4]
    call put_cstr                           ; machine
    call newline
    sys SYS_getrandom, buf, 32, 0
    show "getrandom(32)"
    sys SYS_getrandom, buf, 32, 1           ; GRND_NONBLOCK
    show "getrandom(32, GRND_NONBLOCK)"
    sys SYS_clock_gettime, 1, ts
    show "clock_gettime(MONOTONIC)"
    mov qword [ts + 16], 0
    mov qword [ts + 24], 20000000
    sys SYS_nanosleep, ts + 16, 0
    show "nanosleep(20 ms)"
    sys SYS_clock_gettime, 1, ts + 16
    mov rax, [ts + 16]
    sub rax, [ts]
    imul rax, rax, 1000000000
    add rax, [ts + 24]
    sub rax, [ts + 8]
    xor ecx, ecx
    cmp rax, 20000000
    setae cl
    shownum "  slept at least 20 ms", rcx
    sys SYS_clock_gettime, 0, ts
    sys SYS_time, 0
    sub rax, [ts]
    xor ecx, ecx
    cmp rax, 2
    setb cl
    shownum "time() agrees with CLOCK_REALTIME", rcx
    exit 0

; print_stat: the fields of struct stat at st that do not depend on the host's inode or times
print_stat:
    say "  st_mode = "
    mov edi, [st + 24]
    call print_dec
    say ", st_nlink = "
    mov rdi, [st + 16]
    call print_dec
    say ", st_size = "
    mov rdi, [st + 48]
    call print_dec
    say ", st_uid = "
    mov edi, [st + 28]
    call print_dec
    call newline
    ret
