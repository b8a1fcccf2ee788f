package dev.usercopy.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.usercopy.cli.bench.QuickBench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line's contract: --help everywhere, exit codes 0/1/2, one-line errors on stderr. */
class CommandLineTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"demo", "run", "shell", "maps", "pages", "bench", "cpu"})
    void everyCommandHasHelpThatExitsZero(String command) {
        Cli r = Cli.run(command, "--help");
        assertEquals(0, r.exit(), r::toString);
        assertTrue(r.out().contains("Usage: usercopy " + command), r::toString);
        assertTrue(r.out().contains("Exit codes:"), r::toString);
        assertEquals("", r.err());
    }

    @Test
    void theTopLevelHelpListsEveryCommand() {
        for (String[] args : new String[][] {{}, {"--help"}, {"help"}}) {
            Cli r = Cli.run(args);
            assertEquals(0, r.exit(), r::toString);
            for (String c : new String[] {"demo", "run", "shell", "maps", "pages", "bench", "cpu"}) {
                assertTrue(r.out().contains("\n  " + c + " "), c + " missing\n" + r);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo --bogus", "frobnicate", "run", "run a b", "maps --fault-around x", "demo --color=sometimes", "bench", "demo --profile=paranoid"})
    void badUsageIsOneLineOnStderrAndExitTwo(String args) {
        Cli r = Cli.run(args.split(" "));
        assertEquals(2, r.exit(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        assertTrue(r.err().startsWith("usercopy"), r::toString);
        assertFalse(r.err().contains("\tat "), "no stack trace\n" + r);
        assertEquals("", r.out(), r::toString);
    }

    @Test
    void theProfileOptionChoosesTheMachinesProfileForThisRunOnly() {
        Cli r = Cli.run("demo", "--json", "--profile", "Ludicrous");
        assertEquals(0, r.exit(), r::toString);
        assertTrue(r.out().contains("\"profile\": \"ludicrous\"") || r.out().contains("\"profile\":\"ludicrous\""), r::toString);
        assertEquals(null, System.getProperty(dev.usercopy.mm.Profile.PROPERTY), "the run leaves no profile behind");
        r = Cli.run("--profile=fortress", "run", "--help");
        assertEquals(0, r.exit(), r::toString);
    }

    @Test
    void aMissingScriptIsAUsageErrorAndVerboseAddsTheStackTrace() {
        Path missing = dir.resolve("nope.guest");
        Cli r = Cli.run("run", missing.toString());
        assertEquals(2, r.exit(), r::toString);
        assertEquals(java.util.List.of("usercopy run: no such file: " + missing), r.errLines());

        r = Cli.run("run", "--verbose", missing.toString());
        assertEquals(2, r.exit(), r::toString);
        assertTrue(r.errLines().size() > 1 && r.err().contains("\tat dev.usercopy.cli."), r::toString);
    }

    @Test
    void aFaultAroundThatIsNotAPowerOfTwoIsAUsageError() {
        Cli r = Cli.run("pages", "--fault-around", "3");
        assertEquals(2, r.exit(), r::toString);
        assertEquals(java.util.List.of("usercopy pages: --fault-around 3 is not a power of two in 1..512"), r.errLines());
    }

    @Test
    void mapsWithoutAFileShowsTheBuiltInExampleWithItsProviders() {
        Cli r = Cli.run("maps");
        assertEquals(0, r.exit(), r::toString);
        assertTrue(r.out().contains("00100000-00120000 rw-p 00000000    32  Allocated [anon]"), r::toString);
        assertTrue(r.out().contains("00200000-00204000 rw-s 00000000     4  AllocatedShared [anon shared]"), r::toString);
    }

    @Test
    void pagesWithoutAFileShowsTheBuiltInExampleWithALegend() {
        Cli r = Cli.run("pages");
        assertEquals(0, r.exit(), r::toString);
        assertTrue(r.out().contains("0x00100000  CPCCCCCCCCCCCCCC0000000000000000"), r::toString);
        assertTrue(r.out().contains("0x00200000  SSSS"), r::toString);
        assertTrue(r.out().contains("0x00140000  ... 192 pages unmapped"), r::toString);
        assertTrue(r.out().contains("legend: . unmapped"), r::toString);
    }

    @Test
    void mapsAndPagesOfAScriptShowWhereItEnded() throws IOException {
        Path p = dir.resolve("s.guest");
        Files.writeString(p, "mmap 0x300000 2p r\nfork child\nswitch child\nmmap 0x400000 1p rw populate\n");
        Cli r = Cli.run("maps", p.toString());
        assertEquals(0, r.exit(), r::toString);
        assertTrue(r.out().startsWith("address space child:\n"), r::toString);
        assertTrue(r.out().contains("00300000-00302000 r--p"), r::toString);
        assertTrue(r.out().contains("00400000-00401000 rw-p"), r::toString);

        r = Cli.run("pages", p.toString());
        assertTrue(r.out().contains("0x00300000  --"), r::toString);
        assertTrue(r.out().contains("0x00400000  P"), "populate filled it\n" + r);
    }

    @Test
    void mapsOfAFailingScriptExitsOneAndShowsNothing() throws IOException {
        Path p = dir.resolve("f.guest");
        Files.writeString(p, "mmap 0x300000 2p r\nexpect address 0x1\n");
        Cli r = Cli.run("maps", p.toString());
        assertEquals(1, r.exit(), r::toString);
        assertEquals("", r.out(), r::toString);
        assertTrue(r.err().startsWith(p + ":2: expect failed"), r::toString);
    }

    @Test
    void benchQuickPrintsATableOfEveryMeasurementAgainstItsBaseline() {
        Cli r = Cli.run("bench", "--quick");
        assertEquals(0, r.exit(), r::toString);
        assertEquals("", r.err(), "no progress bar off a terminal\n" + r);
        for (QuickBench.Definition row : QuickBench.ROWS) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(row.what()) && l.matches(".*\\d+(\\.\\d+)?x (faster|slower)$")),
                    row.what() + " missing\n" + r);
        }
        assertEquals(QuickBench.ROWS.size() + 3, r.out().lines().count(), "a header, a line a row, two lines of footer\n" + r);
    }
}
