; Pipes, one case a run, chosen by argv[1]: a write after the reader exited (EPIPE with SIGPIPE
; ignored, handled, or death by SIGPIPE), a read from an empty pipe interrupted by a signal
; (EINTR without SA_RESTART, restarted with it, EINTR from alarm), nanosleep interrupted,
; O_NONBLOCK and the pipe's size, poll on both ends, dup2 of a pipe onto stdout.
%include "proc.inc"

section .data
modes:
    mode "epipe-ignored", do_epipe_ignored
    mode "epipe-handled", do_epipe_handled
    mode "epipe-default", do_epipe_default
    mode "eintr", do_eintr
    mode "restart", do_restart
    mode "alarm", do_alarm
    mode "nanosleep", do_nanosleep
    mode "nonblock", do_nonblock
    mode "poll", do_poll
    mode "dup2", do_dup2
    dq 0, 0

section .bss
fds: resd 2
sync: resd 2
child: resq 1
counter: resq 1
mypid: resq 1
info: resb 128
buf: resb 8192
pfd: resq 2
timespec: resq 4

section .text
global _start
_start:
    keep_args
    lea rdi, [modes]
    call run_mode

; reader_exits: a pipe whose reader (a child) reads one byte and exits; the parent keeps only
; the write end, writes the byte and reaps the child. The write end's fd in ebx.
reader_exits:
    sys SYS_pipe, fds
    show "pipe"
    sys SYS_fork
    test rax, rax
    jz .child
    mov [child], rax
    mov edi, [fds]
    sys SYS_close, rdi
    mov ebx, [fds + 4]
    sys SYS_write, rbx, buf, 1
    show "write(pipe, 1) while the reader lives"
    mov rdi, [child]
    call wait_status
    say "the reader", 10
    call show_status
    ret
.child:
    mov edi, [fds + 4]
    sys SYS_close, rdi
    mov edi, [fds]
    sys SYS_read, rdi, buf, 1
    exit 0

do_epipe_ignored:
    mov edi, SIGPIPE
    mov esi, SIG_IGN
    xor edx, edx
    call set_action
    show "rt_sigaction(SIGPIPE, SIG_IGN)"
    call reader_exits
    sys SYS_write, rbx, buf, 1
    show "write(pipe, 1) after the reader exited"
    call pending
    showhex "  pending", rax
    ret

do_epipe_handled:
    mov edi, SIGPIPE
    lea rsi, [on_sigpipe]
    mov edx, SA_SIGINFO
    call set_action
    show "rt_sigaction(SIGPIPE, handler)"
    sys SYS_getpid
    mov [mypid], rax
    call reader_exits
    sys SYS_write, rbx, buf, 1
    show "write(pipe, 1) after the reader exited"
    shownum "  handler calls", qword [counter]
    mov eax, [info + SI_SIGNO]
    shownum "  si_signo", rax
    movsxd rax, dword [info + SI_CODE]
    shownum "  si_code", rax
    movsxd rax, dword [info + SI_PID]
    cmp rax, [mypid]
    sete al
    movzx eax, al
    shownum "  si_pid is the writer", rax
    ret

on_sigpipe:
    inc qword [counter]
    mov rdi, rsi
    lea rsi, [info]
    mov ecx, 128
.copy:
    mov al, [rdi]
    mov [rsi], al
    inc rdi
    inc rsi
    dec ecx
    jnz .copy
    ret

do_epipe_default:
    call reader_exits
    say "write(pipe, 1) after the reader exited, SIGPIPE's default action", 10
    sys SYS_write, rbx, buf, 1
    show "survived: write"
    ret

on_usr1:
    inc qword [counter]
    say "SIGUSR1 handler", 10
    ret

; go_child: a byte on the sync pipe, written just before the parent blocks.
go_child:
    mov edi, [sync + 4]
    sys SYS_write, rdi, late, 1
    ret

; wait_parent: the child waits for that byte, then 300 ms more (the parent is blocked by then).
wait_parent:
    mov edi, [sync]
    sys SYS_read, rdi, buf, 1
    mov edi, 300
    jmp sleep_ms

; interrupted(edx=flags): a SIGUSR1 handler with these flags; a child that 300 ms after the
; parent blocks sends it SIGUSR1 and after 300 ms more writes "late" into the pipe; the parent
; reads the empty pipe twice.
interrupted:
    mov edi, SIGUSR1
    lea rsi, [on_usr1]
    call set_action
    show "rt_sigaction(SIGUSR1, handler)"
    sys SYS_pipe, fds
    sys SYS_pipe, sync
    sys SYS_fork
    test rax, rax
    jz .child
    mov [child], rax
    mov edi, [fds + 4]
    sys SYS_close, rdi
    call go_child
    mov edi, [fds]
    sys SYS_read, rdi, buf, 100
    show "read(empty pipe)"
    shownum "  handler calls", qword [counter]
    mov edi, [fds]
    sys SYS_read, rdi, buf, 100
    show "read(empty pipe) again"
    mov edi, [fds]
    sys SYS_read, rdi, buf, 100
    show "read(pipe without writers)"
    mov rdi, [child]
    call wait_status
    call show_status
    ret
.child:
    call wait_parent
    sys SYS_getppid
    sys SYS_kill, rax, SIGUSR1
    mov edi, 300
    call sleep_ms
    mov edi, [fds + 4]
    sys SYS_write, rdi, late, 4
    exit 0

section .rodata
late: db "late"

section .text
do_eintr:
    xor edx, edx
    jmp interrupted

do_restart:
    mov edx, SA_RESTART
    jmp interrupted

; alarm: SIGALRM after a second interrupts a read that would wait for ever (this process holds
; the write end).
do_alarm:
    mov edi, SIGALRM
    lea rsi, [on_alarm]
    xor edx, edx
    call set_action
    sys SYS_pipe, fds
    sys SYS_alarm, 1
    show "alarm(1)"
    sys SYS_alarm, 1
    show "alarm(1) again [the seconds left of the first]"
    mov edi, [fds]
    sys SYS_read, rdi, buf, 100
    show "read(empty pipe)"
    shownum "  handler calls", qword [counter]
    sys SYS_alarm, 0
    show "alarm(0)"
    ret

on_alarm:
    inc qword [counter]
    say "SIGALRM handler", 10
    ret

; nanosleep: interrupted by a handled signal it is EINTR even with SA_RESTART, and says what
; was left.
do_nanosleep:
    mov edi, SIGUSR1
    lea rsi, [on_usr1]
    mov edx, SA_RESTART
    call set_action
    sys SYS_pipe, sync
    sys SYS_fork
    test rax, rax
    jz .child
    mov [child], rax
    call go_child
    mov qword [timespec], 2
    mov qword [timespec + 8], 0
    sys SYS_nanosleep, timespec, timespec + 16
    show "nanosleep(2 s) [a signal after 300 ms]"
    shownum "  seconds left", qword [timespec + 16]
    mov rdi, [child]
    call wait_status
    ret
.child:
    call wait_parent
    sys SYS_getppid
    sys SYS_kill, rax, SIGUSR1
    exit 0

; nonblock: pipe2(O_NONBLOCK | O_CLOEXEC): flags, EAGAIN both ways, how much it holds.
do_nonblock:
    sys SYS_pipe2, fds, O_NONBLOCK | O_CLOEXEC
    show "pipe2(O_NONBLOCK | O_CLOEXEC)"
    mov edi, [fds]
    sys SYS_fcntl, rdi, F_GETFL
    showhex "  F_GETFL(read end)", rax
    mov edi, [fds + 4]
    sys SYS_fcntl, rdi, F_GETFL
    showhex "  F_GETFL(write end)", rax
    mov edi, [fds]
    sys SYS_fcntl, rdi, F_GETFD
    show "  F_GETFD(read end)"
    mov edi, [fds]
    sys SYS_fcntl, rdi, F_GETPIPE_SZ
    show "  F_GETPIPE_SZ"
    mov edi, [fds]
    sys SYS_read, rdi, buf, 10
    show "read(empty)"
    xor r12d, r12d
.fill:
    mov edi, [fds + 4]
    sys SYS_write, rdi, buf, 256
    test rax, rax
    jle .full
    add r12, rax
    jmp .fill
.full:
    show "write(full pipe)"
    shownum "  bytes it took", r12
    mov edi, [fds]
    sys SYS_read, rdi, buf, 100
    show "read(100)"
    mov edi, [fds + 4]
    sys SYS_write, rdi, buf, 256
    show "write(256) with 100 bytes free"
    mov edi, [fds]
    sys SYS_read, rdi, buf, 4096
    show "read(4096) [a page's worth free]"
    mov edi, [fds + 4]
    sys SYS_write, rdi, buf, 256
    show "write(256) then"
    mov edi, [fds + 4]
    sys SYS_close, rdi
    xor r12d, r12d
.drain:
    mov edi, [fds]
    sys SYS_read, rdi, buf, 256
    test rax, rax
    jle .drained
    add r12, rax
    jmp .drain
.drained:
    show "read(after the writer closed, drained)"
    shownum "  bytes read", r12
    sys SYS_pipe2, fds, 0x1
    show "pipe2(flags 1)"
    sys SYS_pipe, 0
    show "pipe(NULL)"
    ret

; poll: an empty pipe times out; data is POLLIN; the write end is POLLOUT; a closed write end is
; POLLHUP at the read end, a closed read end POLLERR at the write end.
do_poll:
    sys SYS_pipe, fds
    mov eax, [fds]
    mov [pfd], eax
    mov word [pfd + 4], 1                   ; POLLIN
    mov word [pfd + 6], 0x7777
    sys SYS_poll, pfd, 1, 50
    show "poll(empty read end, 50 ms)"
    movzx eax, word [pfd + 6]
    showhex "  revents", rax
    mov eax, [fds + 4]
    mov [pfd + 8], eax
    mov word [pfd + 12], 4                  ; POLLOUT
    sys SYS_poll, pfd + 8, 1, 0
    show "poll(write end, POLLOUT)"
    movzx eax, word [pfd + 14]
    showhex "  revents", rax
    mov edi, [fds + 4]
    sys SYS_write, rdi, late, 4
    sys SYS_poll, pfd, 2, -1
    show "poll(both, after a write)"
    movzx eax, word [pfd + 6]
    showhex "  read end revents", rax
    movzx eax, word [pfd + 14]
    showhex "  write end revents", rax
    mov edi, [fds + 4]
    sys SYS_close, rdi
    sys SYS_poll, pfd, 1, -1
    show "poll(read end, data and no writer)"
    movzx eax, word [pfd + 6]
    showhex "  revents", rax
    mov edi, [fds]
    sys SYS_read, rdi, buf, 100
    sys SYS_poll, pfd, 1, -1
    show "poll(read end, drained, no writer)"
    movzx eax, word [pfd + 6]
    showhex "  revents", rax
    sys SYS_pipe, fds
    mov edi, [fds]
    sys SYS_close, rdi
    mov eax, [fds + 4]
    mov [pfd + 8], eax
    sys SYS_poll, pfd + 8, 1, -1
    show "poll(write end, no reader)"
    movzx eax, word [pfd + 14]
    showhex "  revents", rax
    ret

; dup2: the write end onto stdout; what is printed then lands in the pipe, and is read back.
do_dup2:
    sys SYS_pipe, fds
    sys SYS_dup, 1
    mov rbx, rax
    mov edi, [fds + 4]
    sys SYS_dup2, rdi, 1
    mov r12, rax
    say "this went through the pipe"
    sys SYS_dup2, rbx, 1
    show "dup2(saved stdout, 1)"
    shownum "dup2(write end, 1)", r12
    mov edi, [fds]
    sys SYS_read, rdi, buf, 256
    mov r13, rax
    show "read(pipe)"
    mov rdx, r13
    lea rsi, [buf]
    call put
    call newline
    sys SYS_dup2, 1, 1
    show "dup2(1, 1)"
    sys SYS_dup2, 99, 1
    show "dup2(99, 1)"
    ret
