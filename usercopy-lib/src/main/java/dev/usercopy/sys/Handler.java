package dev.usercopy.sys;

/**
 * Serves one guest syscall: reads its arguments from {@link Task#arg}, and
 * returns the result (zero or more) or a negative errno, as the syscall
 * instruction leaves it in {@code rax}. It may instead throw
 * {@link dev.usercopy.mm.ErrnoException}, which {@link Syscalls#dispatch}
 * turns into the negative errno: the user-access API reports EFAULT that way.
 */
@FunctionalInterface
public interface Handler {
    long serve(Task task);
}
