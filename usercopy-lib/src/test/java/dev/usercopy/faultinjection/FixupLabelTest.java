package dev.usercopy.faultinjection;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.usercopy.mm.MemoryManager;
import dev.usercopy.platform.ExtableEntry;
import dev.usercopy.platform.FaultHandler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every entry of the exception table, reached on purpose through the
 * suite's {@link CopyPath}s: the copy's whole outcome holds against the
 * model, its return value is the one worked out by hand below, and exactly
 * the listed labels took a fault (once each). The same cases run with the
 * fault a SIGSEGV (PROT_NONE), a SIGBUS (memfd truncated under the mapping)
 * and, through the address space, a guest page with no grant.
 */
@ExtendWith(Summary.class)
class FixupLabelTest {
    private static final int B = Layout.PAGE; // the first byte that faults

    private static final ExtableEntry USERCOPY0 = ExtableEntry.named("usercopy0");
    private static final ExtableEntry USERCOPY1 = ExtableEntry.named("usercopy1");
    private static final ExtableEntry USERCOPY1B = ExtableEntry.named("usercopy1b");
    private static final ExtableEntry USERCOPY1C = ExtableEntry.named("usercopy1c");
    private static final ExtableEntry USERCOPY1D = ExtableEntry.named("usercopy1d");
    private static final ExtableEntry USERCOPY2 = ExtableEntry.named("usercopy2");
    private static final ExtableEntry USERCOPY3 = ExtableEntry.named("usercopy3");

    /** One deliberate fault: a path, where the copy starts relative to B, and what must come of it. */
    record LabelCase(String what, Op op, long offset, int length, int kernelOffset, long result, ExtableEntry... fired) {
        @Override
        public String toString() {
            return what;
        }
    }

    /** Cases for the alignment-aware form; the destination's alignment picks the label. */
    static List<LabelCase> alignedCases() {
        return List.of(
                // kernel destination 1 past 16: 7 leading bytes from B-3, the 4th faults
                new LabelCase("leading bytes (usercopy1)", Op.FROM_USER, B - 3, 100, 1, 97, USERCOPY1),
                new LabelCase("bulk, aligned source (usercopy1b, usercopy1d)", Op.FROM_USER, B - 16, 100, 0, 84, USERCOPY1B, USERCOPY1D),
                // the qword at B-3 straddles B: the byte retry still copies its 3 readable bytes
                new LabelCase("bulk, straddling qword (usercopy1b, usercopy1d)", Op.FROM_USER, B - 19, 100, 0, 81, USERCOPY1B, USERCOPY1D),
                new LabelCase("tail bytes (usercopy1c)", Op.FROM_USER, B - 17, 20, 0, 3, USERCOPY1C),
                new LabelCase("copy under 8 bytes (usercopy1c)", Op.FROM_USER, B - 2, 6, 0, 4, USERCOPY1C),
                // to user: the guest side is the destination; its leading bytes fault when it starts in the bad page
                new LabelCase("to user, leading bytes (usercopy1)", Op.TO_USER, B + 1, 40, 0, 40, USERCOPY1),
                new LabelCase("to user, straddling qword (usercopy1b, usercopy1d)", Op.TO_USER, B - 21, 100, 3, 79, USERCOPY1B, USERCOPY1D),
                new LabelCase("to user, tail bytes (usercopy1c)", Op.TO_USER, B - 18, 20, 0, 2, USERCOPY1C),
                new LabelCase("strncpy_from_user (usercopy2)", Op.STRNCPY_FROM_USER, B - 5, 64, 0, Reference.EFAULT, USERCOPY2),
                new LabelCase("clear_user (usercopy3)", Op.CLEAR_USER, B - 50, 100, 0, 50, USERCOPY3));
    }

    static List<LabelCase> flatCases() {
        return List.of(
                new LabelCase("flat from user (usercopy0)", Op.FROM_USER, B - 10, 100, 5, 90, USERCOPY0),
                new LabelCase("flat to user (usercopy0)", Op.TO_USER, B - 7, 100, 2, 93, USERCOPY0));
    }

    static Stream<LabelCase> hostCases() {
        return Stream.concat(alignedCases().stream(), flatCases().stream());
    }

    private static String hostPath(LabelCase c) {
        boolean flat = c.fired()[0] == USERCOPY0;
        return switch (c.op()) {
            case FROM_USER -> "UserCopy.copyFromUser " + (flat ? "FLAT" : "ALIGNED") + " native";
            case TO_USER -> "UserCopy.copyToUser " + (flat ? "FLAT" : "ALIGNED") + " native";
            case CLEAR_USER -> "UserCopy.clearUser";
            case STRNCPY_FROM_USER -> "UserCopy.strncpyFromUser";
        };
    }

    private static String guestPath(LabelCase c) {
        return switch (c.op()) {
            case FROM_USER -> "AddressSpace.copyFromUser";
            case TO_USER -> "AddressSpace.copyToUser";
            case CLEAR_USER -> "AddressSpace.clearUser";
            case STRNCPY_FROM_USER -> "AddressSpace.strncpyFromUser";
        };
    }

    /** Two pages of non-NUL bytes, so a string runs into the fault. */
    private static Layout twoPages(PageKind good, PageKind bad) {
        byte[] content = new byte[2 * Layout.PAGE];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) ('a' + i % 26);
        }
        return new Layout(new PageKind[] {good, bad}, content);
    }

    private static final Map<ExtableEntry, Long> HITS_BEFORE = new HashMap<>();

    @BeforeAll
    static void remember() {
        HITS_BEFORE.putAll(RandomLayoutTest.hits());
    }

    /**
     * Every label of the flat and alignment-aware forms, strncpy and clear
     * was reached here. The adaptive form's labels (usercopy4a onwards) are
     * reached on purpose one by one in ExtableEntryTest, and at random by
     * RandomLayoutTest's adaptive paths.
     */
    @AfterAll
    static void everyLabelWasReached() {
        Map<ExtableEntry, Long> after = RandomLayoutTest.hits();
        for (ExtableEntry e : hostCases().flatMap(c -> Arrays.stream(c.fired())).distinct().toList()) {
            assertTrue(after.get(e) > HITS_BEFORE.get(e), e.label() + " was never reached by this class");
        }
    }

    private static <M extends UserMemory> void expect(LabelCase c, CopyPath<M> path, M memory, Layout model, String column) {
        Map<ExtableEntry, Long> before = RandomLayoutTest.hits();
        Checker.Case k = new Checker.Case(c.offset(), c.length(), c.kernelOffset(), 1);
        Checker.Verdict v = Checker.check(path, memory, model, k);
        Map<ExtableEntry, Long> after = RandomLayoutTest.hits();
        assertNull(v.failure(), c.what());
        assertEquals(c.result(), v.expected().result(), c.what() + ": the hand-worked result");
        for (ExtableEntry e : ExtableEntry.all()) {
            long want = Arrays.asList(c.fired()).contains(e) ? 1 : 0;
            assertEquals(want, after.get(e) - before.get(e), c.what() + ": faults taken at " + e.label());
            if (want > 0) {
                Summary.count("Fixup labels reached deliberately (FixupLabelTest)", e.label(), column);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostCases")
    void eachLabelFixesUpASigsegvWithTheExactCount(LabelCase c) {
        try (HostLayout memory = new HostLayout(twoPages(PageKind.HOST_RW, PageKind.HOST_NONE))) {
            FaultHandler.Stats before = FaultHandler.stats();
            expect(c, CopyPaths.host(hostPath(c)), memory, twoPages(PageKind.HOST_RW, PageKind.HOST_NONE), "SIGSEGV");
            FaultHandler.Stats after = FaultHandler.stats();
            assertEquals(c.fired().length, after.segvFixups() - before.segvFixups(), "SIGSEGV fixups");
            assertEquals(0, after.busFixups() - before.busFixups(), "SIGBUS fixups");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostCases")
    void eachLabelFixesUpASigbusWithTheExactCount(LabelCase c) {
        try (HostLayout memory = new HostLayout(twoPages(PageKind.HOST_FILE, PageKind.HOST_SIGBUS))) {
            FaultHandler.Stats before = FaultHandler.stats();
            expect(c, CopyPaths.host(hostPath(c)), memory, twoPages(PageKind.HOST_FILE, PageKind.HOST_SIGBUS), "SIGBUS");
            FaultHandler.Stats after = FaultHandler.stats();
            assertEquals(c.fired().length, after.busFixups() - before.busFixups(), "SIGBUS fixups");
            assertEquals(0, after.segvFixups() - before.segvFixups(), "SIGSEGV fixups");
        }
    }

    @TempDir
    static Path dir;

    /**
     * The cases the address space can take through the same labels as the
     * host: strncpy and clear.
     */
    static Stream<LabelCase> guestCases() {
        // The address space copies with the default form, the adaptive one (whose labels
        // ExtableEntryTest covers); strncpy and clear have one routine each.
        return alignedCases().stream().filter(c -> c.op() == Op.STRNCPY_FROM_USER || c.op() == Op.CLEAR_USER);
    }

    /** A present page before an unmapped one faults once, at the routine's label. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("guestCases")
    void strncpyAndClearLabelsEndAGuestCopyAtAnUnmappedPage(LabelCase c) {
        try (MemoryManager mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(1024).withAddressSpaceSize(1L << 24))) {
            Layout model = twoPages(PageKind.RW, PageKind.UNMAPPED);
            try (GuestLayout memory = new GuestLayout(mm, model, 0x100000, dir, false)) {
                expect(c, CopyPaths.guest(guestPath(c)), memory, model, "guest, unmapped");
            }
            mm.checkInvariants();
        }
    }
}
