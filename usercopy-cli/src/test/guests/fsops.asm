; In folder argv[1]: every way a program changes files, each result printed. Expects there a
; file "file.txt" (10 bytes) and a folder "sub"; makes "new", "newdir", "newlink", "renamed".
; Outside `usercopy exec --rw` each change must be refused (EROFS or EACCES) and the host left
; as it was; beneath --rw the results are Linux's.
%include "guest.inc"
%define SYS_truncate 76

section .rodata
file: db 'file.txt', 0
new: db 'new', 0
newdir: db 'newdir', 0
newlink: db 'newlink', 0
renamed: db 'renamed', 0
sub: db 'sub', 0
target: db 'file.txt', 0
x: db 'x'

section .text
global _start
_start:
    keep_args
    mov edi, 1
    call argv_at
    sys SYS_chdir, rax
    show "chdir"
    sys SYS_open, file, O_RDONLY, 0
    mov rbx, rax
    show "open(file.txt, O_RDONLY)"
    sys SYS_write, rbx, x, 1
    show "write(read-only fd)"
    sys SYS_ftruncate, rbx, 0
    show "ftruncate(read-only fd)"
    sys SYS_close, rbx

    sys SYS_open, file, O_RDONLY | O_TRUNC, 0
    showok "open(file.txt, O_RDONLY|O_TRUNC)"
    sys SYS_open, file, O_WRONLY, 0
    showok "open(file.txt, O_WRONLY)"
    sys SYS_open, file, O_RDWR, 0
    showok "open(file.txt, O_RDWR)"
    sys SYS_open, file, O_WRONLY | O_APPEND, 0
    mov rbx, rax
    showok "open(file.txt, O_WRONLY|O_APPEND)"
    sys SYS_write, rbx, x, 1
    show "  write(x)"
    sys SYS_open, new, O_WRONLY | O_CREAT | O_EXCL, 0o644
    mov rbx, rax
    showok "open(new, O_WRONLY|O_CREAT|O_EXCL)"
    sys SYS_write, rbx, x, 1
    show "  write(x)"
    sys SYS_openat, AT_FDCWD, new, O_RDONLY | O_CREAT, 0o644
    showok "openat(new, O_RDONLY|O_CREAT)"
    sys SYS_truncate, file, 4
    show "truncate(file.txt, 4)"
    sys SYS_mkdir, newdir, 0o755
    show "mkdir(newdir)"
    sys SYS_symlink, target, newlink
    show "symlink(file.txt, newlink)"
    sys SYS_chmod, file, 0o600
    show "chmod(file.txt, 0600)"
    sys SYS_rename, file, renamed
    show "rename(file.txt, renamed)"
    sys SYS_rmdir, sub
    show "rmdir(sub)"
    sys SYS_unlink, renamed
    show "unlink(renamed)"
    sys SYS_unlink, file
    show "unlink(file.txt)"
    sys SYS_open, new, O_RDONLY, 0
    mov rbx, rax
    sys SYS_mmap, 0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, rbx, 0
    showok "mmap(new opened O_RDONLY, SHARED, READ|WRITE)"
    exit 0
