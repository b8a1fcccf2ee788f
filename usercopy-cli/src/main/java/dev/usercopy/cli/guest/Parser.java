package dev.usercopy.cli.guest;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.AddressSpace.PageState;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.Prot;
import dev.usercopy.uapi.Errno;

/** Parses one line of the guest language into an {@link Op}; null for a blank or comment line. */
public final class Parser {
    private Parser() {}

    /** The statements, in the order the help lists them; a test holds the docs to this list. */
    public static final List<String> VERBS = List.of("mmap", "munmap", "mprotect", "madvise", "write", "read", "readstr", "clear",
            "fork", "switch", "close", "lend", "unlend", "spaces", "maps", "pages", "frame", "stats", "echo", "expect", "help", "quit");

    /** The largest read the language allows, so a typo cannot ask for gigabytes of heap. */
    public static final int MAX_READ = 1 << 20;

    /** A word, or a quoted string ({@code bytes} non-null, UTF-8 with escapes resolved). */
    private record Token(String text, byte[] bytes) {
        boolean quoted() {
            return bytes != null;
        }
    }

    public static Op parse(String line) {
        List<Token> t = tokenize(line);
        if (t.isEmpty()) {
            return null;
        }
        String verb = word(t.getFirst()).toLowerCase(Locale.ROOT);
        List<Token> a = t.subList(1, t.size());
        return switch (verb) {
            case "mmap" -> {
                atLeast(verb, a, 3, "mmap ADDR|any LENGTH PROT [private|shared] [fixed] [noreplace] [populate]");
                Op.Addr addr = word(a.get(0)).equalsIgnoreCase("any") ? null : addr(a.get(0));
                int flags = 0;
                for (Token f : a.subList(3, a.size())) {
                    flags |= switch (word(f).toLowerCase(Locale.ROOT)) {
                        case "private" -> MapFlags.PRIVATE;
                        case "shared" -> MapFlags.SHARED;
                        case "fixed" -> MapFlags.FIXED;
                        case "noreplace" -> MapFlags.FIXED_NOREPLACE;
                        case "populate" -> MapFlags.POPULATE;
                        default -> throw new ScriptException("unknown mmap flag '" + f.text() + "' (private, shared, fixed, noreplace, populate)");
                    };
                }
                if ((flags & (MapFlags.PRIVATE | MapFlags.SHARED)) == 0) {
                    flags |= MapFlags.PRIVATE;
                }
                yield new Op.Mmap(addr, size(a.get(1)), prot(a.get(2)), flags);
            }
            case "munmap" -> {
                exactly(verb, a, 2, "munmap ADDR LENGTH");
                yield new Op.Munmap(addr(a.get(0)), size(a.get(1)));
            }
            case "mprotect" -> {
                exactly(verb, a, 3, "mprotect ADDR LENGTH PROT");
                yield new Op.Mprotect(addr(a.get(0)), size(a.get(1)), prot(a.get(2)));
            }
            case "madvise" -> {
                exactly(verb, a, 3, "madvise ADDR LENGTH dontneed");
                if (!word(a.get(2)).equalsIgnoreCase("dontneed")) {
                    throw new ScriptException("madvise knows only 'dontneed', not '" + a.get(2).text() + "'");
                }
                yield new Op.MadviseDontNeed(addr(a.get(0)), size(a.get(1)));
            }
            case "write" -> {
                atLeast(verb, a, 2, "write ADDR \"string\" | write ADDR HEX...");
                yield new Op.Write(addr(a.get(0)), data(a.subList(1, a.size())));
            }
            case "read" -> {
                exactly(verb, a, 2, "read ADDR LENGTH");
                yield new Op.Read(addr(a.get(0)), bufferSize(a.get(1)));
            }
            case "readstr" -> {
                exactly(verb, a, 2, "readstr ADDR MAX");
                yield new Op.ReadString(addr(a.get(0)), bufferSize(a.get(1)));
            }
            case "clear" -> {
                exactly(verb, a, 2, "clear ADDR LENGTH");
                yield new Op.Clear(addr(a.get(0)), size(a.get(1)));
            }
            case "fork" -> {
                atMost(verb, a, 1, "fork [NAME]");
                yield new Op.Fork(a.isEmpty() ? null : name(a.getFirst()));
            }
            case "switch" -> {
                exactly(verb, a, 1, "switch NAME");
                yield new Op.Switch(name(a.getFirst()));
            }
            case "close" -> {
                exactly(verb, a, 1, "close NAME");
                yield new Op.Close(name(a.getFirst()));
            }
            case "lend" -> {
                if (a.size() < 3 || a.size() > 4) {
                    throw new ScriptException("usage: lend ADDR LENGTH NAME [ro|rw]");
                }
                boolean rw = false;
                if (a.size() == 4) {
                    rw = switch (word(a.get(3)).toLowerCase(Locale.ROOT)) {
                        case "rw" -> true;
                        case "ro" -> false;
                        default -> throw new ScriptException("lend: '" + a.get(3).text() + "' is not ro or rw");
                    };
                }
                yield new Op.Lend(addr(a.get(0)), size(a.get(1)), name(a.get(2)), rw);
            }
            case "unlend" -> {
                atMost(verb, a, 1, "unlend [N]");
                yield new Op.Unlend(a.isEmpty() ? null : (int) size(a.getFirst()));
            }
            case "spaces" -> none(verb, a, new Op.Spaces());
            case "maps" -> none(verb, a, new Op.Maps());
            case "stats" -> none(verb, a, new Op.Stats());
            case "help" -> none(verb, a, new Op.Help());
            case "quit", "exit" -> none(verb, a, new Op.Quit());
            case "pages" -> {
                if (a.isEmpty()) {
                    yield new Op.Pages(null, 0);
                }
                exactly(verb, a, 2, "pages [ADDR LENGTH]");
                yield new Op.Pages(addr(a.get(0)), size(a.get(1)));
            }
            case "frame" -> {
                exactly(verb, a, 1, "frame ADDR");
                yield new Op.Frame(addr(a.getFirst()));
            }
            case "echo" -> {
                String rest = line.strip().substring(t.getFirst().text().length()).strip();
                yield new Op.Echo(a.size() == 1 && a.getFirst().quoted() ? new String(a.getFirst().bytes(), StandardCharsets.UTF_8) : rest);
            }
            case "expect" -> expect(a);
            default -> throw new ScriptException("unknown statement '" + verb + "' (try 'help')");
        };
    }

    private static Op expect(List<Token> a) {
        String usage = "expect ok | ERRNO | left N | bytes DATA | length N | address ADDR | state ADDR STATE"
                + " | pages ADDR SYMBOLS | refcount ADDR N | frame ADDR same|differs NAME";
        atLeast("expect", a, 1, usage);
        String what = word(a.getFirst()).toLowerCase(Locale.ROOT);
        List<Token> r = a.subList(1, a.size());
        return switch (what) {
            case "ok" -> none("expect ok", r, new Op.ExpectOk());
            case "left" -> {
                exactly("expect left", r, 1, "expect left N");
                yield new Op.ExpectLeft(size(r.getFirst()));
            }
            case "bytes" -> {
                atLeast("expect bytes", r, 1, "expect bytes \"string\" | expect bytes HEX...");
                yield new Op.ExpectBytes(data(r));
            }
            case "length" -> {
                exactly("expect length", r, 1, "expect length N");
                yield new Op.ExpectLength(size(r.getFirst()));
            }
            case "address" -> {
                exactly("expect address", r, 1, "expect address ADDR");
                yield new Op.ExpectAddress(addr(r.getFirst()));
            }
            case "state" -> {
                exactly("expect state", r, 2, "expect state ADDR unmapped|lazy|zeroed|private|cow|shared");
                PageState s = PageMap.parseState(word(r.get(1)));
                if (s == null) {
                    throw new ScriptException("unknown page state '" + r.get(1).text() + "' (unmapped, lazy, zeroed, private, cow, shared)");
                }
                yield new Op.ExpectState(addr(r.get(0)), s);
            }
            case "pages" -> {
                exactly("expect pages", r, 2, "expect pages ADDR SYMBOLS (one of . - 0 P C S a page)");
                String symbols = r.get(1).quoted() ? new String(r.get(1).bytes(), StandardCharsets.UTF_8) : r.get(1).text();
                for (char c : symbols.toCharArray()) {
                    if (PageMap.parseState(String.valueOf(c)) == null) {
                        throw new ScriptException("'" + c + "' is not a page symbol (. - 0 P C S)");
                    }
                }
                yield new Op.ExpectPages(addr(r.get(0)), symbols.toUpperCase(Locale.ROOT));
            }
            case "refcount" -> {
                exactly("expect refcount", r, 2, "expect refcount ADDR N");
                yield new Op.ExpectRefcount(addr(r.get(0)), size(r.get(1)));
            }
            case "frame" -> {
                exactly("expect frame", r, 3, "expect frame ADDR same|differs NAME");
                String how = word(r.get(1)).toLowerCase(Locale.ROOT);
                if (!how.equals("same") && !how.equals("differs")) {
                    throw new ScriptException("expect frame takes 'same' or 'differs', not '" + r.get(1).text() + "'");
                }
                yield new Op.ExpectFrame(addr(r.get(0)), how.equals("same"), name(r.get(2)));
            }
            default -> {
                Errno e = errno(what);
                if (e == null) {
                    throw new ScriptException("unknown expectation '" + a.getFirst().text() + "'; " + usage);
                }
                yield none("expect " + what, r, new Op.ExpectErrno(e));
            }
        };
    }

    private static Errno errno(String word) {
        for (Errno e : Errno.values()) {
            if (e.name().equalsIgnoreCase(word)) {
                return e;
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- arguments

    private static Op none(String verb, List<Token> a, Op op) {
        exactly(verb, a, 0, verb);
        return op;
    }

    private static void exactly(String verb, List<Token> a, int n, String usage) {
        if (a.size() != n) {
            throw new ScriptException(verb + " takes " + n + " argument" + (n == 1 ? "" : "s") + ", not " + a.size() + ": " + usage);
        }
    }

    private static void atLeast(String verb, List<Token> a, int n, String usage) {
        if (a.size() < n) {
            throw new ScriptException(verb + " needs at least " + n + " argument" + (n == 1 ? "" : "s") + ": " + usage);
        }
    }

    private static void atMost(String verb, List<Token> a, int n, String usage) {
        if (a.size() > n) {
            throw new ScriptException(verb + " takes at most " + n + " argument" + (n == 1 ? "" : "s") + ": " + usage);
        }
    }

    private static String word(Token t) {
        if (t.quoted()) {
            throw new ScriptException("unexpected string \"" + t.text() + "\"");
        }
        return t.text();
    }

    private static String name(Token t) {
        String s = word(t);
        if (!s.matches("[A-Za-z_][A-Za-z0-9_.-]*")) {
            throw new ScriptException("'" + s + "' is not a name for an address space (letters, digits, _ . -)");
        }
        return s;
    }

    /** {@code $}, {@code $+N}, {@code $-N}, or a number. */
    static Op.Addr addr(Token t) {
        String s = word(t);
        if (s.startsWith("$")) {
            String rest = s.substring(1);
            if (rest.isEmpty()) {
                return new Op.Addr(true, 0);
            }
            if (rest.startsWith("+") || rest.startsWith("-")) {
                long n = number(rest.substring(1), s);
                return new Op.Addr(true, rest.charAt(0) == '+' ? n : -n);
            }
            throw new ScriptException("'" + s + "' is not an address ($, $+N or a number)");
        }
        return Op.Addr.of(number(s, s));
    }

    /** A byte count: a number, optionally with a unit: {@code p} pages, {@code k} KiB, {@code m} MiB, {@code g} GiB. */
    static long size(Token t) {
        String s = word(t).toLowerCase(Locale.ROOT);
        long unit = 1;
        if (!s.startsWith("0x") && !s.isEmpty()) {
            char last = s.charAt(s.length() - 1);
            unit = switch (last) {
                case 'p' -> AddressSpace.PAGE;
                case 'k' -> 1L << 10;
                case 'm' -> 1L << 20;
                case 'g' -> 1L << 30;
                default -> 1;
            };
            if (unit != 1) {
                s = s.substring(0, s.length() - 1);
            }
        }
        long n = number(s, t.text());
        try {
            return Math.multiplyExact(n, unit);
        } catch (ArithmeticException e) {
            throw new ScriptException("'" + t.text() + "' is too large");
        }
    }

    private static int bufferSize(Token t) {
        long n = size(t);
        if (n > MAX_READ) {
            throw new ScriptException("'" + t.text() + "' is more than the " + MAX_READ + " bytes a read may ask for");
        }
        return (int) n;
    }

    private static long number(String s, String asWritten) {
        String digits = s.replace("_", "");
        try {
            if (digits.startsWith("0x") || digits.startsWith("0X")) {
                return Long.parseUnsignedLong(digits.substring(2), 16);
            }
            long n = Long.parseLong(digits);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ScriptException("'" + asWritten + "' is not a number (decimal, or hex with 0x)");
        }
    }

    /** PROT as letters: any of {@code rwx} (dashes allowed, {@code r-x}), or {@code none}. */
    static int prot(Token t) {
        String s = word(t).toLowerCase(Locale.ROOT);
        if (s.equals("none")) {
            return Prot.NONE;
        }
        int prot = 0;
        for (char c : s.toCharArray()) {
            prot |= switch (c) {
                case 'r' -> Prot.READ;
                case 'w' -> Prot.WRITE;
                case 'x' -> Prot.EXEC;
                case '-' -> 0;
                default -> throw new ScriptException("'" + t.text() + "' is not a protection (letters of rwx, or none)");
            };
        }
        return prot;
    }

    /** One quoted string, or hex bytes ({@code 41 42 0a} or {@code 41420a}). */
    static byte[] data(List<Token> a) {
        if (a.size() == 1 && a.getFirst().quoted()) {
            return a.getFirst().bytes();
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (Token t : a) {
            String hex = word(t);
            if (hex.length() % 2 != 0 || !hex.matches("[0-9A-Fa-f]+")) {
                throw new ScriptException("'" + hex + "' is not hex bytes (pairs of hex digits) or a single quoted string");
            }
            for (int i = 0; i < hex.length(); i += 2) {
                bytes.write(Integer.parseInt(hex, i, i + 2, 16));
            }
        }
        return bytes.toByteArray();
    }

    // ---------------------------------------------------------------- tokens

    /** Words split on blanks; {@code "..."} with escapes \n \t \r \0 \\ \" \xNN; {@code #} outside quotes ends the line. */
    private static List<Token> tokenize(String line) {
        List<Token> tokens = new ArrayList<>();
        int i = 0;
        int n = line.length();
        while (i < n) {
            char c = line.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '#') {
                break;
            } else if (c == '"') {
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                StringBuilder text = new StringBuilder();
                i++;
                boolean closed = false;
                while (i < n) {
                    char d = line.charAt(i++);
                    if (d == '"') {
                        closed = true;
                        break;
                    }
                    if (d == '\\') {
                        if (i >= n) {
                            break;
                        }
                        char e = line.charAt(i++);
                        switch (e) {
                            case 'n' -> b.write('\n');
                            case 't' -> b.write('\t');
                            case 'r' -> b.write('\r');
                            case '0' -> b.write(0);
                            case '\\', '"' -> b.write(e);
                            case 'x' -> {
                                if (i + 2 > n || !line.substring(i, i + 2).matches("[0-9A-Fa-f]{2}")) {
                                    throw new ScriptException("\\x needs two hex digits");
                                }
                                b.write(Integer.parseInt(line, i, i + 2, 16));
                                i += 2;
                            }
                            default -> throw new ScriptException("unknown escape \\" + e + " (\\n \\t \\r \\0 \\\\ \\\" \\xNN)");
                        }
                        text.append('\\').append(e);
                    } else {
                        int cp = line.codePointAt(i - 1);
                        i += Character.charCount(cp) - 1;
                        b.writeBytes(Character.toString(cp).getBytes(StandardCharsets.UTF_8));
                        text.appendCodePoint(cp);
                    }
                }
                if (!closed) {
                    throw new ScriptException("a string is not closed (missing \")");
                }
                tokens.add(new Token(text.toString(), b.toByteArray()));
            } else {
                int start = i;
                while (i < n && !Character.isWhitespace(line.charAt(i)) && line.charAt(i) != '"' && line.charAt(i) != '#') {
                    i++;
                }
                tokens.add(new Token(line.substring(start, i), null));
            }
        }
        return tokens;
    }
}
