package dev.usercopy.sys;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLongArray;

import dev.usercopy.mm.ErrnoException;
import dev.usercopy.uapi.Errno;

/**
 * The syscall table: x86-64 numbers to handlers, each family of syscalls
 * registering its own ({@link FileIo}, {@link Memory}, ...), as Linux's
 * {@code syscall_64.tbl} names them. {@link #dispatch} serves one call and is
 * the one place a Java exception is stopped on its way to a guest.
 *
 * <p>Each entry carries how {@code --trace} shows its arguments, one letter
 * an argument: {@code d} a signed int, {@code u} an unsigned long, {@code x}
 * a number in hex, {@code p} a guest pointer, {@code s} a guest string
 * (read without faulting anything in), {@code o} an octal mode, {@code f} a
 * file descriptor; the letter before a {@code :} says how to show the result
 * ({@code x} or {@code p} in hex, else decimal).
 */
public final class Syscalls {
    /** One syscall: its number, name, how to show it, and its handler. */
    public record Entry(int nr, String name, String signature, Handler handler) {
        /** The letters of the arguments. */
        String argLetters() {
            int colon = signature.indexOf(':');
            return colon < 0 ? signature : signature.substring(colon + 1);
        }

        boolean resultInHex() {
            return signature.startsWith("x:") || signature.startsWith("p:");
        }
    }

    /** Where a family adds its syscalls. */
    public interface Registry {
        void add(int nr, String name, String signature, Handler handler);
    }

    public static final int MAX_NR = 512;
    private static final Entry[] TABLE = new Entry[MAX_NR];
    /** Calls of numbers no family serves, by number (answered ENOSYS). */
    private static final AtomicLongArray UNKNOWN = new AtomicLongArray(MAX_NR);

    static {
        Registry r = (nr, name, signature, handler) -> {
            if (TABLE[nr] != null) {
                throw new IllegalStateException("syscall " + nr + " registered twice: " + TABLE[nr].name() + " and " + name);
            }
            TABLE[nr] = new Entry(nr, name, signature, handler);
        };
        FileIo.register(r);
        FileOpen.register(r);
        FileInfo.register(r);
        FileChange.register(r);
        Descriptors.register(r);
        WorkingDirectory.register(r);
        Memory.register(r);
        Identity.register(r);
        Time.register(r);
        Signals.register(r);
        SignalDelivery.register(r);
        SignalWait.register(r);
        Kill.register(r);
        ThreadSetup.register(r);
        Exit.register(r);
        Poll.register(r);
        Pipes.register(r);
        Clone.register(r);
        Exec.register(r);
        Wait.register(r);
        Sessions.register(r);
        RealTimer.register(r);
        Futex.register(r);
        Sockets.register(r);
        Xattrs.register(r);
    }

    private Syscalls() {}

    /** The entry of syscall {@code nr}, or null when no family serves it. */
    public static Entry entry(long nr) {
        return nr >= 0 && nr < MAX_NR ? TABLE[(int) nr] : null;
    }

    /** The name of syscall {@code nr}, or {@code "syscall_NR"}. */
    public static String name(long nr) {
        Entry e = entry(nr);
        return e != null ? e.name() : "syscall_" + nr;
    }

    /**
     * Serves syscall {@code nr} with arguments {@code a0..a5} for
     * {@code task}: the value for {@code rax}. An unknown number is ENOSYS
     * (and counted); an {@link ErrnoException} is its negative errno; any
     * other exception is a bug here, reported on stderr with the call and
     * answered EIO, so it never reaches the guest as anything but an errno.
     */
    public static long dispatch(Task task, long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
        Entry e = entry(nr);
        if (e == null) {
            if (nr >= 0 && nr < MAX_NR) {
                UNKNOWN.incrementAndGet((int) nr);
            }
            task.unknownCall();
            return -Errno.ENOSYS.number();
        }
        task.enter((int) nr, a0, a1, a2, a3, a4, a5);
        try {
            return e.handler().serve(task);
        } catch (ErrnoException x) {
            return -x.errno().number();
        } catch (Task.Fatal x) {
            throw x; // the task's end, for its tracer
        } catch (RuntimeException | Error x) {
            if (x instanceof VirtualMachineError v && !(x instanceof OutOfMemoryError)) {
                throw v;
            }
            System.err.println("usercopy: internal error serving " + e.name() + Arrays.toString(new long[] {a0, a1, a2, a3, a4, a5})
                    + "; the guest gets EIO");
            x.printStackTrace();
            return -Errno.EIO.number();
        }
    }

    /** How many calls of each unknown number were answered ENOSYS, as {number, count} pairs. */
    public static long[][] unknownCalls() {
        return java.util.stream.IntStream.range(0, MAX_NR).filter(i -> UNKNOWN.get(i) > 0)
                .mapToObj(i -> new long[] {i, UNKNOWN.get(i)}).toArray(long[][]::new);
    }

    /** The return value as strace shows it: a number, or {@code -1 ENOENT (No such file or directory)}. */
    public static String formatResult(long nr, long result) {
        if (result < 0 && result >= -4095) {
            Errno e = Errno.of((int) -result);
            return "-1 " + Errno.nameOf((int) -result) + (e != null ? " (" + e.description() + ")" : "");
        }
        Entry e = entry(nr);
        return e != null && e.resultInHex() ? "0x" + Long.toHexString(result) : Long.toString(result);
    }

    /** The call as {@code --trace} shows it: {@code name(arg, ...)}, strings read from the guest without faulting. */
    public static String formatCall(Task task, long nr, long[] args) {
        Entry e = entry(nr);
        if (e == null) {
            return "syscall_" + nr + "(0x" + Long.toHexString(args[0]) + ", 0x" + Long.toHexString(args[1]) + ", 0x"
                    + Long.toHexString(args[2]) + ", ...)";
        }
        String letters = e.argLetters();
        StringBuilder sb = new StringBuilder(e.name()).append('(');
        for (int i = 0; i < letters.length(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            long v = args[i];
            switch (letters.charAt(i)) {
                case 'd', 'f' -> sb.append((int) v);
                case 'u' -> sb.append(Long.toUnsignedString(v));
                case 'o' -> sb.append('0').append(Long.toOctalString(v));
                case 's' -> sb.append(guestString(task, v));
                case 'p' -> sb.append(v == 0 ? "NULL" : "0x" + Long.toHexString(v));
                default -> sb.append("0x").append(Long.toHexString(v));
            }
        }
        return sb.append(')').toString();
    }

    private static String guestString(Task task, long address) {
        if (address == 0) {
            return "NULL";
        }
        byte[] buf = new byte[66]; // 64 shown; a return of 66 means more than 65 with the NUL: "..."
        long n = task.space().strncpyFromUserNofault(buf, 0, address, buf.length);
        if (n < 0) {
            return "0x" + Long.toHexString(address);
        }
        int len = (int) Math.min(n, 64);
        for (int i = 0; i < len; i++) {
            if (buf[i] == 0) {
                len = i;
                break;
            }
        }
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < len; i++) {
            int c = buf[i] & 0xff;
            switch (c) {
                case '"', '\\' -> sb.append('\\').append((char) c);
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                default -> sb.append(c >= 0x20 && c < 0x7f ? Character.toString(c) : String.format("\\x%02x", c));
            }
        }
        sb.append('"');
        return n > 65 ? sb.append("...").toString() : sb.toString();
    }
}
