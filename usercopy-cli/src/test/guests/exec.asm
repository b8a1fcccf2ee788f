; execve, one case a run, chosen by argv[1]; argv[2] is the args program (args.asm), argv[3] a
; folder the test filled (noelf: executable text without #!, noperm: a script without the
; execute bit, script1: "#!ARGS one  two  ", script2: "#!  ARGS", nested: "#!DIR/script1 x",
; badinterp: "#!/no/such/interpreter"). Modes: errors (ENOENT, EACCES, ENOEXEC, EFAULT),
; e2big (Linux's argument limits), script (#! rules), run (what an exec'd program inherits),
; replace (execve without fork: the process becomes the program).
%include "proc.inc"

section .data
modes:
    mode "errors", do_errors
    mode "e2big", do_e2big
    mode "e2big-edge", do_e2big_edge
    mode "script", do_script
    mode "run", do_run
    mode "replace", do_replace
    dq 0, 0

one_argv: dq a0, 0
run_argv: dq a0, a1, 0
run_envp: dq e1, e2, 0
script_argv: dq s0, a1, s2, 0
bad_argv: dq a0, 1, 0

section .rodata
a0: db "args", 0
a1: db "x y", 0
e1: db "A=1", 0
e2: db "B=2", 0
s0: db "script-argv0", 0
s2: db "last", 0
empty: db 0
root: db "/", 0
nosuch: db "/no/such/program", 0
n_noelf: db "/noelf", 0
n_noperm: db "/noperm", 0
n_script1: db "/script1", 0
n_script2: db "/script2", 0
n_nested: db "/nested", 0
n_badinterp: db "/badinterp", 0

section .bss
args_path: resq 1
dir: resq 1
path: resb 4096
child: resq 1

section .text
global _start
_start:
    keep_args
    mov edi, 2
    call argv_at
    mov [args_path], rax
    mov edi, 3
    call argv_at
    mov [dir], rax
    lea rdi, [modes]
    call run_mode

; in_dir(rsi=name) -> rax: path = dir + name.
in_dir:
    lea rdi, [path]
    mov rdx, [dir]
.copy_dir:
    mov al, [rdx]
    test al, al
    jz .name
    mov [rdi], al
    inc rdi
    inc rdx
    jmp .copy_dir
.name:
    mov al, [rsi]
    mov [rdi], al
    inc rdi
    inc rsi
    test al, al
    jnz .name
    lea rax, [path]
    ret

; exec_child(rdi=path, rsi=argv, rdx=envp): execve in a child; prints execve's error, or the
; exec'd program's status.
exec_child:
    push rdi
    push rsi
    push rdx
    sys SYS_fork
    test rax, rax
    jz .child
    add rsp, 24
    mov [child], rax
    mov rdi, rax
    call wait_status
    call show_status
    ret
.child:
    pop rdx
    pop rsi
    pop rdi
    mov eax, SYS_execve
    syscall
    show "execve"
    exit 127

do_errors:
    sys SYS_execve, nosuch, one_argv, run_envp
    show "execve(/no/such/program)"
    sys SYS_execve, empty, one_argv, run_envp
    show "execve(empty path)"
    sys SYS_execve, root, one_argv, run_envp
    show "execve(a folder)"
    sys SYS_execve, 0, one_argv, run_envp
    show "execve(NULL)"
    sys SYS_execve, [args_path], bad_argv, run_envp
    show "execve(args, argv[1] = 0x1)"
    sys SYS_execve, [args_path], 1, run_envp
    show "execve(args, argv = 0x1)"
    lea rsi, [n_noelf]
    call in_dir
    sys SYS_execve, rax, one_argv, run_envp
    show "execve(executable text without #!)"
    lea rsi, [n_noperm]
    call in_dir
    sys SYS_execve, rax, one_argv, run_envp
    show "execve(a script without the execute bit)"
    lea rsi, [n_badinterp]
    call in_dir
    sys SYS_execve, rax, one_argv, run_envp
    show "execve(a script whose interpreter is missing)"
    say "still here", 10
    ret

; e2big: a string longer than MAX_ARG_STRLEN (32 pages with its NUL), more than the limit in
; all (a quarter of the stack limit, at most 6 MiB), more pointers than it; then the longest
; string that passes.
do_e2big:
    mov r12, 60 * 131072 + PAGE
    anon_map r12, PROT_READ | PROT_WRITE
    mov r13, rax                            ; 60 strings of 131071 'a's
    mov rdi, r13
    mov ecx, 60
.strings:
    push rcx
    push rdi
    mov ecx, 131071
    mov al, 'a'
    rep stosb
    mov byte [rdi], 0
    pop rdi
    pop rcx
    add rdi, 131072
    dec ecx
    jnz .strings
    anon_map 8 * 1048576 + 2 * PAGE, PROT_READ | PROT_WRITE
    mov r14, rax                            ; argv arrays
    ; one string of 131072 bytes and its NUL: E2BIG
    mov byte [r13 + 131071], 'b'
    mov byte [r13 + 131072], 0
    lea rax, [a0]
    mov [r14], rax
    mov [r14 + 8], r13
    mov qword [r14 + 16], 0
    sys SYS_execve, [args_path], r14, run_envp
    show "execve(a string of 131072 bytes)"
    mov byte [r13 + 131071], 0
    mov byte [r13 + 131072], 'a'
    ; 60 strings of 131071: 7.5 MiB
    lea rax, [a0]
    mov [r14], rax
    mov rdi, r13
    xor ecx, ecx
.many:
    mov [r14 + 8 + rcx * 8], rdi
    add rdi, 131072
    inc ecx
    cmp ecx, 60
    jb .many
    mov qword [r14 + 8 + rcx * 8], 0
    sys SYS_execve, [args_path], r14, run_envp
    show "execve(60 strings of 131071 bytes)"
    ; 1048000 empty strings: 8 MB of pointers
    lea rax, [a0]
    mov [r14], rax
    lea rdx, [empty]
    mov ecx, 1
.ptrs:
    mov [r14 + rcx * 8], rdx
    inc ecx
    cmp ecx, 1048000
    jb .ptrs
    mov qword [r14 + rcx * 8], 0
    sys SYS_execve, [args_path], r14, run_envp
    show "execve(1048000 empty strings)"
    ; the longest: 131071 bytes and its NUL
    lea rax, [a0]
    mov [r14], rax
    mov [r14 + 8], r13
    mov qword [r14 + 16], 0
    mov rdi, [args_path]
    mov rsi, r14
    lea rdx, [run_envp]
    call exec_child
    ret

; script: Linux's #! rules: the interpreter, the rest of the line as one argument (trailing
; blanks cut), the script's path as execve was given it, then argv[1..].
do_script:
    lea rsi, [n_script1]
    call in_dir
    mov rdi, rax
    lea rsi, [script_argv]
    lea rdx, [run_envp]
    call exec_child
    lea rsi, [n_script2]
    call in_dir
    mov rdi, rax
    lea rsi, [script_argv]
    lea rdx, [run_envp]
    call exec_child
    lea rsi, [n_nested]
    call in_dir
    mov rdi, rax
    lea rsi, [script_argv]
    lea rdx, [run_envp]
    call exec_child
    ret

; run: descriptors without FD_CLOEXEC stay, with it close; a handled signal becomes default, an
; ignored one stays ignored; the blocked set stays.
do_run:
    sys SYS_open, root, O_RDONLY | O_CLOEXEC, 0
    show "open(/, O_CLOEXEC)"
    sys SYS_open, root, O_RDONLY, 0
    show "open(/)"
    sys SYS_dup, 4
    show "dup(4)"
    sys SYS_fcntl, 5, 2, 1                  ; F_SETFD FD_CLOEXEC
    show "fcntl(5, F_SETFD, FD_CLOEXEC)"
    mov edi, SIGUSR1
    lea rsi, [never]
    xor edx, edx
    call set_action
    mov edi, SIGUSR2
    mov esi, SIG_IGN
    xor edx, edx
    call set_action
    mov edi, SIG_BLOCK
    mov esi, bit(SIGTERM)
    call mask_op
    mov rdi, [args_path]
    lea rsi, [run_argv]
    lea rdx, [run_envp]
    call exec_child
    ret

never:
    ret

; e2big-edge: argv[4] = T: an argv whose strings take T bytes with their NULs (strings of 131071
; bytes and one shorter, no environment), then T + 1: Linux allows a quarter of the stack limit
; for the file name, the strings and a pointer for each.
do_e2big_edge:
    mov edi, 4
    call argv_at
    mov rdi, rax
    call parse_dec
    mov r15, rax
    lea rsi, [r15 + 2 * 131072]
    anon_map rsi, PROT_READ | PROT_WRITE
    mov r13, rax
    mov rdi, r13
    lea rcx, [r15 + 131072]
    mov al, 'a'
    rep stosb
    anon_map 8 * PAGE, PROT_READ | PROT_WRITE
    mov r14, rax
    call edge_argv
    mov rdi, [args_path]
    mov rsi, r14
    xor edx, edx
    call exec_child
    inc r15
    call edge_argv
    mov rdi, [args_path]
    mov rsi, r14
    xor edx, edx
    call exec_child
    ret

; edge_argv: argv at r14 from the strings at r13 taking r15 bytes; clears the old NULs first.
edge_argv:
    mov rdi, r13
    mov rcx, r15
    add rcx, 131072
    mov al, 'a'
    rep stosb
    mov rdx, r13                            ; the next string
    mov rcx, r15                            ; bytes left
    xor ebx, ebx                            ; argc
.next:
    test rcx, rcx
    jz .done
    mov [r14 + rbx * 8], rdx
    inc rbx
    mov rax, 131072
    cmp rcx, rax
    cmovb rax, rcx
    mov byte [rdx + rax - 1], 0
    add rdx, rax
    sub rcx, rax
    jmp .next
.done:
    mov qword [r14 + rbx * 8], 0
    say "argv of "
    mov rdi, r15
    call print_dec
    say " bytes in "
    mov rdi, rbx
    call print_dec
    say " strings", 10
    ret

; replace: this process becomes args, with this one's environment.
do_replace:
    mov rax, [initial_sp]
    mov rcx, [rax]
    lea rdx, [rax + 16 + rcx * 8]
    sys SYS_execve, [args_path], run_argv, rdx
    show "execve"
    ret
