package dev.usercopy.cli.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;

import dev.usercopy.cli.guest.PageMap;
import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.AddressSpace.PageState;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.mm.MemoryManager.ForkMode;
import dev.usercopy.mm.Profile;
import dev.usercopy.mm.Prot;
import dev.usercopy.uapi.Errno;
import dev.usercopy.platform.FaultHandler;
import dev.usercopy.uaccess.UserSlice;

/**
 * A narrated tour of guest memory on real pages, each claim checked as it
 * is made: demand faults with fault-around, fork and copy-on-write with the
 * refcounts, EFAULT for bad pointers, a string that runs into an unmapped
 * page, and a writer racing a string copy; then real programs as guests
 * ({@link GuestDemo}) and the safety profiles' costs. The numbers it prints
 * (faults, frames, refcounts, times) are measured here, in this run.
 */
public final class Demo {
    private static final long PAGE = AddressSpace.PAGE;
    /** A 16-page-aligned guest address, so fault-around windows are easy to name. */
    private static final long BASE = 0x100000;
    private static final int RW = Prot.READ | Prot.WRITE;

    /** Copies the racing-writer section makes; enough to see mixes on two cores, quick on one. */
    public static final int RACE_COPIES = 20_000;

    private final Report r;

    public Demo(Report report) {
        this.r = report;
    }

    /** Runs the tour; returns the number of claims that did not hold. */
    public int run() {
        FaultHandler.Stats before = FaultHandler.stats();
        r.title("usercopy demo: guest memory on real pages, inside this JVM; every claim is checked as it is made");
        try (MemoryManager mm = new MemoryManager(config(ForkMode.SHARED_TABLES))) {
            demandPaging(mm);
            forkAndCopyOnWrite(mm);
            badPointers(mm);
            stringIntoAnUnmappedPage(mm);
            racingWriter(mm);
        }
        GuestDemo guests = new GuestDemo(r);
        guests.realProgram();
        guests.processes();
        profiles();
        theJvmDidNotNotice(before);
        return r.failures();
    }

    private static MemoryManager.Config config(ForkMode mode) {
        return MemoryManager.Config.defaults().withFrames(16384).withAddressSpaceSize(1L << 30).withFaultAround(16).withForkMode(mode);
    }

    // ---------------------------------------------------------------- 1

    private void demandPaging(MemoryManager mm) {
        r.section("demand-paging", "A lazy mapping and its demand faults (fault-around: 16 pages)");
        String profile = mm.config().profile().name().toLowerCase(Locale.ROOT);
        r.value("profile", profile);
        r.say("(safety profile of these sections: %s; --profile or -D%s chooses it)", profile, Profile.PROPERTY);
        try (AddressSpace as = mm.newAddressSpace()) {
            long a = as.mmap(BASE, 64 * PAGE, RW, MapFlags.PRIVATE);
            r.say("mmap(0x%x, 64 pages, rw-, private) = 0x%x: a grant, no frames yet", BASE, a);
            map(as, a, 64);
            r.check("frames in use after mmap", 0L, mm.stats().usedFrames());

            FaultHandler.Stats f0 = FaultHandler.stats();
            byte[] buf = new byte[100];
            Arrays.fill(buf, (byte) 0x55);
            long left = as.copyFromUser(buf, 0, a + 5 * PAGE + 7, buf.length);
            long faults = FaultHandler.stats().fixups() - f0.fixups();
            r.say("copy_from_user(100 bytes from page 5): the host refuses the read, the handler fixes it up,");
            r.say("  the resolver maps the 16-page window around it to the zeroed frames (read-only), and the copy resumes");
            map(as, a, 64);
            r.value("readFaults", faults);
            r.say("  %d fault(s) fixed up in this copy", faults);
            r.check("bytes not copied", 0L, left);
            r.check("the bytes read are zeros", true, allZero(buf));
            r.check("pages 0..15 after the read", "0".repeat(16), PageMap.symbols(as, a, 16));
            r.check("page 16, outside the window", PageState.LAZY, as.pageState(a + 16 * PAGE));
            r.check("frames allocated by a read of lazy anonymous memory", 0L, mm.stats().usedFrames());

            f0 = FaultHandler.stats();
            left = as.copyToUser(a + 40 * PAGE, "hello".getBytes(StandardCharsets.US_ASCII), 0, 5);
            faults = FaultHandler.stats().fixups() - f0.fixups();
            r.say("copy_to_user(\"hello\" to page 40): a write fault on a lazy page allocates its whole window, 32..47");
            map(as, a, 64);
            r.value("writeFaults", faults);
            r.say("  %d fault(s) fixed up in this copy", faults);
            r.check("bytes not copied", 0L, left);
            r.check("frames in use", 16L, mm.stats().usedFrames());
            r.check("pages 32..47", "P".repeat(16), PageMap.symbols(as, a + 32 * PAGE, 16));

            left = as.copyToUser(a + 9 * PAGE, new byte[] {9}, 0, 1);
            r.say("copy_to_user(1 byte to page 9, a zeroed frame): only that page gets a frame of its own");
            map(as, a, 64);
            r.check("bytes not copied", 0L, left);
            r.check("frames in use", 17L, mm.stats().usedFrames());
            r.check("pages 8..10", "0P0", PageMap.symbols(as, a + 8 * PAGE, 3));
            mm.checkInvariants();
            firstTouch(mm, as);
        }
    }

    /** Pages of the first-touch measurement: 4 MiB, a second or so at worst on a slow machine. */
    private static final int TOUCH_PAGES = 1024;

    /** A real number for the narration: first touch per page, once the path is warm. Not a benchmark. */
    private void firstTouch(MemoryManager mm, AddressSpace as) {
        byte[] one = {1};
        double usPerPage = 0;
        long faults = 0;
        for (int round = 0; round < 12; round++) { // the first rounds warm the path up; the last one counts
            long a = as.mmap(0, TOUCH_PAGES * PAGE, RW, MapFlags.PRIVATE);
            FaultHandler.Stats f0 = FaultHandler.stats();
            long t0 = System.nanoTime();
            for (int p = 0; p < TOUCH_PAGES; p++) {
                as.copyToUser(a + p * PAGE, one, 0, 1);
            }
            usPerPage = (System.nanoTime() - t0) / 1000.0 / TOUCH_PAGES;
            faults = FaultHandler.stats().fixups() - f0.fixups();
            as.munmap(a, TOUCH_PAGES * PAGE);
        }
        r.value("firstTouchPages", TOUCH_PAGES);
        r.value("firstTouchFaults", faults);
        r.value("firstTouchMicrosPerPage", usPerPage);
        r.say("measured here: a byte written to each of %d fresh pages took %d faults, %.2f us a page",
                TOUCH_PAGES, faults, usPerPage);
        r.check("faults for " + TOUCH_PAGES + " pages, one a 16-page window", (long) TOUCH_PAGES / 16, faults);
        mm.checkInvariants();
    }

    // ---------------------------------------------------------------- 2

    private void forkAndCopyOnWrite(MemoryManager mm) {
        r.section("fork-cow", "fork and copy-on-write, with the refcounts");
        try (AddressSpace parent = mm.newAddressSpace()) {
            long a = parent.mmap(BASE, 4 * PAGE, RW, MapFlags.PRIVATE);
            for (int p = 0; p < 4; p++) {
                byte[] s = ("parent page " + p).getBytes(StandardCharsets.US_ASCII);
                parent.copyToUser(a + p * PAGE, s, 0, s.length);
            }
            long used0 = mm.stats().usedFrames();
            r.say("parent: 4 private pages at 0x%x, each written (%d frames in use)", a, used0);
            long[] frames = new long[4];
            for (int p = 0; p < 4; p++) {
                frames[p] = parent.frameOf(a + p * PAGE)[0];
            }
            frameTable(List.of("parent"), List.of(parent), a);

            try (AddressSpace child = parent.fork()) {
                r.say("fork(): the child shares the parent's page-table leaf, so every frame keeps refcount 1");
                r.say("  (a refcount counts page-table leaves, not address spaces) and both sides see the pages copy-on-write");
                frameTable(List.of("parent", "child"), List.of(parent, child), a);
                r.check("frames in use after fork (fork copies no page)", used0, mm.stats().usedFrames());
                r.check("child page 2 maps the parent's frame", frames[2], child.frameOf(a + 2 * PAGE)[0]);
                r.check("child's pages", "CCCC", PageMap.symbols(child, a, 4));

                write(child, a, "child was here");
                r.say("the child writes page 0: the shared leaf is copied first (so each frame in it now has refcount 2),");
                r.say("  then page 0 is copied into a new frame of the child's own");
                frameTable(List.of("parent", "child"), List.of(parent, child), a);
                r.check("frames in use (one page copied)", used0 + 1, mm.stats().usedFrames());
                r.check("the child's page 0 is a new frame", true, child.frameOf(a)[0] != frames[0]);
                r.check("the parent keeps the original frame", frames[0], parent.frameOf(a)[0]);
                r.check("the parent's page 0, its frame's only user now", PageState.PRIVATE, parent.pageState(a));
                r.check("refcount of page 1, in both leaves", 2L, parent.frameOf(a + PAGE)[1]);
                r.check("the parent still reads", "parent page 0", readString(parent, a));
                r.check("the child reads", "child was here", readString(child, a));

                write(parent, a + PAGE, "parent again");
                r.say("the parent writes page 1: it gets the copy; the child, left alone with the old frame, owns it now");
                frameTable(List.of("parent", "child"), List.of(parent, child), a);
                r.check("frames in use", used0 + 2, mm.stats().usedFrames());
                r.check("the child's page 1", PageState.PRIVATE, child.pageState(a + PAGE));

                write(child, a + PAGE, "child again");
                r.say("the child writes page 1: it is the last owner, so it writes in place: no copy");
                r.check("the child's page 1 keeps its frame", frames[1], child.frameOf(a + PAGE)[0]);
                r.check("frames in use", used0 + 2, mm.stats().usedFrames());
                r.check("the parent reads page 1", "parent again", readString(parent, a + PAGE));
                mm.checkInvariants();
            }
            r.say("the child exits: its frames go back, the parent's pages are private again");
            r.check("parent's pages", "PPPP", PageMap.symbols(parent, a, 4));
            r.check("frames in use", used0, mm.stats().usedFrames());
            mm.checkInvariants();
        }
    }

    private void frameTable(List<String> names, List<AddressSpace> spaces, long a) {
        List<String> lines = new ArrayList<>();
        StringBuilder head = new StringBuilder("page");
        for (String n : names) {
            head.append(String.format("  %13s %8s %5s", n + " frame", "refcount", "state"));
        }
        lines.add(head.toString());
        for (int p = 0; p < 4; p++) {
            StringBuilder row = new StringBuilder(String.format("%4d", p));
            for (AddressSpace s : spaces) {
                long[] f = s.frameOf(a + p * PAGE);
                row.append(f == null ? String.format("  %13s %8s %5s", "-", "-", PageMap.symbol(s.pageState(a + p * PAGE)))
                        : String.format("  %13d %8d %5s", f[0], f[1], PageMap.symbol(s.pageState(a + p * PAGE))));
            }
            lines.add(row.toString());
        }
        r.picture(lines);
    }

    // ---------------------------------------------------------------- 3

    private void badPointers(MemoryManager mm) {
        r.section("efault", "Bad pointers give EFAULT with the exact count, never a crash");
        try (AddressSpace as = mm.newAddressSpace()) {
            long a = as.mmap(BASE, 2 * PAGE, RW, MapFlags.PRIVATE);
            as.mprotect(a + PAGE, PAGE, Prot.READ);
            long end = a + 2 * PAGE;
            r.say("a 2-page grant at 0x%x: page 0 rw-, page 1 r--; nothing mapped from 0x%x", a, end);

            byte[] buf = new byte[100];
            long left = as.copyFromUser(buf, 0, end - 40, 100);
            r.say("copy_from_user(100 bytes from 0x%x): 40 bytes lie inside the grant", end - 40);
            r.check("bytes not copied", 60L, left);

            left = as.copyToUser(a + PAGE - 10, new byte[30], 0, 30);
            r.say("copy_to_user(30 bytes to 0x%x): 10 bytes on the writable page, then the read-only one", a + PAGE - 10);
            r.check("bytes not copied", 20L, left);

            left = as.copyFromUser(buf, 0, 0, 100);
            r.say("copy_from_user from guest address 0 (a NULL pointer)");
            r.check("bytes not copied", 100L, left);

            long wild = 0x7fff_dead_b000L;
            left = as.copyFromUser(buf, 0, wild, 100);
            r.say("copy_from_user from 0x%x, far outside the %d MiB address space", wild, as.size() >> 20);
            r.check("bytes not copied", 100L, left);
            mm.checkInvariants();
        }
    }

    // ---------------------------------------------------------------- profiles

    /** Pages of the file the profiles section pages in: 1 MiB. */
    private static final int FILE_PAGES = 256;
    /** How long each timed loop of the profiles section runs before it is timed, so the JIT has compiled it. */
    static final long WARMUP_NS = 300_000_000;
    /** Timed rounds after the warm-up; the best counts. */
    private static final int ROUNDS = 3;

    /** What bench/ProfileBench measured for a profile, as the README's profiles table has it (a test holds the two equal). */
    record Published(double filePageMicros, double sliceCopyNanos) {}

    static Published published(Profile p) {
        return switch (p) {
            case FORTRESS -> new Published(1.74, 26.9);
            case PERFORMANCE -> new Published(1.60, 33.0);
            case LUDICROUS -> new Published(1.49, 28.6);
        };
    }

    /**
     * The three safety profiles side by side on the same work: paging a file
     * in, a syscall-sized copy, and a wild pointer. Times are this run's,
     * warmed up, on whatever else the machine is doing; beside them are the
     * README's JMH figures (bench/ProfileBench) from a quiet machine.
     */
    private void profiles() {
        r.section("profiles", "The three safety profiles: what each checks, and what it costs here");
        r.say("fortress: file pages go through a kernel buffer into the frame (copy-semantic PageFrame)");
        r.say("performance: file pages are read straight into the frame");
        r.say("ludicrous: no access_ok; a copy reaches address & (size - 1), inside the reservation, or faults in its guard");
        r.say("times: this run, each loop warmed up %d ms, best of %d rounds; in brackets the README's JMH figures (ProfileBench, a quiet machine)",
                WARMUP_NS / 1_000_000, ROUNDS);
        byte[] content = new byte[FILE_PAGES * (int) PAGE];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i * 31 + 7 + (i >>> 12));
        }
        Path file;
        try {
            file = Files.createTempFile("usercopy-demo", ".bin");
            Files.write(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the demo's file", e);
        }
        try {
            for (Profile p : Profile.values()) {
                profile(p, file, content);
            }
        } finally {
            file.toFile().delete();
        }
    }

    private void profile(Profile p, Path file, byte[] content) {
        String name = p.name().toLowerCase(Locale.ROOT);
        try (MemoryManager mm = new MemoryManager(config(ForkMode.SHARED_TABLES).withProfile(p));
                AddressSpace as = mm.newAddressSpace()) {
            boolean[] same = {true};
            double usPerPage = warmThenBest(() -> {
                long a = as.mmapFile(0, FILE_PAGES * PAGE, Prot.READ, MapFlags.PRIVATE, file, 0);
                long t0 = System.nanoTime();
                for (int i = 0; i < FILE_PAGES; i++) {
                    UserSlice.ro(as, a + i * PAGE, 1).readU8();
                }
                long ns = System.nanoTime() - t0;
                same[0] &= Arrays.equals(content, UserSlice.ro(as, a, content.length).toByteArray());
                as.munmap(a, FILE_PAGES * PAGE);
                return ns / 1000.0 / FILE_PAGES;
            });
            long buf = as.mmap(BASE, PAGE, RW, MapFlags.PRIVATE | MapFlags.POPULATE);
            as.copyToUser(buf, content, 0, (int) PAGE);
            byte[] k = new byte[64];
            int n = 20_000;
            double nsPerCopy = warmThenBest(() -> {
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    UserSlice.ro(as, buf + 8, 64).copyToSlice(k);
                }
                return (System.nanoTime() - t0) / (double) n;
            });
            long wild = as.size() * 3 + buf;
            String outcome;
            byte[] got = new byte[8];
            try {
                UserSlice.ro(as, wild, 8).copyToSlice(got);
                outcome = "read the guest's own bytes at 0x" + Long.toHexString(wild & (as.size() - 1));
            } catch (ErrnoException e) {
                outcome = e.errno().name();
            }
            Published jmh = published(p);
            r.value(name + "FilePageMicros", usPerPage);
            r.value(name + "FilePageMicrosPublished", jmh.filePageMicros());
            r.value(name + "SliceCopyNanos", nsPerCopy);
            r.value(name + "SliceCopyNanosPublished", jmh.sliceCopyNanos());
            r.value(name + "WildPointer", outcome);
            r.say("%-11s file paging %.2f us/page [%.2f], 64-byte UserSlice copy %.1f ns [%.1f], pointer 0x%x: %s",
                    name, usPerPage, jmh.filePageMicros(), nsPerCopy, jmh.sliceCopyNanos(), wild, outcome);
            r.check(name + ": the guest reads the file's bytes", true, same[0]);
            if (p.checksAccess()) {
                r.check(name + ": a pointer past the address space", "EFAULT", outcome);
            } else {
                r.check(name + ": a pointer past the address space reads the guest's own memory", true,
                        Arrays.equals(Arrays.copyOf(content, 8), got));
            }
            mm.checkInvariants();
        }
    }

    /**
     * Runs {@code round} (which returns its own time per unit) for
     * {@link #WARMUP_NS} and at least 10 times, then {@link #ROUNDS} times:
     * the best of those.
     */
    private static double warmThenBest(DoubleSupplier round) {
        long end = System.nanoTime() + WARMUP_NS;
        for (int i = 0; i < 10 || System.nanoTime() < end; i++) {
            round.getAsDouble();
        }
        double best = Double.MAX_VALUE;
        for (int i = 0; i < ROUNDS; i++) {
            best = Math.min(best, round.getAsDouble());
        }
        return best;
    }

    // ---------------------------------------------------------------- 4

    private void stringIntoAnUnmappedPage(MemoryManager mm) {
        r.section("strncpy", "A string running into an unmapped page (strncpy_from_user)");
        try (AddressSpace as = mm.newAddressSpace()) {
            long a = as.mmap(BASE, PAGE, RW, MapFlags.PRIVATE);
            long boundary = a + PAGE;
            byte[] noNul = "/no/terminating/nul".getBytes(StandardCharsets.US_ASCII);
            as.copyToUser(boundary - noNul.length, noNul, 0, noNul.length);
            r.say("\"%s\" fills the last %d bytes of the page at 0x%x; the next page is unmapped",
                    new String(noNul, StandardCharsets.US_ASCII), noNul.length, a);
            long got = as.strncpyFromUser(new byte[256], 0, boundary - noNul.length, 256);
            r.check("strncpy_from_user(max 256) returns -EFAULT", (long) -Errno.EFAULT.number(), got);

            byte[] withNul = "/etc/hosts\0".getBytes(StandardCharsets.US_ASCII);
            as.copyToUser(boundary - withNul.length, withNul, 0, withNul.length);
            r.say("with the NUL on the page's last byte, the string ends before the unmapped page");
            got = as.strncpyFromUser(new byte[256], 0, boundary - withNul.length, 256);
            r.check("strncpy_from_user returns the length", (long) withNul.length - 1, got);

            got = as.strncpyFromUser(new byte[4], 0, boundary - withNul.length, 4);
            r.say("and with a buffer of 4 bytes, the count: no NUL within it");
            r.check("strncpy_from_user(max 4) returns", 4L, got);
        }
    }

    // ---------------------------------------------------------------- 5

    /** What a string copy that raced a writer got. */
    enum RaceOutcome { OLD, NEW, VALID_MIX, EILSEQ, IMPOSSIBLE }

    /**
     * Classifies a copy of a string the writer switches between {@code old}
     * and {@code young} (same length, NUL at the same place): each byte
     * must be the old or the new byte at its place; a mix that is not UTF-8
     * is what a kernel that validates the string answers with EILSEQ.
     */
    static RaceOutcome classify(byte[] got, byte[] old, byte[] young) {
        if (Arrays.equals(got, old)) {
            return RaceOutcome.OLD;
        }
        if (Arrays.equals(got, young)) {
            return RaceOutcome.NEW;
        }
        if (got.length != old.length) {
            return RaceOutcome.IMPOSSIBLE;
        }
        for (int i = 0; i < got.length; i++) {
            if (got[i] != old[i] && got[i] != young[i]) {
                return RaceOutcome.IMPOSSIBLE;
            }
        }
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(got));
            return RaceOutcome.VALID_MIX;
        } catch (CharacterCodingException e) {
            return RaceOutcome.EILSEQ;
        }
    }

    private void racingWriter(MemoryManager mm) {
        r.section("race", "A writer racing a string copy");
        byte[] old = "€".repeat(20).getBytes(StandardCharsets.UTF_8);
        byte[] young = "abc".repeat(20).getBytes(StandardCharsets.UTF_8);
        try (AddressSpace as = mm.newAddressSpace()) {
            long a = as.mmap(BASE, PAGE, RW, MapFlags.PRIVATE);
            write(as, a, new String(old, StandardCharsets.UTF_8));
            r.say("a guest thread keeps rewriting a %d-byte string at 0x%x, a byte at a time: \"€\" x 20 (3 bytes each), then \"abc\" x 20,",
                    old.length, a);
            r.say("  while the kernel copies it %d times with strncpy_from_user and checks it is UTF-8", RACE_COPIES);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong rewrites = new AtomicLong();
            Thread writer = Thread.ofPlatform().name("racing-writer").start(() -> {
                // A byte at a time, as a guest loop storing a string would: the string is
                // half old, half new most of the time.
                byte[][] texts = {young, old};
                for (int i = 0; !stop.get(); i++) {
                    for (int b = 0; b < old.length; b++) {
                        as.copyToUser(a + b, texts[i & 1], b, 1);
                    }
                    rewrites.incrementAndGet();
                }
            });
            long[] counts = new long[RaceOutcome.values().length];
            long wrongLength = 0;
            byte[] buf = new byte[128];
            long t0 = System.nanoTime();
            try {
                for (int i = 0; i < RACE_COPIES; i++) {
                    long n = as.strncpyFromUser(buf, 0, a, buf.length);
                    if (n != old.length) {
                        wrongLength++;
                        continue;
                    }
                    counts[classify(Arrays.copyOf(buf, (int) n), old, young).ordinal()]++;
                }
            } finally {
                stop.set(true);
                joinQuietly(writer);
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            for (RaceOutcome o : RaceOutcome.values()) {
                r.value(o.name().toLowerCase(Locale.ROOT), counts[o.ordinal()]);
            }
            r.value("rewrites", rewrites.get());
            r.say("in %d ms, against %d rewrites:", ms, rewrites.get());
            r.say("  %6d the old string, whole", counts[RaceOutcome.OLD.ordinal()]);
            r.say("  %6d the new string, whole", counts[RaceOutcome.NEW.ordinal()]);
            r.say("  %6d a mix of old and new bytes that is still valid UTF-8 (a string the guest never wrote)",
                    counts[RaceOutcome.VALID_MIX.ordinal()]);
            r.say("  %6d a mix that is not UTF-8: EILSEQ", counts[RaceOutcome.EILSEQ.ordinal()]);
            r.say("which of these a run sees depends on the scheduler; a kernel must copy once, then validate its copy");
            r.check("copies with a byte that was neither the old nor the new byte at its place", 0L, counts[RaceOutcome.IMPOSSIBLE.ordinal()]);
            r.check("copies that found the NUL anywhere but at byte " + old.length, 0L, wrongLength);
            mm.checkInvariants();
        }
    }

    private static void joinQuietly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- 6

    private void theJvmDidNotNotice(FaultHandler.Stats before) {
        r.section("jvm", "The JVM did not notice");
        FaultHandler.Stats after = FaultHandler.stats();
        long fixups = after.fixups() - before.fixups();
        r.value("fixups", fixups);
        r.value("segv", after.segvFixups() - before.segvFixups());
        r.value("bus", after.busFixups() - before.busFixups());
        r.value("passedOn", after.passedOn() - before.passedOn());
        r.say("the usercopy handler fixed up %d faults in this tour (%d SIGSEGV, %d SIGBUS);", fixups,
                after.segvFixups() - before.segvFixups(), after.busFixups() - before.busFixups());
        r.say("  %d faults that were not ours went on to the JVM's own handler", after.passedOn() - before.passedOn());
        r.check("faults fixed up (each demand fault and each EFAULT above is one or more)", true, fixups > 0);
        Object nothing = null;
        boolean npe = false;
        try {
            nothing.hashCode();
        } catch (NullPointerException expected) {
            npe = true;
        }
        r.check("a null dereference in Java still throws NullPointerException", true, npe);
    }

    // ---------------------------------------------------------------- helpers

    private void map(AddressSpace as, long a, int pages) {
        List<String> lines = new ArrayList<>(PageMap.render(as, a, pages));
        lines.add(PageMap.LEGEND);
        r.picture(lines);
    }

    private static void write(AddressSpace as, long at, String s) {
        byte[] b = (s + "\0").getBytes(StandardCharsets.UTF_8);
        if (as.copyToUser(at, b, 0, b.length) != 0) {
            throw new IllegalStateException("the demo's own write to 0x" + Long.toHexString(at) + " faulted");
        }
    }

    private static String readString(AddressSpace as, long at) {
        byte[] b = new byte[256];
        long n = as.strncpyFromUser(b, 0, at, b.length);
        return n < 0 ? Errno.nameOf((int) -n) : new String(b, 0, (int) n, StandardCharsets.UTF_8);
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
