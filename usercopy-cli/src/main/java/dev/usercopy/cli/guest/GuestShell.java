package dev.usercopy.cli.guest;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.Lend;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.uapi.Errno;
import dev.usercopy.platform.FaultHandler;
import dev.usercopy.uaccess.UserSlice;

/**
 * The machine a guest-language session runs on: one {@link MemoryManager},
 * named address spaces (the first is {@code p0}), the current one, and the
 * result of the last statement for {@code expect} to check.
 */
public final class GuestShell implements AutoCloseable {
    static final long PAGE = AddressSpace.PAGE;

    /** How a statement came out. */
    public enum Status { OK, ERRNO, EXPECT_FAILED, QUIT }

    /** A statement's outcome and what it prints. {@code problem} is set for ERRNO and EXPECT_FAILED. */
    public record Step(Status status, List<String> output, String problem) {}

    /**
     * What the last statement that was not an {@code expect} produced.
     * {@code left} is -1 unless it was a copy; {@code value} is mmap's
     * address or readstr's length.
     */
    private record Result(String verb, Errno errno, String message, long value, long left, byte[] data) {
        static final Result NONE = new Result("nothing", null, null, 0, -1, null);
    }

    private final MemoryManager mm;
    private final Map<String, AddressSpace> spaces = new LinkedHashMap<>();
    private final FaultHandler.Stats faultsAtStart;
    private String current;
    private Result last = Result.NONE;
    private Long lastMmap;
    /** The lends made, in order (lend N is index N - 1); null once ended. */
    private final List<Lend> lends = new ArrayList<>();

    public GuestShell(MemoryManager.Config config) {
        this.mm = new MemoryManager(config);
        this.faultsAtStart = FaultHandler.stats();
        this.current = "p0";
        spaces.put(current, mm.newAddressSpace());
    }

    /** The configuration the commands run with unless told otherwise: 256 MiB of frames, 4 GiB of address space. */
    public static MemoryManager.Config config(int faultAround) {
        return MemoryManager.Config.defaults().withFrames(65536).withAddressSpaceSize(4L << 30).withFaultAround(faultAround);
    }

    public String current() {
        return current;
    }

    public AddressSpace space() {
        return spaces.get(current);
    }

    public String nameOf(AddressSpace space) {
        for (Map.Entry<String, AddressSpace> e : spaces.entrySet()) {
            if (e.getValue() == space) {
                return e.getKey();
            }
        }
        return "a closed address space";
    }

    public Step execute(Op op) {
        List<String> out = new ArrayList<>();
        if (op instanceof Op.Expect expect) {
            String problem = check(expect);
            return problem == null ? new Step(Status.OK, out, null) : new Step(Status.EXPECT_FAILED, out, problem);
        }
        try {
            last = run(op, out);
        } catch (ErrnoException e) {
            last = new Result(verb(op), e.errno(), e.getMessage(), 0, -1, null);
        }
        if (op instanceof Op.Quit) {
            return new Step(Status.QUIT, out, null);
        }
        if (last.errno() != null) {
            return new Step(Status.ERRNO, out, last.message());
        }
        return new Step(Status.OK, out, null);
    }

    private static String verb(Op op) {
        return op.getClass().getSimpleName().toLowerCase(Locale.ROOT);
    }

    private Result ok(String verb) {
        return new Result(verb, null, null, 0, -1, null);
    }

    private Result run(Op op, List<String> out) {
        AddressSpace as = space();
        return switch (op) {
            case Op.Mmap m -> {
                long a = as.mmap(m.addr() == null ? 0 : at(m.addr()), m.length(), m.prot(), m.flags());
                lastMmap = a;
                out.add(String.format("= 0x%x", a));
                yield new Result("mmap", null, null, a, -1, null);
            }
            case Op.Munmap m -> {
                as.munmap(at(m.addr()), m.length());
                yield ok("munmap");
            }
            case Op.Mprotect m -> {
                as.mprotect(at(m.addr()), m.length(), m.prot());
                yield ok("mprotect");
            }
            case Op.MadviseDontNeed m -> {
                as.madviseDontNeed(at(m.addr()), m.length());
                yield ok("madvise");
            }
            case Op.Write w -> {
                long a = at(w.addr());
                byte[] data = w.data();
                long done = bytesDone(data.length, () -> UserSlice.wo(as, a, data.length).copyFromSlice(data));
                yield copied("write", a, data.length, data.length - done, null, out);
            }
            case Op.Clear c -> {
                long a = at(c.addr());
                long done = bytesDone(c.length(), () -> UserSlice.wo(as, a, c.length()).zero());
                yield copied("clear", a, c.length(), c.length() - done, null, out);
            }
            case Op.Read r -> {
                long a = at(r.addr());
                byte[] buf = new byte[r.length()];
                long done = bytesDone(r.length(), () -> UserSlice.ro(as, a, r.length()).copyToSlice(buf));
                byte[] got = Arrays.copyOf(buf, (int) done);
                out.addAll(Bytes.dump(a, got));
                yield copied("read", a, r.length(), r.length() - done, got, out);
            }
            // readstr stays on strncpy_from_user itself: the language shows its count (MAX when no NUL fits, any
            // bytes), where UserSlice.readCString answers ENAMETOOLONG or EILSEQ as a syscall would.
            case Op.ReadString r -> {
                long a = at(r.addr());
                byte[] buf = new byte[r.max()];
                long n = as.strncpyFromUser(buf, 0, a, r.max());
                if (n < 0) {
                    String msg = String.format("EFAULT: the string runs into a byte the guest may not read [guest 0x%x, length %d]", a, r.max());
                    yield new Result("readstr", Errno.EFAULT, msg, n, -1, null);
                }
                byte[] got = Arrays.copyOf(buf, (int) n);
                out.add("= " + Bytes.quote(got) + " (" + n + " bytes" + (n == r.max() ? ", no NUL within " + r.max() : "") + ")");
                yield new Result("readstr", null, null, n, -1, got);
            }
            case Op.Fork f -> {
                String name = f.name() != null ? f.name() : freeName();
                if (spaces.containsKey(name)) {
                    throw new ScriptException("an address space named '" + name + "' exists already");
                }
                spaces.put(name, as.fork());
                out.add("forked " + current + " -> " + name + " (still in " + current + "; 'switch " + name + "' to go there)");
                yield ok("fork");
            }
            case Op.Switch s -> {
                named(s.name());
                current = s.name();
                out.add("now in " + current);
                yield ok("switch");
            }
            case Op.Close c -> {
                AddressSpace victim = named(c.name());
                if (c.name().equals(current)) {
                    throw new ScriptException("'" + c.name() + "' is the current address space; switch to another first");
                }
                victim.close();
                spaces.remove(c.name());
                out.add("closed " + c.name());
                yield ok("close");
            }
            case Op.Lend l -> {
                AddressSpace borrower = named(l.borrower());
                if (borrower == as) {
                    throw new ScriptException("lend to '" + l.borrower() + "': that is the current space; lend to another one");
                }
                Lend lend = as.lend(at(l.addr()), l.length(), borrower, l.writable());
                lends.add(lend);
                lastMmap = lend.address();
                out.add(String.format("lend %d: [0x%x, +%d) of %s -> 0x%x in %s, %s; whole pages shared, partial ones copied",
                        lends.size(), at(l.addr()), l.length(), current, lend.address(), l.borrower(), l.writable() ? "rw" : "ro"));
                yield new Result("lend", null, null, lend.address(), -1, null);
            }
            case Op.Unlend u -> {
                int id = u.id() != null ? u.id() : lends.size();
                while (u.id() == null && id > 0 && lends.get(id - 1) == null) {
                    id--;
                }
                if (id < 1 || id > lends.size() || lends.get(id - 1) == null) {
                    throw new ScriptException(u.id() == null ? "no lend to end" : "no open lend " + id);
                }
                Lend lend = lends.set(id - 1, null);
                lend.close();
                out.add("lend " + id + " ended" + (lend.writable() ? ": head and tail bytes copied back" : ""));
                yield ok("unlend");
            }
            case Op.Spaces s -> {
                for (Map.Entry<String, AddressSpace> e : spaces.entrySet()) {
                    out.add(String.format("%s %-8s %d grants", e.getKey().equals(current) ? "*" : " ", e.getKey(), e.getValue().grants().size()));
                }
                yield ok("spaces");
            }
            case Op.Maps m -> {
                out.add(MapsView.HEADER);
                out.addAll(MapsView.lines(as, this::nameOf));
                yield ok("maps");
            }
            case Op.Pages p -> {
                out.addAll(pages(p));
                yield ok("pages");
            }
            case Op.Frame f -> {
                long a = at(f.addr());
                long[] fr = as.frameOf(a);
                out.add(fr == null ? String.format("0x%x: no frame (%s)", a, as.pageState(a).name().toLowerCase(Locale.ROOT))
                        : String.format("0x%x: frame %d, refcount %d, %s", a, fr[0], fr[1], as.pageState(a).name().toLowerCase(Locale.ROOT)));
                yield ok("frame");
            }
            case Op.Stats s -> {
                out.addAll(stats());
                yield ok("stats");
            }
            case Op.Echo e -> {
                out.add(e.text());
                yield ok("echo");
            }
            case Op.Help h -> {
                out.addAll(helpText().lines().toList());
                yield ok("help");
            }
            case Op.Quit q -> ok("quit");
            case Op.Expect e -> throw new IllegalStateException("expect is checked, not run");
        };
    }

    /**
     * Runs a copy through {@link UserSlice}, as a syscall would, and returns
     * the bytes it did: all of them, or the EFAULT's {@code done()} (0 when
     * the range was refused before any byte moved: access_ok).
     */
    private static long bytesDone(long length, Runnable copy) {
        try {
            copy.run();
            return length;
        } catch (ErrnoException e) {
            if (e.errno() != Errno.EFAULT) {
                throw e;
            }
            return e.done();
        }
    }

    /** A copy's result: EFAULT with the exact count when it stopped short. */
    private Result copied(String verb, long address, long length, long left, byte[] data, List<String> out) {
        if (left == 0) {
            if (!verb.equals("read")) {
                out.add("= " + length + " bytes");
            }
            return new Result(verb, null, null, 0, 0, data);
        }
        String msg = String.format("EFAULT: %d of %d bytes not copied, the first at 0x%x [guest 0x%x, length %d]",
                left, length, address + length - left, address, length);
        return new Result(verb, Errno.EFAULT, msg, 0, left, data);
    }

    public List<String> pages(Op.Pages p) {
        AddressSpace as = space();
        long from;
        long count;
        if (p.addr() != null) {
            from = Math.floorDiv(at(p.addr()), PAGE) * PAGE;
            long end = at(p.addr()) + p.length();
            count = Math.ceilDiv(end - from, PAGE);
        } else {
            long[] span = PageMap.span(as);
            if (span == null) {
                return List.of("(nothing mapped)");
            }
            from = span[0];
            count = Math.min((span[1] - span[0]) / PAGE, PageMap.MAX_DEFAULT_PAGES);
        }
        List<String> lines = new ArrayList<>(PageMap.render(as, from, count));
        lines.add(PageMap.LEGEND);
        return lines;
    }

    List<String> stats() {
        MemoryManager.Stats s = mm.stats();
        FaultHandler.Stats f = FaultHandler.stats();
        return List.of(
                String.format("frames: %d used, %d free of %d", s.usedFrames(), s.freeFrames(), s.frames()),
                String.format("host mappings (VMAs): %d of a budget of %d", s.vmas(), s.vmaBudget()),
                String.format("address spaces: %d (current %s)", s.addressSpaces(), current),
                String.format("faults fixed up by the usercopy handler since start: %d (%d SIGSEGV, %d SIGBUS)",
                        f.fixups() - faultsAtStart.fixups(), f.segvFixups() - faultsAtStart.segvFixups(), f.busFixups() - faultsAtStart.busFixups()));
    }

    private String freeName() {
        for (int i = 1; ; i++) {
            if (!spaces.containsKey("p" + i)) {
                return "p" + i;
            }
        }
    }

    private AddressSpace named(String name) {
        AddressSpace s = spaces.get(name);
        if (s == null) {
            throw new ScriptException("no address space named '" + name + "' (have: " + String.join(", ", spaces.keySet()) + ")");
        }
        return s;
    }

    private long at(Op.Addr a) {
        if (!a.lastMmap()) {
            return a.offset();
        }
        if (lastMmap == null) {
            throw new ScriptException("$ stands for the address the last mmap returned, and no mmap has succeeded yet");
        }
        return lastMmap + a.offset();
    }

    // ---------------------------------------------------------------- expect

    /** Null if the expectation holds, else what was found instead. */
    private String check(Op.Expect e) {
        AddressSpace as = space();
        return switch (e) {
            case Op.ExpectOk o -> last.errno() == null ? null : "expected ok, got " + last.message();
            case Op.ExpectErrno x -> x.errno() == last.errno() ? null
                    : "expected " + x.errno().name() + ", got " + (last.errno() == null ? "ok from " + last.verb() : last.message());
            case Op.ExpectLeft l -> last.left() < 0 ? "expected a copy before 'expect left', got " + last.verb()
                    : last.left() == l.left() ? null : "expected " + l.left() + " bytes not copied, got " + last.left();
            case Op.ExpectBytes b -> last.data() == null ? "expected bytes from a read or readstr, got " + describeLast()
                    : Arrays.equals(last.data(), b.data()) ? null
                    : "expected " + Bytes.quote(b.data()) + ", got " + Bytes.quote(last.data());
            case Op.ExpectLength l -> !last.verb().equals("readstr") || last.errno() != null ? "expected a string length from readstr, got " + describeLast()
                    : last.value() == l.length() ? null : "expected length " + l.length() + ", got " + last.value();
            case Op.ExpectAddress a -> !(last.verb().equals("mmap") || last.verb().equals("lend")) || last.errno() != null
                    ? "expected an address from mmap or lend, got " + describeLast()
                    : last.value() == at(a.addr()) ? null : String.format("expected address 0x%x, got 0x%x", at(a.addr()), last.value());
            case Op.ExpectState s -> {
                AddressSpace.PageState got = as.pageState(at(s.addr()));
                yield got == s.state() ? null : String.format("expected page 0x%x to be %s, it is %s", at(s.addr()), name(s.state()), name(got));
            }
            case Op.ExpectPages p -> {
                long from = Math.floorDiv(at(p.addr()), PAGE) * PAGE;
                String got = PageMap.symbols(as, from, p.symbols().length());
                yield got.equals(p.symbols()) ? null : String.format("expected pages from 0x%x to be %s, they are %s (%s)", from, p.symbols(), got, PageMap.LEGEND);
            }
            case Op.ExpectRefcount r -> {
                long[] fr = as.frameOf(at(r.addr()));
                yield fr == null ? String.format("expected refcount %d at 0x%x, but no frame is mapped there", r.refcount(), at(r.addr()))
                        : fr[1] == r.refcount() ? null
                        : String.format("expected refcount %d at 0x%x (frame %d), got %d", r.refcount(), at(r.addr()), fr[0], fr[1]);
            }
            case Op.ExpectFrame f -> {
                long a = at(f.addr());
                long[] here = as.frameOf(a);
                long[] there = named(f.other()).frameOf(a);
                boolean same = here != null && there != null && here[0] == there[0];
                yield same == f.same() ? null
                        : String.format("expected 0x%x to map %s frame in %s as in %s: %s has %s, %s has %s", a, f.same() ? "the same" : "a different",
                        current, f.other(), current, here == null ? "none" : "frame " + here[0], f.other(), there == null ? "none" : "frame " + there[0]);
            }
        };
    }

    private String describeLast() {
        return last.errno() != null ? last.message() : last.verb();
    }

    private static String name(AddressSpace.PageState s) {
        return s.name().toLowerCase(Locale.ROOT).replace("cow_shared", "cow");
    }

    public static String helpText() {
        try (InputStream in = GuestShell.class.getResourceAsStream("guest-language-help.txt")) {
            if (in == null) {
                throw new IllegalStateException("guest-language-help.txt is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        mm.close();
    }
}
