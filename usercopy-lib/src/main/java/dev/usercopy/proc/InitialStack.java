package dev.usercopy.proc;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.uaccess.UserSlice;
import dev.usercopy.uapi.Errno;

/**
 * The stack a program finds at its entry, as Linux's
 * {@code create_elf_tables} lays it out: {@code argc}, the argv pointers and a
 * NULL, the envp pointers and a NULL, the auxiliary vector, then (higher up)
 * 16 random bytes, the platform name and the strings. {@code rsp} points at
 * {@code argc}, 16-byte aligned. The auxiliary vector carries what a static
 * C library reads at start; there is no vDSO ({@code AT_SYSINFO_EHDR}), so
 * the library makes real syscalls for the time, which this kernel serves.
 * The hardware capabilities and clock tick are the host's own, read from the
 * JVM's {@code /proc/self/auxv}, so a guest sees the CPU it runs on.
 */
final class InitialStack {
    static final int AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7, AT_FLAGS = 8,
            AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14, AT_PLATFORM = 15, AT_HWCAP = 16,
            AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25, AT_HWCAP2 = 26, AT_EXECFN = 31, AT_MINSIGSTKSZ = 51;
    /** Linux's limit on argv and envp together, their pointers included: a quarter of the stack. */
    static final long MAX_ARG_BYTES = 2L << 20;
    /** Linux's MAX_ARG_STRLEN: the longest one string may be, its NUL included. */
    static final long MAX_ARG_STRLEN = 32 * AddressSpace.PAGE;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Map<Integer, Long> HOST_AUXV = hostAuxv();

    /** The stack: 8 MiB (Linux's default RLIMIT_STACK) ending at the top of the guest's space. */
    static final long STACK_SIZE = 8L << 20;

    private InitialStack() {}

    /**
     * Maps the stack ({@link #STACK_SIZE}, at the top of {@code s}), builds it, and reads the program's pages in now, not a
     * fault at a time (a child's fault costs a stop and an injected mmap): the initial {@code rsp}. E2BIG as {@link #build}.
     */
    static long mapWithProgram(AddressSpace s, ElfImage.Loaded loaded, List<byte[]> argv, List<byte[]> envp, String execfn) {
        long top = s.size();
        s.mmap(top - STACK_SIZE, STACK_SIZE, 3 | (loaded.execStack() ? 4 : 0),
                MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS | MapFlags.GROWSDOWN);
        long sp = InitialStack.build(s, top, argv, envp, execfn, loaded);
        for (long[] r : loaded.fileRanges()) {
            try {
                s.populate(r[0], r[1] - r[0], false);
            } catch (ErrnoException e) {
                // a segment the file does not fully back: its pages past the end fault as they would
            }
        }
        return sp;
    }

    /** Builds the stack below {@code top}; returns the initial {@code rsp}. E2BIG when the strings do not fit. */
    static long build(AddressSpace space, long top, List<byte[]> argv, List<byte[]> envp, String execfn, ElfImage.Loaded elf) {
        // An empty argv is given one empty string, as Linux does since 5.18 (argv[0] is never NULL).
        byte[][] args = bytes(argv.isEmpty() ? List.of(new byte[0]) : argv);
        byte[][] envs = bytes(envp);
        byte[] fn = (execfn + "\0").getBytes(StandardCharsets.UTF_8);
        // bprm_stack_limits: the pointers come off the limit first, then the strings must fit in the rest.
        long pointers = 8L * (args.length + envs.length);
        long strings = fn.length;
        for (byte[][] list : new byte[][][] {args, envs}) {
            for (byte[] b : list) {
                if (b.length > MAX_ARG_STRLEN) {
                    throw new ErrnoException(Errno.E2BIG, top, b.length, "an argument or environment string of " + b.length + " bytes");
                }
                strings += b.length;
            }
        }
        if (pointers >= MAX_ARG_BYTES || strings > MAX_ARG_BYTES - pointers) {
            throw new ErrnoException(Errno.E2BIG, top, strings + pointers,
                    "arguments and environment of " + strings + " bytes and " + pointers / 8 + " pointers");
        }
        // Strings at the top, end marker last, as Linux: [argv strings][envp strings][execfn][8 zero bytes].
        long p = top - 8 - fn.length;
        long execfnAt = p;
        long[] envAt = new long[envs.length];
        long[] argAt = new long[args.length];
        long cursor = p;
        for (int i = envs.length - 1; i >= 0; i--) {
            cursor -= envs[i].length;
            envAt[i] = cursor;
        }
        for (int i = args.length - 1; i >= 0; i--) {
            cursor -= args[i].length;
            argAt[i] = cursor;
        }
        long stringsStart = cursor;
        byte[] platform = "x86_64\0".getBytes(StandardCharsets.US_ASCII);
        long platformAt = (stringsStart - platform.length) & -16L;
        byte[] random = new byte[16];
        RANDOM.nextBytes(random);
        long randomAt = platformAt - 16;

        long[] aux = {
            AT_HWCAP, HOST_AUXV.getOrDefault(AT_HWCAP, 0L),
            AT_PAGESZ, AddressSpace.PAGE,
            AT_CLKTCK, HOST_AUXV.getOrDefault(AT_CLKTCK, 100L),
            AT_PHDR, elf.phdr(),
            AT_PHENT, 56,
            AT_PHNUM, elf.phnum(),
            AT_BASE, elf.interpBase(),
            AT_FLAGS, 0,
            AT_ENTRY, elf.entry(),
            AT_UID, HOST_AUXV.getOrDefault(AT_UID, 0L),
            AT_EUID, HOST_AUXV.getOrDefault(AT_EUID, 0L),
            AT_GID, HOST_AUXV.getOrDefault(AT_GID, 0L),
            AT_EGID, HOST_AUXV.getOrDefault(AT_EGID, 0L),
            AT_SECURE, 0,
            AT_RANDOM, randomAt,
            AT_HWCAP2, HOST_AUXV.getOrDefault(AT_HWCAP2, 0L),
            AT_EXECFN, execfnAt,
            AT_PLATFORM, platformAt,
            AT_MINSIGSTKSZ, HOST_AUXV.getOrDefault(AT_MINSIGSTKSZ, 2048L),
            AT_NULL, 0,
        };
        int words = 1 + args.length + 1 + envs.length + 1 + aux.length;
        long sp = (randomAt - 8L * words) & -16L;

        // One block from sp to top, written with one copy_to_user.
        int size = (int) (top - sp);
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(args.length);
        for (long a : argAt) {
            b.putLong(a);
        }
        b.putLong(0);
        for (long e : envAt) {
            b.putLong(e);
        }
        b.putLong(0);
        for (long v : aux) {
            b.putLong(v);
        }
        b.put((int) (randomAt - sp), random);
        b.put((int) (platformAt - sp), platform);
        for (int i = 0; i < args.length; i++) {
            b.put((int) (argAt[i] - sp), args[i]);
        }
        for (int i = 0; i < envs.length; i++) {
            b.put((int) (envAt[i] - sp), envs[i]);
        }
        b.put((int) (execfnAt - sp), fn);
        UserSlice.wo(space, sp, size).copyFromSlice(b.array());
        return sp;
    }

    private static byte[][] bytes(List<byte[]> strings) {
        byte[][] out = new byte[strings.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = java.util.Arrays.copyOf(strings.get(i), strings.get(i).length + 1);
        }
        return out;
    }

    /** The JVM's own auxiliary vector: what the host kernel told this process about the machine. */
    private static Map<Integer, Long> hostAuxv() {
        Map<Integer, Long> m = new HashMap<>();
        try {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(Path.of("/proc/self/auxv"))).order(ByteOrder.LITTLE_ENDIAN);
            while (b.remaining() >= 16) {
                long key = b.getLong();
                long value = b.getLong();
                if (key == AT_NULL) {
                    break;
                }
                m.put((int) key, value);
            }
        } catch (IOException e) {
            // No /proc: the defaults above stand.
        }
        return m;
    }
}
