package dev.usercopy.faultinjection;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.FileRef;
import dev.usercopy.mm.Grant;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.mm.Prot;
import dev.usercopy.mm.Provider;
import dev.usercopy.uapi.Errno;

import static dev.usercopy.faultinjection.MmOp.hex;
import static dev.usercopy.faultinjection.MmOracleHost.OP_CLEAR;
import static dev.usercopy.faultinjection.MmOracleHost.OP_COPY_FROM;
import static dev.usercopy.faultinjection.MmOracleHost.OP_COPY_TO;
import static dev.usercopy.faultinjection.MmOracleHost.OP_MADVISE;
import static dev.usercopy.faultinjection.MmOracleHost.OP_MMAP;
import static dev.usercopy.faultinjection.MmOracleHost.OP_MPROTECT;
import static dev.usercopy.faultinjection.MmOracleHost.OP_MSYNC;
import static dev.usercopy.faultinjection.MmOracleHost.OP_MUNMAP;
import static dev.usercopy.faultinjection.MmOracleHost.OP_STRNCPY;

/**
 * One sequence of {@link MmOp}s, run on a fresh guest {@link AddressSpace}
 * and on the host helper's region side by side, every result compared as it
 * comes: the return value or errno, the count of a copy and the bytes it
 * moved, then the pages the operation touched (readable? writable? what they
 * hold), at the end every page of every live space, and the files.
 *
 * <p>Each difference is one of three {@link Finding.Kind}s: a documented
 * difference (the guest differs on purpose; the host is brought in line, the
 * sequence goes on), a known one (listed in {@link Known}, being fixed), or a
 * mismatch. The sequence stops at a mismatch, and at a known difference that
 * left the two sides' pages different.
 */
final class MmOracleRun {
    static final long PAGE = AddressSpace.PAGE;
    static final long MIN = AddressSpace.MIN_ADDRESS;
    /** PR_SET_NAME copies at most 15 bytes of the name with strncpy_from_user. */
    static final int STRNCPY_COUNT = 15;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MADV_DONTNEED = 4;
    static final int MS_SYNC = 4;
    static final int FILES = 2;
    /** -Dusercopy.mmoracle.trace=true: print every op and how it went. */
    static final boolean TRACE = Boolean.getBoolean("usercopy.mmoracle.trace");

    /** Deliberate differences: the guest is not Linux here, on purpose. */
    enum Documented {
        PLACEMENT("mmap without MAP_FIXED, hint not taken: Linux places the mapping top-down below mmap_base, the guest "
                + "takes the lowest free range from MIN_ADDRESS; both are free ranges, and the host's mapping is moved to "
                + "the guest's address"),
        LOW_ADDRESS("below the guest's MIN_ADDRESS (0x10000, its mmap_min_addr; the host's is "
                + MmOracleTest.hostMmapMinAddr() + ", and the host region does not start at its address 0): the guest "
                + "refuses MAP_FIXED there and passes over hints there, so the host is not asked, or its hinted mapping "
                + "is moved to the guest's address"),
        ADDRESS_SPACE_SIZE("the guest's address space is small (the test's 512 KiB; Linux's is 128 TiB): a mapping without "
                + "MAP_FIXED that does not fit the guest (ENOMEM) fits on the host, and is undone there, or fails there for a "
                + "reason do_mmap checks only after it has found room (EOVERFLOW of the file offset, the mapping type)"),
        EOF_TAIL("the bytes of a file mapping's last page past the end of the file, which POSIX leaves unspecified: "
                + "what a shared mapping writes there, the guest keeps while the page is mapped (a private mapping reads "
                + "zeros there); Linux keeps it while the page is cached, shows it to private mappings too, and its file "
                + "system may zero it when it writes the page back (ext4 does at msync, tmpfs never). The sequence stops "
                + "there"),
        LUDICROUS_UNCHECKED("the Ludicrous profile skips access_ok: a copy whose range leaves user space reads or "
                + "writes the guest's own memory modulo its size, where Linux refuses it (not run on either side)");

        final String reason;

        Documented(String reason) {
            this.reason = reason;
        }
    }

    /**
     * Differences from Linux known and being fixed: issue 11's list ("Linux
     * semantics to match", items 1 to 6), then the ones this oracle found
     * (item 0). Counted and listed in the summary; a failure once
     * {@link MmOracleTest#PENDING} no longer lists them.
     */
    enum Known {
        ZERO_FILL(1, "copy_from_user zero-fills the part of the kernel buffer it could not copy"),
        ACCESS_OK(2, "a copy whose range runs past the end of user space copies nothing (access_ok)"),
        EXEC_ONLY(3, "PROT_EXEC-only pages are execute-only (pku): unreadable"),
        UNALIGNED_HINT(4, "an unaligned mmap hint is rounded down to its page and used when free"),
        ERRNO(5, "the errno (error precedence) of mmap/munmap/mprotect/madvise/msync"),
        HOLES(6, "mprotect and madvise over a range with holes change the mapped parts, then ENOMEM"),
        EMPTY_RANGE(0, "mprotect, madvise and msync of length 0 return 0 at any page-aligned address, even outside user "
                + "space, before anything else is checked (mprotect's protection bits too)"),
        MSYNC_LENGTH_WRAP(0, "msync rounds its length up to whole pages with wrap-around: a length of -4095..-1 becomes 0, "
                + "and msync returns 0"),
        PROT_BITS(0, "mmap ignores protection bits it does not know (PROT_SEM 0x8, 0x10: the mapping is made); mprotect "
                + "accepts PROT_SEM"),
        SHARED_VALIDATE(0, "MAP_SHARED|MAP_PRIVATE is MAP_SHARED_VALIDATE: a shared file mapping (EOPNOTSUPP with a flag it "
                + "does not validate, such as MAP_FIXED_NOREPLACE); EINVAL for anonymous memory"),
        FILE_OFFSET_OVERFLOW(0, "a file mmap whose offset / 4096 + pages overflows (a negative or huge offset): EOVERFLOW"),
        PRIVATE_FILE_SNAPSHOT(0, "a MAP_PRIVATE file page the guest has touched is a copy: a later write to the file through "
                + "a MAP_SHARED mapping does not show in it; Linux maps the page cache's page until the private mapping "
                + "writes to it");

        /** Issue 11's item number, or 0 for a difference this oracle found. */
        final int item;
        final String what;

        Known(int item, String what) {
            this.item = item;
            this.what = what;
        }

        String title() {
            return item > 0 ? "issue 11 #" + item + ": " + what : "found by the oracle: " + what;
        }
    }

    /** A difference: what, where (the op's index, or -1 for the end), and how it showed. */
    record Finding(Kind kind, String label, String detail, int op) {
        enum Kind { DOCUMENTED, KNOWN, MISMATCH }
    }

    /** How one sequence went: the ops asked, how far it got, what it found. */
    record Result(List<MmOp> ops, int ran, List<Finding> findings, Finding mismatch, List<String> outcomes) {}

    /** One guest address space and the host process that mirrors it. */
    static final class Space {
        final AddressSpace guest;
        final MmOracleHost.Proc host;
        boolean alive = true;

        Space(AddressSpace guest, MmOracleHost.Proc host) {
            this.guest = guest;
            this.host = host;
        }
    }

    /** Where the next op comes from: a generator (which may look at the guest), or a list to replay. */
    interface OpSource {
        /** The next op, or null at the end. */
        MmOp next(MmOracleRun run);
    }

    private final MmOracleHost host;
    private final MemoryManager mm;
    private final long size;
    private final Path[] guestFiles = new Path[FILES];
    private final Path[] hostFiles = new Path[FILES];
    private final long[] fileSizes = new long[FILES];
    private final byte[][] initialContent = new byte[FILES][];
    final List<Space> spaces = new ArrayList<>();
    private final List<Finding> findings = new ArrayList<>();
    private final List<String> outcomes = new ArrayList<>();
    /**
     * Whether the pages an op touched are scanned after every op (which finds
     * a difference where it starts), or only where the results already
     * differ and at the end (so pages stay lazy until the sequence touches
     * them, as demand paging, fork and copy-on-write need to be tested).
     */
    private final boolean eager;
    private final boolean writeProbes;
    private Finding mismatch;
    private boolean diverged;

    /**
     * A fresh guest space on {@code mm} and the host's emptied region, with
     * two files of random length (0 to 5 pages and a part) made from
     * {@code seed}, one copy for each side.
     */
    MmOracleRun(MmOracleHost host, MemoryManager mm, Path dir, long seed, int serial) {
        this.host = host;
        this.mm = mm;
        this.size = mm.config().addressSpaceSize();
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x6A09E667F3BCC909L);
        this.eager = rnd.nextInt(3) == 0;
        this.writeProbes = rnd.nextBoolean();
        try {
            for (int f = 0; f < FILES; f++) {
                long len = rnd.nextInt(8) == 0 ? 0 : rnd.nextLong(6 * PAGE);
                if (rnd.nextInt(3) == 0) {
                    len -= len % PAGE; // whole pages too
                }
                byte[] content = new byte[(int) len];
                rnd.nextBytes(content);
                fileSizes[f] = len;
                initialContent[f] = content;
                guestFiles[f] = dir.resolve("seq" + serial + "-guest-" + f);
                hostFiles[f] = dir.resolve("seq" + serial + "-host-" + f);
                Files.write(guestFiles[f], content);
                Files.write(hostFiles[f], content);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        host.reset(List.of(hostFiles));
        spaces.add(new Space(mm.newAddressSpace(), host.first()));
    }

    long size() {
        return size;
    }

    long fileSize(int f) {
        return fileSizes[f];
    }

    /** The guest's grants of a live space (for the generator). */
    List<Grant> grants(int space) {
        return spaces.get(space).guest.grants();
    }

    List<Integer> alive() {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < spaces.size(); i++) {
            if (spaces.get(i).alive) {
                out.add(i);
            }
        }
        return out;
    }

    /** Runs up to {@code max} ops from {@code source}, then the final checks; closes everything. */
    Result run(OpSource source, int max) {
        List<MmOp> ops = new ArrayList<>();
        int ran = 0;
        try {
            for (MmOp op; ops.size() < max && (op = source.next(this)) != null; ) {
                ops.add(op);
                int index = ops.size() - 1;
                if (op.space() >= spaces.size() || !spaces.get(op.space()).alive) {
                    continue; // a shrunk sequence lost the fork that made this space
                }
                step(op, index);
                ran++;
                if (mismatch != null || diverged) {
                    break;
                }
            }
            if (mismatch == null && !diverged) {
                finalChecks();
            }
        } catch (RuntimeException | AssertionError e) {
            if (mismatch == null) {
                mismatch = new Finding(Finding.Kind.MISMATCH, "the harness or the guest threw " + e.getClass().getSimpleName(),
                        stackTrace(e), ops.size() - 1);
            }
        } finally {
            closeAll();
        }
        return new Result(ops, ran, findings, mismatch, outcomes);
    }

    private static String stackTrace(Throwable e) {
        java.io.StringWriter w = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(w));
        return w.toString();
    }

    private void closeAll() {
        for (Space s : spaces.reversed()) {
            if (s.alive) {
                s.alive = false;
                s.guest.close();
            }
        }
        for (int f = 0; f < FILES; f++) {
            try {
                if (guestFiles[f] != null) {
                    Files.deleteIfExists(guestFiles[f]);
                    Files.deleteIfExists(hostFiles[f]);
                }
            } catch (IOException ignored) {
                // the temporary directory goes at the end
            }
        }
    }

    // ---------------------------------------------------------------- findings

    private void documented(Documented d, String detail, int op) {
        trace(op, "documented " + d + ": " + detail);
        findings.add(new Finding(Finding.Kind.DOCUMENTED, d.name(), detail, op));
    }

    private void known(Known k, String detail, int op) {
        trace(op, "known " + k + ": " + detail);
        findings.add(new Finding(Finding.Kind.KNOWN, k.name(), detail, op));
    }

    private void mismatch(String label, String detail, int op) {
        trace(op, "MISMATCH " + label + ": " + detail);
        if (mismatch == null) {
            mismatch = new Finding(Finding.Kind.MISMATCH, label, detail, op);
        }
    }

    private void trace(int op, String what) {
        if (TRACE) {
            System.out.println("[mm-oracle] #" + op + " " + what);
        }
    }

    private void outcome(MmOp op, String how) {
        trace(-2, "space " + op.space() + ": " + op + ": " + how);
        outcomes.add(op.getClass().getSimpleName() + "\t" + how);
    }

    // ---------------------------------------------------------------- one op

    private void step(MmOp op, int index) {
        Space s = spaces.get(op.space());
        switch (op) {
            case MmOp.Mmap m -> mmap(s, m, index);
            case MmOp.Munmap m -> status(s, op, index, () -> {
                s.guest.munmap(m.addr(), m.length());
                return 0;
            }, OP_MUNMAP, m.addr(), m.length(), 0);
            case MmOp.Mprotect m -> status(s, op, index, () -> {
                s.guest.mprotect(m.addr(), m.length(), m.prot());
                return 0;
            }, OP_MPROTECT, m.addr(), m.length(), m.prot());
            case MmOp.MadviseDontNeed m -> status(s, op, index, () -> {
                s.guest.madviseDontNeed(m.addr(), m.length());
                return 0;
            }, OP_MADVISE, m.addr(), m.length(), MADV_DONTNEED);
            case MmOp.Msync m -> status(s, op, index, () -> {
                s.guest.msync(m.addr(), m.length());
                return 0;
            }, OP_MSYNC, m.addr(), m.length(), MS_SYNC);
            case MmOp.CopyFrom c -> copyFrom(s, c, index);
            case MmOp.CopyTo c -> copyTo(s, c, index);
            case MmOp.Clear c -> clear(s, c, index);
            case MmOp.Strncpy c -> strncpy(s, c, index);
            case MmOp.Fork f -> {
                AddressSpace child = s.guest.fork();
                spaces.add(new Space(child, host.fork(s.host)));
                outcome(op, "ok");
            }
            case MmOp.Exit e -> {
                if (e.space() == 0) {
                    return;
                }
                s.alive = false;
                s.guest.close();
                host.exit(s.host);
                outcome(op, "ok");
            }
        }
    }

    /** The guest's result: the value, or -errno. */
    private static long guest(LongSupplier call) {
        try {
            return call.getAsLong();
        } catch (ErrnoException e) {
            return -e.errno().number();
        }
    }

    static String errno(long r) {
        return r >= 0 ? "ok" : Errno.nameOf((int) -r);
    }

    /** munmap, mprotect, madvise, msync: 0 or -errno, then the pages of the range. */
    private void status(Space s, MmOp op, int index, LongSupplier guestCall, int hostOp, long addr, long length, long arg) {
        // mprotect changes what can be written, which only a write shows.
        Range range = Range.of(addr, length, size, op instanceof MmOp.Mprotect || rndWrite(index));
        s.host.send(hostOp, host.host(addr), length, arg, 0, 0, 0, new byte[0], eager ? hostScan(range) : MmOracleHost.Scan.NONE);
        long g = guest(guestCall);
        MmOracleHost.Answer a = s.host.receive();
        long h = a.result();
        Known knownHere = null;
        if (g != h) {
            knownHere = statusKnown(op, length, g, h);
            String detail = op + ": guest " + errno(g) + ", Linux " + errno(h);
            if (knownHere == null) {
                mismatch(op.getClass().getSimpleName() + ": guest " + errno(g) + ", Linux " + errno(h), detail, index);
                return;
            }
            known(knownHere, detail, index);
        }
        // ENOMEM from mprotect or madvise may have changed part of the range (holes), a difference may have too.
        boolean suspect = g != h || g == -Errno.ENOMEM.number();
        PageDiff diff = eager ? compare(s, range, a.scan()) : suspect ? scan(s, range) : null;
        if (diff != null) {
            boolean holes = g == h && g == -Errno.ENOMEM.number() && (op instanceof MmOp.Mprotect || op instanceof MmOp.MadviseDontNeed)
                    && !diff.execOnly();
            if (holes) {
                known(Known.HOLES, op + ": " + diff, index);
                diverged = true;
            } else if (knownHere != null) {
                diverged = true; // the pages show the same difference
            } else {
                scanMismatch(s, op, index, diff);
            }
            return;
        }
        if (op instanceof MmOp.Msync && g == 0 && h == 0) {
            String files = filesAfterMsync(s, addr, length);
            if (files != null) {
                mismatch("msync: the file differs", op + ": " + files, index);
                return;
            }
        }
        outcome(op, knownHere != null ? "known" : g == 0 ? "ok" : "same errno " + errno(g));
    }

    /**
     * After an msync of [addr, addr + length) that both sides say succeeded:
     * the file pages its shared file mappings cover hold the same bytes in
     * both files (the host's file is its page cache, written through at
     * every store). Returns the first difference, or null.
     */
    private String filesAfterMsync(Space s, long addr, long length) {
        long from = addr / PAGE;
        long to = Math.min(size, addr + length + PAGE - 1) / PAGE;
        for (Grant g : s.guest.grants()) {
            if (!(g.provider() instanceof Provider.FmapBorrowed fb) || g.end() <= from || g.start() >= to) {
                continue;
            }
            int f = Arrays.asList(guestFiles).indexOf(fb.file().path());
            try {
                byte[] gf = Files.readAllBytes(guestFiles[f]);
                byte[] hf = Files.readAllBytes(hostFiles[f]);
                for (long p = Math.max(from, g.start()); p < Math.min(to, g.end()); p++) {
                    long at = fb.file().offset() + (p - g.start()) * PAGE;
                    int a = (int) Math.min(at, gf.length);
                    int b = (int) Math.min(at + PAGE, gf.length);
                    int ha = (int) Math.min(at, hf.length);
                    int hb = (int) Math.min(at + PAGE, hf.length);
                    if (!Arrays.equals(gf, a, b, hf, ha, hb)) {
                        return "file " + f + " page at offset " + hex(at) + " (guest page " + hex(p * PAGE) + ") differs after msync";
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return null;
    }

    /** Which known difference explains a status op's different results, or null. */
    private static Known statusKnown(MmOp op, long length, long g, long h) {
        if (g < 0 && h < 0) {
            return Known.ERRNO;
        }
        if (h == 0 && length == 0 && !(op instanceof MmOp.Munmap)) {
            return Known.EMPTY_RANGE;
        }
        if (h == 0 && op instanceof MmOp.Msync && length < 0 && length >= -(PAGE - 1)) {
            return Known.MSYNC_LENGTH_WRAP;
        }
        if (h == 0 && op instanceof MmOp.Mprotect m && (m.prot() & ~7) == 0x8) {
            return Known.PROT_BITS;
        }
        return null;
    }

    private boolean rndWrite(int index) {
        return writeProbes && index % 3 == 0;
    }

    /** A difference in the pages: a known one (then true when the pages now differ), or a mismatch. */
    private void scanMismatch(Space s, MmOp op, int index, PageDiff diff) {
        if (pastEof(s, diff)) {
            documented(Documented.EOF_TAIL, op + ": " + diff, index);
            diverged = true;
            return;
        }
        Known k = pageKnown(s, diff);
        if (k != null) {
            known(k, op + ": " + diff, index);
            diverged |= k != Known.EXEC_ONLY; // exec-only: a read difference, the pages are the same
            return;
        }
        mismatch("pages differ after " + op.getClass().getSimpleName(), op + " left the pages different: " + diff, index);
    }

    private boolean pastEof(Space s, PageDiff d) {
        return d.what() == PageDiff.What.CONTENT
                && pastEof(s, d.addr() + d.guest(), d.guestPage()[(int) d.guest()], d.hostPage()[(int) d.guest()]);
    }

    /**
     * Whether guest byte {@code addr} lies in a file mapping past the end of
     * its file, with a zero on one side: written there (through a shared
     * mapping of the page) on one, zeroed or never kept on the other.
     */
    private boolean pastEof(Space s, long addr, byte guest, byte linux) {
        for (Grant g : s.guest.grants()) {
            FileRef file = g.provider() instanceof Provider.FmapBorrowed fb ? fb.file()
                    : g.provider() instanceof Provider.Allocated al ? al.cowFile() : null;
            if (g.start() <= addr / PAGE && addr / PAGE < g.end() && file != null) {
                int f = Arrays.asList(guestFiles).indexOf(file.path());
                long at = file.offset() + (addr - g.start() * PAGE);
                try {
                    return (guest == 0 || linux == 0) && f >= 0 && at >= Files.size(hostFiles[f]);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return false;
    }

    /** Which known difference explains a page difference, or null. */
    private Known pageKnown(Space s, PageDiff d) {
        if (d.execOnly()) {
            return Known.EXEC_ONLY;
        }
        if (d.what() == PageDiff.What.CONTENT) {
            FilePage file = privateFilePage(s, d.addr());
            if (file != null && file.stale(d.guestPage(), d.hostPage())) {
                return Known.PRIVATE_FILE_SNAPSHOT;
            }
        }
        return null;
    }

    /**
     * For a guest page a private file mapping holds: that file page as
     * Linux's page cache has it now, and as it was before the guest's
     * mappings could have changed it (the guest's file as written back so
     * far, or the file as the sequence began). Null for other pages.
     */
    private record FilePage(byte[] linuxNow, byte[] guestFile, byte[] initial) {
        /** Whether the guest's page (or byte {@code i} of it) is an older version of the file than Linux's. */
        boolean stale(byte[] guestPage, byte[] linuxPage) {
            return Arrays.equals(linuxPage, linuxNow) && (Arrays.equals(guestPage, guestFile) || Arrays.equals(guestPage, initial))
                    && !Arrays.equals(guestPage, linuxPage);
        }

        boolean staleByte(int i, byte guestByte, byte linuxByte) {
            return linuxByte == linuxNow[i] && (guestByte == guestFile[i] || guestByte == initial[i]) && guestByte != linuxByte;
        }
    }

    private FilePage privateFilePage(Space s, long addr) {
        for (Grant g : s.guest.grants()) {
            if (g.start() <= addr / PAGE && addr / PAGE < g.end() && g.provider() instanceof Provider.Allocated a && a.cowFile() != null) {
                int f = Arrays.asList(guestFiles).indexOf(a.cowFile().path());
                if (f < 0) {
                    return null;
                }
                long at = a.cowFile().offset() + (addr / PAGE - g.start()) * PAGE;
                return new FilePage(readPage(hostFiles[f], at), readPage(guestFiles[f], at), slice(initialContent[f], at));
            }
        }
        return null;
    }

    private static byte[] readPage(Path file, long at) {
        try {
            return slice(Files.readAllBytes(file), at);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The page at {@code at}, zeros past the end. */
    private static byte[] slice(byte[] content, long at) {
        byte[] page = new byte[(int) PAGE];
        if (at >= 0 && at < content.length) {
            System.arraycopy(content, (int) at, page, 0, (int) Math.min(PAGE, content.length - at));
        }
        return page;
    }

    // ---------------------------------------------------------------- mmap

    private void mmap(Space s, MmOp.Mmap m, int index) {
        boolean fixed = (m.flags() & (MapFlags.FIXED | MapFlags.FIXED_NOREPLACE)) != 0;
        boolean low = fixed && m.addr() >= 0 && m.addr() < MIN;
        int hostFlags = m.flags() | (m.file() < 0 ? MAP_ANONYMOUS : 0);
        long hint = fixed || m.addr() != 0 ? host.host(m.addr()) : 0;
        boolean write = rndWrite(index);
        long scanPages = m.length() > 0 ? Math.min(size / PAGE, (m.length() + PAGE - 1) / PAGE) + 2 : 0;
        if (!low) { // the host works while the guest does
            s.host.send(OP_MMAP, hint, m.length(), m.prot(), hostFlags, m.file(), m.offset(), new byte[0],
                    eager ? MmOracleHost.Scan.afterResult(scanPages, write) : MmOracleHost.Scan.NONE);
        }
        long g = guest(() -> m.file() < 0 ? s.guest.mmap(m.addr(), m.length(), m.prot(), m.flags())
                : s.guest.mmapFile(m.addr(), m.length(), m.prot(), m.flags(), guestFiles[m.file()], m.offset()));
        if (low) {
            if (g >= 0) {
                mismatch("mmap: MAP_FIXED below MIN_ADDRESS", m + " succeeded at " + hex(g), index);
            } else {
                documented(Documented.LOW_ADDRESS, m + ": guest " + errno(g) + ", host not asked", index);
                outcome(m, "documented");
            }
            return;
        }
        // The host scanned from the page before its result: the same pages as the guest's range when the addresses agree.
        Range range = g >= 0 && eager ? Range.of(g, m.length(), size, write) : null;
        MmOracleHost.Answer ha = s.host.receive();
        long h = ha.result();
        byte[] scanned = ha.scan();
        if (g < 0 && h < 0) {
            if (g != h && !fixed && g == -Errno.ENOMEM.number() && !fits(s, m.length())) {
                // Linux, as small as the guest, would not find room either, before it checks what comes later.
                documented(Documented.ADDRESS_SPACE_SIZE, m + ": guest ENOMEM, Linux " + errno(h), index);
                outcome(m, "documented");
            } else if (g != h) {
                known(mmapKnown(m, g, h), m + ": guest " + errno(g) + ", Linux " + errno(h), index);
                outcome(m, "known");
            } else {
                outcome(m, "same errno " + errno(g));
            }
            return;
        }
        if (g < 0) {
            boolean inRegion = h >= host.base && h < MmOracleHost.TASK_SIZE;
            Known k = mmapKnown(m, g, h);
            if (!fixed && g == -Errno.ENOMEM.number() && !inRegion) {
                documented(Documented.ADDRESS_SPACE_SIZE, m + ": guest ENOMEM, Linux mapped it at 0x" + Long.toHexString(h), index);
                undoHost(s, h, m.length());
                outcome(m, "documented");
            } else if (k != null) {
                known(k, m + ": guest " + errno(g) + ", Linux mapped it at " + where(h), index);
                undoHost(s, h, m.length());
                if (fixed) {
                    diverged = true; // Linux's MAP_FIXED replaced what was there
                }
                outcome(m, "known");
            } else {
                mismatch("mmap: guest " + errno(g) + ", Linux maps", m + " failed with " + errno(g) + " in the guest; Linux mapped it at "
                        + where(h), index);
            }
            return;
        }
        if (h < 0) {
            Known k = mmapKnown(m, g, h);
            if (k != null) {
                known(k, m + ": guest mapped it at " + hex(g) + ", Linux " + errno(h), index);
                s.guest.munmap(g, m.length());
                if (fixed) {
                    diverged = true; // the guest's MAP_FIXED replaced what was there
                }
                outcome(m, "known");
            } else {
                mismatch("mmap: guest maps, Linux " + errno(h), m + " mapped at " + hex(g) + " in the guest; Linux said " + errno(h), index);
            }
            return;
        }
        long hostG = host.host(g);
        if (h != hostG) {
            if (fixed) {
                mismatch("mmap: MAP_FIXED at different addresses", m + ": guest " + hex(g) + ", Linux " + where(h), index);
                return;
            }
            long hintPage = m.addr() & -PAGE;
            boolean guestTookHint = m.addr() > 0 && g == hintPage;
            boolean hostTookHint = m.addr() > 0 && h == host.host(hintPage);
            if (hostTookHint && !guestTookHint) {
                if (m.addr() < MIN) {
                    documented(Documented.LOW_ADDRESS, m + ": Linux took the hint, the guest mapped at " + hex(g), index);
                } else if (m.addr() % PAGE != 0) {
                    known(Known.UNALIGNED_HINT, m + ": Linux mapped at " + where(h) + ", the guest at " + hex(g), index);
                } else {
                    mismatch("mmap: Linux takes a free hint the guest passes over", m + ": Linux mapped at " + where(h)
                            + ", the guest at " + hex(g), index);
                    return;
                }
            } else if (guestTookHint) {
                mismatch("mmap: the guest takes a hint Linux passes over", m + ": guest at " + hex(g) + ", Linux at " + where(h), index);
                return;
            } else {
                documented(Documented.PLACEMENT, m + ": guest " + hex(g) + ", Linux " + where(h), index);
            }
            // The host's mapping moves to the guest's address, which must be free there too.
            undoHost(s, h, m.length());
            // MAP_SHARED_VALIDATE refuses MAP_FIXED_NOREPLACE: MAP_SHARED is the same mapping.
            int type = (hostFlags & 3) == 3 ? MapFlags.SHARED : hostFlags & 3;
            MmOracleHost.Answer moved = s.host.call(OP_MMAP, hostG, m.length(), m.prot(),
                    (hostFlags & ~(3 | MapFlags.FIXED)) | type | MapFlags.FIXED_NOREPLACE,
                    m.file(), m.offset(), new byte[0], hostScan(range));
            long again = moved.result();
            scanned = moved.scan();
            if (again != hostG) {
                mismatch("mmap: the guest's address is not free on the host", m + ": guest at " + hex(g)
                        + ", which the host's mapping cannot take: " + where(again), index);
                return;
            }
        }
        PageDiff diff = compare(s, range, scanned);
        if (diff != null) {
            scanMismatch(s, m, index, diff);
            return;
        }
        outcome(m, "ok");
    }

    /** Which known difference explains an mmap's different results (at least one of them an error), or null. */
    private static Known mmapKnown(MmOp.Mmap m, long g, long h) {
        int eoverflow = -Errno.EOVERFLOW.number();
        int einval = -Errno.EINVAL.number();
        if (g < 0 && h < 0) {
            return Known.ERRNO;
        }
        if (h == eoverflow || g == eoverflow) {
            return Known.FILE_OFFSET_OVERFLOW;
        }
        boolean validate = (m.flags() & 3) == 3 && m.file() >= 0;
        if (validate && (h >= 0 || h == -95 /* EOPNOTSUPP */) && g == einval) {
            return Known.SHARED_VALIDATE;
        }
        if ((m.prot() & ~7) != 0 && h >= 0 && g == einval) {
            return Known.PROT_BITS;
        }
        return g < 0 && h < 0 ? Known.ERRNO : null;
    }

    /** Whether the guest has a free range of {@code length} bytes from MIN_ADDRESS up. */
    private boolean fits(Space s, long length) {
        if (length <= 0 || length > size) {
            return false;
        }
        long pages = (length + PAGE - 1) / PAGE;
        long free = MIN / PAGE;
        for (Grant g : s.guest.grants()) {
            if (g.start() - free >= pages) {
                return true;
            }
            free = Math.max(free, g.end());
        }
        return size / PAGE - free >= pages;
    }

    private String where(long h) {
        if (h < 0) {
            return errno(h);
        }
        return h >= host.base && h < MmOracleHost.TASK_SIZE ? "guest " + hex(h - host.base) : "host 0x" + Long.toHexString(h) + " (outside the region)";
    }

    private void undoHost(Space s, long h, long length) {
        long r = s.host.call(OP_MUNMAP, h, length).result();
        if (r != 0) {
            throw new IllegalStateException("undoing a host mapping at 0x" + Long.toHexString(h) + " failed: errno " + -r);
        }
    }

    // ---------------------------------------------------------------- copies

    /** Whether [addr, addr + n) lies in user space (the guest's, which ends where the host's does). */
    private boolean inUserSpace(long addr, long n) {
        return n == 0 || (addr >= 0 && n > 0 && addr <= size - n);
    }

    private boolean ludicrousOutside(MmOp op, long addr, long n, int index) {
        if (!mm.config().profile().checksAccess() && !inUserSpace(addr, n)) {
            documented(Documented.LUDICROUS_UNCHECKED, op + " in " + mm.config().profile(), index);
            outcome(op, "documented");
            return true;
        }
        return false;
    }

    /** A count mismatch is a known one when a page of the range is exec-only, or the range leaves user space. */
    private Known copyKnown(Space s, long addr, long n) {
        if (!inUserSpace(addr, n)) {
            return Known.ACCESS_OK;
        }
        return anyExecOnly(s, addr, n) ? Known.EXEC_ONLY : null;
    }

    private boolean anyExecOnly(Space s, long addr, long n) {
        long from = Math.max(0, addr) / PAGE;
        long to = Math.min(size, addr + n + PAGE - 1) / PAGE;
        for (Grant gr : s.guest.grants()) {
            if ((gr.prot() & 7) == Prot.EXEC && gr.start() < to && gr.end() > from) {
                return true;
            }
        }
        return false;
    }

    private void copyFrom(Space s, MmOp.CopyFrom c, int index) {
        if (ludicrousOutside(c, c.addr(), c.length(), index)) {
            return;
        }
        int n = c.length();
        byte[] buf = new byte[n + 16];
        Arrays.fill(buf, (byte) 0x5A);
        s.host.send(OP_COPY_FROM, host.host(c.addr()), n, 0, 0, 0, 0, new byte[0], MmOracleHost.Scan.NONE);
        long left = s.guest.copyFromUser(buf, 8, c.addr(), n);
        long copied = n - left;
        MmOracleHost.Answer a = s.host.receive();
        long hostCopied = hostCount(a.result(), n);
        if (hostCopied < 0) {
            mismatch("copy_from_user: pwrite said " + errno(a.result()), c + ": pwrite returned " + errno(a.result()), index);
            return;
        }
        for (int i = 0; i < 8; i++) {
            if (buf[i] != 0x5A || buf[8 + n + i] != 0x5A) {
                mismatch("copy_from_user wrote outside the kernel buffer", c + " changed byte " + (i < 8 && buf[i] != 0x5A ? i - 8 : n + i)
                        + " of the kernel buffer's surroundings", index);
                return;
            }
        }
        if (copied != hostCopied) {
            Known k = copyKnown(s, c.addr(), n);
            String detail = c + ": the guest copied " + copied + ", Linux " + hostCopied;
            if (k != null) {
                known(k, detail, index);
                outcome(c, "known");
            } else {
                mismatch("copy_from_user: counts differ", detail, index);
            }
            return; // the pages are unchanged either way
        }
        byte[] got = Arrays.copyOfRange(buf, 8, 8 + (int) copied);
        if (!Arrays.equals(got, a.data())) {
            long at = c.addr() + Arrays.mismatch(got, a.data());
            int i = (int) (at - c.addr());
            if (pastEof(s, at, got[i], a.data()[i])) {
                documented(Documented.EOF_TAIL, c + ": byte " + hex(at) + " differs", index);
                diverged = true;
                return;
            }
            FilePage file = privateFilePage(s, at);
            if (file != null && file.staleByte((int) (at % PAGE), got[i], a.data()[i])) {
                known(Known.PRIVATE_FILE_SNAPSHOT, c + ": byte " + hex(at) + " differs, Linux's is the file's", index);
                diverged = true;
                return;
            }
            mismatch("copy_from_user: bytes differ", c + ": " + copied + " bytes copied, first difference at "
                    + Arrays.mismatch(got, a.data()), index);
            return;
        }
        for (int i = (int) copied; i < n; i++) {
            if (buf[8 + i] != 0) {
                known(Known.ZERO_FILL, c + ": " + copied + " copied, kernel byte " + i + " not zeroed", index);
                break;
            }
        }
        outcome(c, copied == n ? "full" : copied == 0 ? "nothing" : "partial");
    }

    /** The host's count of a copy of {@code n} bytes: -EFAULT means none; another error is -1 (not a copy result). */
    private static long hostCount(long r, long n) {
        if (r >= 0) {
            return r;
        }
        // EFAULT: nothing copied (with n == 0 too: read and write check access_ok(buf, 0) themselves)
        return r == -Errno.EFAULT.number() ? 0 : -1;
    }

    private void copyTo(Space s, MmOp.CopyTo c, int index) {
        if (ludicrousOutside(c, c.addr(), c.length(), index)) {
            return;
        }
        byte[] data = new byte[c.length()];
        new SplittableRandom(c.dataSeed()).nextBytes(data);
        Range range = Range.of(c.addr(), data.length, size, false);
        s.host.send(OP_COPY_TO, host.host(c.addr()), 0, 0, 0, 0, 0, data, eager ? hostScan(range) : MmOracleHost.Scan.NONE);
        long left = s.guest.copyToUser(c.addr(), data, 0, data.length);
        long copied = data.length - left;
        MmOracleHost.Answer a = s.host.receive();
        copyCompare(s, c, index, c.addr(), data.length, copied, a, range);
    }

    private void clear(Space s, MmOp.Clear c, int index) {
        if (ludicrousOutside(c, c.addr(), c.length(), index)) {
            return;
        }
        Range range = Range.of(c.addr(), c.length(), size, false);
        s.host.send(OP_CLEAR, host.host(c.addr()), c.length(), 0, 0, 0, 0, new byte[0], eager ? hostScan(range) : MmOracleHost.Scan.NONE);
        long left = s.guest.clearUser(c.addr(), c.length());
        long copied = c.length() - left;
        MmOracleHost.Answer a = s.host.receive();
        copyCompare(s, c, index, c.addr(), c.length(), copied, a, range);
    }

    /** To user: the counts, then the pages the copy reached. */
    private void copyCompare(Space s, MmOp op, int index, long addr, long n, long copied, MmOracleHost.Answer a, Range range) {
        long r = a.result();
        long hostCopied = hostCount(r, n);
        if (hostCopied < 0) {
            mismatch(op.getClass().getSimpleName() + ": Linux said " + errno(r), op + ": Linux returned " + errno(r), index);
            return;
        }
        boolean knownHere = false;
        if (copied != hostCopied) {
            Known k = copyKnown(s, addr, n);
            String detail = op + ": the guest wrote " + copied + ", Linux " + hostCopied;
            if (k == null) {
                mismatch(op.getClass().getSimpleName() + ": counts differ", detail, index);
                return;
            }
            known(k, detail, index);
            knownHere = true;
        }
        PageDiff diff = eager ? compare(s, range, a.scan()) : knownHere ? scan(s, range) : null;
        if (diff != null) {
            if (knownHere) {
                diverged = true;
            } else {
                scanMismatch(s, op, index, diff);
            }
            return;
        }
        outcome(op, knownHere ? "known" : copied == n ? "full" : copied == 0 ? "nothing" : "partial");
    }

    private void strncpy(Space s, MmOp.Strncpy c, int index) {
        if (ludicrousOutside(c, c.addr(), 1, index)) {
            return;
        }
        byte[] buf = new byte[STRNCPY_COUNT];
        s.host.send(OP_STRNCPY, host.host(c.addr()), 0, 0, 0, 0, 0, new byte[0], MmOracleHost.Scan.NONE);
        long g = s.guest.strncpyFromUser(buf, 0, c.addr(), STRNCPY_COUNT);
        MmOracleHost.Answer a = s.host.receive();
        long h = a.result();
        if (h != 0 && h != -Errno.EFAULT.number()) {
            mismatch("strncpy_from_user: PR_SET_NAME said " + errno(h), c + ": PR_SET_NAME returned " + errno(h), index);
            return;
        }
        if ((g < 0) != (h < 0)) {
            String detail = c + ": guest " + (g < 0 ? errno(g) : g + " bytes") + ", Linux " + (h < 0 ? errno(h) : "a name");
            Known k = anyExecOnly(s, c.addr(), STRNCPY_COUNT) ? Known.EXEC_ONLY : null;
            if (k != null) {
                known(k, detail, index);
                outcome(c, "known");
            } else {
                mismatch("strncpy_from_user: EFAULT on one side only", detail, index);
            }
            return;
        }
        if (g >= 0) {
            int len = 0;
            while (len < a.data().length && a.data()[len] != 0) {
                len++;
            }
            byte[] name = Arrays.copyOf(a.data(), len);
            byte[] ours = Arrays.copyOf(buf, (int) g);
            if (!Arrays.equals(name, ours)) {
                // A NUL inside the guest's copy ends the name: compare what the guest copied up to it.
                mismatch("strncpy_from_user: strings differ", c + ": guest " + g + " bytes " + Arrays.toString(ours) + ", Linux "
                        + Arrays.toString(name), index);
                return;
            }
        }
        outcome(c, g < 0 ? "EFAULT" : g == STRNCPY_COUNT ? "no NUL within count" : "string");
    }

    // ---------------------------------------------------------------- scans

    /** The first page where the two sides differ: in what can be read, what it holds, or what can be written. */
    record PageDiff(long addr, What what, long guest, long linux, boolean execOnly, byte[] guestPage, byte[] hostPage, String grant) {
        enum What { READ, CONTENT, WRITE }

        @Override
        public String toString() {
            String where = "page " + hex(addr) + (execOnly ? " [exec-only]" : "") + ": ";
            return where + switch (what) {
                case READ -> "the guest reads " + guest + " bytes, Linux " + linux;
                case CONTENT -> "byte " + guest + " is " + guestPage[(int) guest] + " in the guest, " + linux + " on Linux";
                case WRITE -> "the guest writes " + guest + " bytes, Linux " + linux;
            } + " " + grant;
        }
    }

    /** Pages [from, from + pages) to scan, with write probes or not. */
    record Range(long from, long pages, boolean write) {
        /**
         * The pages of [addr, addr + length) clipped to the address space,
         * plus one on each side, or null for none. A length that is negative,
         * or reaches past the end, is Linux's unsigned length: to the end.
         */
        static Range of(long addr, long length, long size, boolean write) {
            if (length == 0 || addr >= size || addr < 0 && (length > 0 && addr + length <= 0)) {
                return null;
            }
            long first = Math.max(0, addr) / PAGE;
            long end = length < 0 || addr + length < addr || addr + length > size ? size : addr + length;
            long from = Math.max(0, first - 1);
            long to = Math.min(size / PAGE, (end + PAGE - 1) / PAGE + 1);
            return to > from ? new Range(from, to - from, write) : null;
        }
    }

    private MmOracleHost.Scan hostScan(Range r) {
        return r == null ? MmOracleHost.Scan.NONE : new MmOracleHost.Scan(host.host(r.from() * PAGE), r.pages(), r.write());
    }

    /** Scans {@code r} on both sides now. */
    PageDiff scan(Space s, Range r) {
        return compare(s, r, s.host.call(MmOracleHost.OP_NOP, 0, 0, 0, 0, 0, 0, new byte[0], hostScan(r)).scan());
    }

    /**
     * Reads (and, if the range says so, writes back) each page of the guest
     * and compares it with the host's scan of the same pages: whether it can
     * be read, what it holds, whether it can be written. Returns the first
     * difference (one on an exec-only page only if there is no other), or
     * null. A page that cannot be read is written with zeros (clear_user; on
     * the host a read of /dev/zero).
     */
    PageDiff compare(Space s, Range r, byte[] hostScan) {
        if (r == null) {
            return null;
        }
        ByteBuffer hb = ByteBuffer.wrap(hostScan).order(ByteOrder.LITTLE_ENDIAN);
        byte[] gbuf = new byte[(int) PAGE];
        PageDiff execOnly = null;
        for (long i = 0; i < r.pages(); i++) {
            long addr = (r.from() + i) * PAGE;
            long hr = hostCount(hb.getLong(), PAGE);
            long hw = hostCount(hb.getLong(), PAGE); // 0 when not probed
            byte[] hbuf = new byte[(int) PAGE];
            hb.get(hbuf);
            long gr = PAGE - s.guest.copyFromUser(gbuf, 0, addr, (int) PAGE);
            Arrays.fill(gbuf, (int) gr, (int) PAGE, (byte) 0);
            long gw = 0;
            if (r.write()) {
                gw = PAGE - (gr == PAGE ? s.guest.copyToUser(addr, gbuf, 0, (int) PAGE) : s.guest.clearUser(addr, PAGE));
            }
            PageDiff.What what = gr != hr ? PageDiff.What.READ : !Arrays.equals(gbuf, hbuf) ? PageDiff.What.CONTENT
                    : gw != hw ? PageDiff.What.WRITE : null;
            if (what != null) {
                long gv = what == PageDiff.What.READ ? gr : what == PageDiff.What.WRITE ? gw : Arrays.mismatch(gbuf, hbuf);
                long hv = what == PageDiff.What.READ ? hr : what == PageDiff.What.WRITE ? hw : hbuf[(int) gv];
                PageDiff d = new PageDiff(addr, what, gv, hv, anyExecOnly(s, addr, PAGE), gbuf.clone(), hbuf, pageInfo(s, addr));
                if (!d.execOnly()) {
                    return d;
                }
                execOnly = execOnly == null ? d : execOnly; // the pages after it may hold another difference
            }
        }
        return execOnly;
    }

    private String pageInfo(Space s, long addr) {
        for (Grant g : s.guest.grants()) {
            if (g.start() <= addr / PAGE && addr / PAGE < g.end()) {
                return "(guest grant " + hex(g.start() * PAGE) + "+" + g.pages() + "p " + MmOp.protName(g.prot()) + " "
                        + g.provider().getClass().getSimpleName() + ", " + s.guest.pageState(addr) + ")";
            }
        }
        return "(no guest grant)";
    }

    // ---------------------------------------------------------------- the end

    /** Every page of every live space with write probes, then (all closed) the files. */
    private void finalChecks() {
        for (int i = 0; i < spaces.size(); i++) {
            Space s = spaces.get(i);
            if (!s.alive) {
                continue;
            }
            PageDiff diff = scan(s, new Range(0, size / PAGE, true));
            if (diff != null && pastEof(s, diff)) {
                documented(Documented.EOF_TAIL, "the final scan of space " + i + ": " + diff, -1);
                return;
            }
            if (diff != null) {
                Known k = pageKnown(s, diff);
                if (k != null) {
                    known(k, "the final scan of space " + i + ": " + diff, -1);
                    if (k != Known.EXEC_ONLY) {
                        return;
                    }
                    continue;
                }
                mismatch("pages differ at the end", "space " + i + ": " + diff, -1);
                return;
            }
        }
        // Closing the guest spaces writes their shared file pages back; the host's page cache is the file.
        for (Space s : spaces.reversed()) {
            if (s.alive) {
                s.alive = false;
                s.guest.close();
            }
        }
        host.reset(List.of());
        for (int f = 0; f < FILES; f++) {
            try {
                byte[] g = Files.readAllBytes(guestFiles[f]);
                byte[] h = Files.readAllBytes(hostFiles[f]);
                if (!Arrays.equals(g, h)) {
                    int at = Arrays.mismatch(g, h);
                    mismatch("files differ at the end", "file " + f + " (" + fileSizes[f] + " bytes at first): guest " + g.length
                            + " bytes, Linux " + h.length + "; first difference at byte " + at, -1);
                    return;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
