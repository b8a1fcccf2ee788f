package dev.usercopy.sys;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linux is the oracle: every case of {@code oracle.cases} (brk, mmap,
 * munmap, mprotect, madvise, msync, mremap, rt_sigaction, rt_sigprocmask,
 * sigaltstack, ids, uname, sysinfo, rlimits, getrandom, clocks, sleeps) is
 * run by {@code sys_oracle.c} against the host kernel and through
 * {@link Syscalls#dispatch} on an address space laid out the same way, in
 * the same order, and the two answers must agree: the errno (which check
 * came first), the exact value, the address relative to the region or to
 * the mapping before, the 2 MiB alignment, or the break relative to its
 * start, as each case says.
 *
 * <p>Left out, as known differences (see the report of this family): mmap
 * below mmap_min_addr with MAP_FIXED (root may natively; EPERM here),
 * getpid/getppid (the guest is pid 1). Descriptor 3 is the case file, open
 * read-only on both sides, for the file mappings.
 */
class SysOracleTest {
    @TempDir
    static Path dir;

    private record Case(String name, char kind, String op, String[] args) {}

    @Test
    void everyCaseAnswersAsTheHostKernel() throws Exception {
        String text;
        try (InputStream in = SysOracleTest.class.getResourceAsStream("oracle.cases")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<Case> cases = parse(text);
        Path casesFile = dir.resolve("oracle.cases");
        Files.writeString(casesFile, text);
        Path exe = HostProgram.compile("sys_oracle.c", dir);
        Map<String, String> host = hostAnswers(HostProgram.run(List.of(exe.toString(), casesFile.toString())), cases);
        Map<String, String> guest = guestAnswers(cases, casesFile);
        List<String> wrong = new ArrayList<>();
        for (Case c : cases) {
            if (!host.get(c.name()).equals(guest.get(c.name()))) {
                wrong.add(c.name() + ": host " + host.get(c.name()) + ", guest " + guest.get(c.name()));
            }
        }
        assertEquals(cases.size(), host.size(), "the host answered every case");
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + cases.size() + " cases differ from Linux:\n  " + String.join("\n  ", wrong));
    }

    static List<Case> parse(String text) {
        List<Case> cases = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] t = line.trim().split(" +");
            String[] args = java.util.Arrays.copyOfRange(t, 3, t.length);
            cases.add(new Case(t[0], t[1].charAt(0), t[2], args));
        }
        return cases;
    }

    /** A raw result as a case compares it; {@code previous} is the raw result of the case before. */
    static String normalize(char kind, long r, long base, long brk, long previous) {
        boolean error = r < 0 && r >= -4095;
        String err = error ? Errno.nameOf((int) -r) : null;
        return switch (kind) {
            case 'e' -> error ? err : "ok";
            case '@' -> error ? err : "region+0x" + Long.toHexString(r - base);
            case 'b' -> error ? err : "brk+0x" + Long.toHexString(r - brk);
            case 'p' -> error ? err : "previous" + (r >= previous ? "+0x" + Long.toHexString(r - previous) : "-0x" + Long.toHexString(previous - r));
            case 'a' -> error ? err : r % (2 << 20) == 0 ? "2MiB-aligned" : "not 2MiB-aligned";
            default -> Long.toString(r);
        };
    }

    private static Map<String, String> hostAnswers(String out, List<Case> cases) {
        String[] lines = out.split("\n");
        long base = Long.parseUnsignedLong(lines[0].split(" ")[1]);
        long brk = Long.parseUnsignedLong(lines[1].split(" ")[1]);
        Map<String, Case> byName = new LinkedHashMap<>();
        cases.forEach(c -> byName.put(c.name(), c));
        Map<String, String> answers = new LinkedHashMap<>();
        long previous = 0;
        for (int i = 2; i < lines.length; i++) {
            String[] t = lines[i].split(" ");
            long r = Long.parseLong(t[1]);
            answers.put(t[0], normalize(byName.get(t[0]).kind(), r, base, brk, previous));
            previous = r;
        }
        return answers;
    }

    /** The same layout as the C side: 256 pages, W and W2 read-write, R read-only, N PROT_NONE, the rest unmapped. */
    private static Map<String, String> guestAnswers(List<Case> cases, Path casesFile) {
        try (SysFixture f = new SysFixture()) {
            // The C side has the case file open read-only as descriptor 3: so has the guest.
            int hostFd = (int) dev.usercopy.platform.HostFiles.openat(-100, (casesFile + "\0").getBytes(StandardCharsets.UTF_8),
                    dev.usercopy.platform.HostFiles.O_CLOEXEC, 0);
            assertTrue(hostFd >= 0, "open " + casesFile);
            assertEquals(3, f.task.files().install(new OpenFile(hostFd, 0, FileOpen.typeOf(hostFd)), false));
            long brk = f.call(12, 0);
            long base = f.call(9, 0, 256 * 4096, 3, 0x22, -1, 0);
            assertTrue(base > 0, "region mapped: " + base);
            assertEquals(0, f.call(10, base + 2 * 4096, 4096, 1));
            assertEquals(0, f.call(10, base + 3 * 4096, 4096, 0));
            assertEquals(0, f.call(11, base + 4 * 4096, 252 * 4096));
            Map<String, String> answers = new LinkedHashMap<>();
            long previous = 0;
            for (Case c : cases) {
                long r = run(f, c, base, brk, previous);
                answers.put(c.name(), normalize(c.kind(), r, base, brk, previous));
                previous = r;
            }
            return answers;
        }
    }

    private static long run(SysFixture f, Case c, long base, long brk, long previous) {
        long[] a = new long[6];
        for (int i = 0; i < c.args().length; i++) {
            a[i] = value(f, c.args()[i], base, brk, previous);
        }
        byte[] one = new byte[1];
        switch (c.op()) {
            case "poke" -> {
                one[0] = (byte) a[1];
                assertEquals(0, f.space.copyToUser(a[0], one, 0, 1), c.name());
                return 0;
            }
            case "peek" -> {
                assertEquals(0, f.space.copyFromUser(one, 0, a[0], 1), c.name());
                return one[0] & 0xff;
            }
            case "peekl" -> {
                byte[] b = new byte[8];
                assertEquals(0, f.space.copyFromUser(b, 0, a[0], 8), c.name());
                return java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            }
            case "peekhash" -> {
                byte[] b = new byte[(int) a[1]];
                assertEquals(0, f.space.copyFromUser(b, 0, a[0], b.length), c.name());
                long h = 1469598103934665603L;
                for (byte x : b) {
                    h = (h ^ (x & 0xff)) * 1099511628211L;
                }
                return h;
            }
            default -> {
                return f.call(Integer.decode(c.op()), a);
            }
        }
    }

    /** A token's value, as sys_oracle.c's value() computes it. */
    static long value(SysFixture f, String tok, long base, long brk, long previous) {
        if (tok.matches("S\\d+.*")) {
            int colon = tok.indexOf(':');
            String head = colon < 0 ? tok : tok.substring(0, colon);
            int sign = Math.max(head.indexOf('+'), head.indexOf('-'));
            int k = Integer.parseInt(sign < 0 ? head.substring(1) : head.substring(1, sign));
            long slot = base + 4096 + 256L * k;
            if (colon >= 0) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(256).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (String v : tok.substring(colon + 1).split(",")) {
                    b.putLong(number(v));
                }
                assertEquals(0, f.space.copyToUser(slot, b.array(), 0, 256));
                return slot;
            }
            return sign < 0 ? slot : slot + number(head.substring(sign));
        }
        if (Character.isDigit(tok.charAt(0)) || tok.charAt(0) == '-') {
            return number(tok);
        }
        int sign = -1;
        for (int i = 1; i < tok.length(); i++) {
            if (tok.charAt(i) == '+' || tok.charAt(i) == '-') {
                sign = i;
                break;
            }
        }
        String name = sign < 0 ? tok : tok.substring(0, sign);
        long v = switch (name) {
            case "W" -> base;
            case "W2" -> base + 4096;
            case "R" -> base + 2 * 4096;
            case "N" -> base + 3 * 4096;
            case "U" -> base + 4 * 4096;
            case "T" -> base + 256 * 4096;
            case "B" -> brk;
            case "K" -> 0xffff800000000000L;
            case "P" -> previous;
            default -> throw new IllegalArgumentException("bad token " + tok);
        };
        return sign < 0 ? v : v + number(tok.substring(sign));
    }

    /** C's strtoull/strtoll with base 0: decimal or 0x hex, with a sign. */
    static long number(String s) {
        boolean neg = s.startsWith("-");
        String body = neg || s.startsWith("+") ? s.substring(1) : s;
        long v = body.startsWith("0x") ? Long.parseUnsignedLong(body.substring(2), 16) : Long.parseUnsignedLong(body);
        return neg ? -v : v;
    }
}
