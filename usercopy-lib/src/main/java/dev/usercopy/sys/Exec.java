package dev.usercopy.sys;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.usercopy.mm.ErrnoException;
import dev.usercopy.platform.HostFiles;
import dev.usercopy.uaccess.UserCString;
import dev.usercopy.uapi.Errno;

/**
 * execve and execveat, as Linux's fs/exec.c orders them: the file first
 * (ENOENT, EACCES for what is not a regular executable file, ELOOP), then
 * the argument and environment arrays (EFAULT, E2BIG), then the format:
 * a {@code #!} script runs its interpreter (binfmt_script's rules, four
 * levels deep at most), a static ELF replaces the program through the
 * task's {@link Task.Cpu#exec} (ENOEXEC for anything else). Until that call
 * succeeds the old program is untouched and gets the errno.
 *
 * <p>{@code /proc/self/exe} names the task's own program, as Linux's link
 * does: busybox re-executes itself that way.
 */
final class Exec {
    static final int AT_EMPTY_PATH = 0x1000;
    static final int AT_SYMLINK_NOFOLLOW = 0x100;
    /** binfmt_script reads this much of a file to find its {@code #!} line. */
    static final int BINPRM_BUF_SIZE = 256;
    /** Linux's MAX_ARG_STRLEN: the longest argument or environment string. */
    static final int MAX_ARG_STRLEN = 32 * 4096;
    /** The most an argument and environment may hold, strings and pointers, with the default 8 MiB stack limit (a quarter of it). */
    static final long MAX_ARG_BYTES = 2L << 20;
    /** Interpreters of interpreters: Linux allows four rewrites. */
    static final int MAX_DEPTH = 4;

    private Exec() {}

    static void register(Syscalls.Registry r) {
        r.add(59, "execve", "spp", t -> exec(t, HostFiles.AT_FDCWD, t.arg(0), t.arg(1), t.arg(2), 0));
        r.add(322, "execveat", "fsppx", t -> exec(t, t.intArg(0), t.arg(1), t.arg(2), t.arg(3), t.intArg(4)));
    }

    /**
     * A program file found: the path it is read and mapped through (the
     * looked-up descriptor's /proc/self/fd link, so no rename in between
     * makes it another file), the guest path /proc/self/exe will show, and
     * the descriptor, closed with this when {@code own}.
     */
    private record Program(Path host, String guest, int fd, boolean own) implements AutoCloseable {
        @Override
        public void close() {
            if (own) {
                HostFiles.close(fd);
            }
        }
    }

    private static long exec(Task t, int dirfd, long pathAddr, long argvAddr, long envpAddr, int flags) {
        if ((flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) != 0) {
            return -Errno.EINVAL.number();
        }
        byte[] path = (flags & AT_EMPTY_PATH) != 0 ? Paths.readMaybeEmpty(t, pathAddr) : Paths.read(t, pathAddr);
        try (Program program = path.length == 0 ? open(t, dirfd, null, flags) : open(t, dirfd, path, flags)) {
            long[] budget = {MAX_ARG_BYTES};
            List<byte[]> argv = strings(t, argvAddr, budget);
            List<byte[]> envp = strings(t, envpAddr, budget);
            String execfn = path.length == 0 ? "/dev/fd/" + dirfd : new String(path, StandardCharsets.UTF_8);
            return run(t, program, execfn, argv, envp, 0);
        }
    }

    private static long run(Task t, Program program, String execfn, List<byte[]> argv, List<byte[]> envp, int depth) {
        byte[] head = new byte[BINPRM_BUF_SIZE];
        int n;
        try (var ch = java.nio.channels.FileChannel.open(program.host())) {
            n = Math.max(0, ch.read(java.nio.ByteBuffer.wrap(head), 0));
        } catch (java.io.IOException e) {
            return -Errno.EACCES.number();
        }
        if (n >= 2 && head[0] == '#' && head[1] == '!') {
            if (depth >= MAX_DEPTH) {
                return -Errno.ELOOP.number();
            }
            return script(t, program, execfn, Arrays.copyOf(head, n), argv, envp, depth);
        }
        return t.cpu().exec(program.host(), program.guest(), execfn, argv, envp);
    }

    /**
     * binfmt_script: the line after {@code #!} up to a newline (ENOEXEC when
     * none lies within the buffer and the interpreter's name would be cut),
     * blanks skipped, the interpreter up to a blank, the rest (trailing
     * blanks dropped) as one optional argument. The interpreter runs with
     * argv {interpreter, [argument], the script's path as given,
     * argv[1..]}.
     */
    private static long script(Task t, Program program, String execfn, byte[] head, List<byte[]> argv, List<byte[]> envp, int depth) {
        int end = 2;
        while (end < head.length && head[end] != '\n') {
            end++;
        }
        int i = 2;
        while (i < end && (head[i] == ' ' || head[i] == '\t')) {
            i++;
        }
        int nameStart = i;
        while (i < end && head[i] != ' ' && head[i] != '\t' && head[i] != 0) {
            i++;
        }
        if (i == nameStart || end == head.length && i == end) {
            return -Errno.ENOEXEC.number(); // no interpreter, or its name may run past what was read
        }
        byte[] interp = Arrays.copyOfRange(head, nameStart, i);
        while (i < end && (head[i] == ' ' || head[i] == '\t')) {
            i++;
        }
        int argEnd = end;
        while (argEnd > i && (head[argEnd - 1] == ' ' || head[argEnd - 1] == '\t' || head[argEnd - 1] == 0)) {
            argEnd--;
        }
        for (int k = i; k < argEnd; k++) {
            if (head[k] == 0) {
                argEnd = k;
                break;
            }
        }
        List<byte[]> args = new ArrayList<>();
        args.add(interp);
        if (argEnd > i) {
            args.add(Arrays.copyOfRange(head, i, argEnd));
        }
        args.add(execfn.getBytes(StandardCharsets.UTF_8));
        if (argv.size() > 1) {
            args.addAll(argv.subList(1, argv.size()));
        }
        try (Program next = open(t, HostFiles.AT_FDCWD, interp, 0)) {
            return run(t, next, new String(interp, StandardCharsets.UTF_8), args, envp, depth + 1);
        }
    }

    /** The program at {@code path} (null: the file open at {@code dirfd}): a regular file the guest may execute. */
    private static Program open(Task t, int dirfd, byte[] path, int flags) {
        FsContext fs = t.fs();
        long fd;
        boolean own;
        if (path == null) {
            fd = t.files().get(dirfd).hostFd();
            own = false;
        } else {
            byte[] abs = fs.absolute(t.files(), dirfd, path);
            abs = Paths.selfExe(t, abs);
            fd = fs.lookup(abs, (flags & AT_SYMLINK_NOFOLLOW) != 0 ? HostFiles.O_NOFOLLOW : 0);
            if (fd < 0) {
                throw new ErrnoException(Errno.of((int) -fd) != null ? Errno.of((int) -fd) : Errno.ENOENT, 0, path.length,
                        new String(path, StandardCharsets.UTF_8) + ": cannot be looked up");
            }
            own = true;
        }
        try {
            FsContext.checkExecutable((int) fd);
            String guest = new String(fs.guestPathOf((int) fd), StandardCharsets.UTF_8);
            return new Program(Path.of("/proc/self/fd/" + fd), guest, (int) fd, own);
        } catch (RuntimeException e) {
            if (own) {
                HostFiles.close((int) fd);
            }
            throw e;
        }
    }

    /**
     * A NULL-terminated array of string pointers (NULL itself: none), read
     * as Linux's copy_strings: EFAULT for a pointer or string the guest
     * cannot read, E2BIG for a string over MAX_ARG_STRLEN or when strings
     * and pointers together pass the budget.
     */
    private static List<byte[]> strings(Task t, long array, long[] budget) {
        List<byte[]> out = new ArrayList<>();
        if (array == 0) {
            return out;
        }
        for (long i = 0; ; i++) {
            long p = GuestMemory.read(t, array + 8 * i, 8).getLong(0);
            if (p == 0) {
                return out;
            }
            budget[0] -= 8;
            if (budget[0] < 0) {
                throw new ErrnoException(Errno.E2BIG, array, 8 * i, "more argument and environment pointers than fit");
            }
            byte[] s;
            try {
                s = UserCString.read(t.space(), p, MAX_ARG_STRLEN);
            } catch (ErrnoException e) {
                if (e.errno() == Errno.ENAMETOOLONG) {
                    throw new ErrnoException(Errno.E2BIG, p, MAX_ARG_STRLEN, "an argument or environment string longer than " + MAX_ARG_STRLEN);
                }
                throw e;
            }
            budget[0] -= s.length + 1;
            if (budget[0] < 0) {
                throw new ErrnoException(Errno.E2BIG, p, s.length, "arguments and environment past " + MAX_ARG_BYTES + " bytes");
            }
            out.add(s);
        }
    }
}
