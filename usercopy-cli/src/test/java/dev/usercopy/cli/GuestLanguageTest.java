package dev.usercopy.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.usercopy.cli.guest.Op;
import dev.usercopy.cli.guest.Parser;
import dev.usercopy.cli.guest.ScriptException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The guest language: what run and shell do with good and bad scripts, and what the docs promise. */
class GuestLanguageTest {
    @TempDir
    Path dir;

    private Path script(String text) throws IOException {
        Path p = dir.resolve("t.guest");
        Files.writeString(p, text);
        return p;
    }

    @Test
    void aFailedExpectExitsOneNamingTheLineAndStopsThere() throws IOException {
        Path p = script("""
                mmap 0x100000 1p rw
                write 0x100000 "abc"
                readstr 0x100000 16
                expect bytes "abd"
                echo not reached
                """);
        Cli r = Cli.run("run", p.toString());
        assertEquals(1, r.exit(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        assertEquals(p + ":4: expect failed: expected \"abd\", got \"abc\"", r.errLines().getFirst());
        assertFalse(r.out().contains("not reached"), r::toString);
    }

    @Test
    void anErrorWithNoExpectAfterItFailsTheScriptAtItsLine() throws IOException {
        Path p = script("mmap 0x100000 1p rw\nread 0x100ff0 32\necho after\n");
        Cli r = Cli.run("run", p.toString());
        assertEquals(1, r.exit(), r::toString);
        assertTrue(r.err().startsWith(p + ":2: read failed and no expect line follows: EFAULT: 16 of 32 bytes not copied"), r::toString);
    }

    @Test
    void anExpectedErrorLetsTheScriptGoOnAndItsBytesAreWhatArrived() throws IOException {
        Path p = script("""
                mmap 0x100000 1p rw
                write 0x100ffe "\\x01\\x02"
                read 0x100ffe 32
                expect efault
                expect left 30
                expect bytes 0102
                """);
        Cli r = Cli.run("run", p.toString());
        assertEquals(0, r.exit(), r::toString);
    }

    /**
     * read, write and clear go through UserSlice, as a syscall would
     * (ArchitectureTest holds that): a range that runs past the end of user
     * space is refused whole by access_ok, as Linux's copy_to_user writes
     * nothing then.
     */
    @Test
    void aCopyRunningPastTheEndOfUserSpaceIsRefusedWholeAsLinuxsAccessOkDoes() throws IOException {
        Path p = script("""
                mmap 0xfffff000 1p rw fixed
                write 0xffffff00 "%s"
                expect efault
                expect left 300
                clear 0xffffffff 2
                expect efault
                expect left 2
                read 0xffffff00 256
                expect ok
                expect bytes "%s"
                read 0xfffffff0 32
                expect efault
                expect left 32
                """.formatted("w".repeat(300), "\\0".repeat(256)));
        Cli r = Cli.run("run", p.toString());
        assertEquals(0, r.exit(), r::toString);
    }

    @Test
    void expectingTheWrongErrnoFails() throws IOException {
        Path p = script("munmap 0x100001 1p\nexpect efault\n");
        Cli r = Cli.run("run", p.toString());
        assertEquals(1, r.exit(), r::toString);
        assertTrue(r.err().contains(":2: expect failed: expected EFAULT, got EINVAL"), r::toString);
    }

    @Test
    void aSyntaxErrorAnywhereStopsTheScriptBeforeItRunsWithExitTwo() throws IOException {
        Path p = script("echo first\nmmap 0x100000 1p rw\nmprotect 0x100000 1p rwq\n");
        Cli r = Cli.run("run", p.toString());
        assertEquals(2, r.exit(), r::toString);
        assertEquals("", r.out(), "nothing ran");
        assertEquals(1, r.errLines().size(), r::toString);
        assertTrue(r.err().startsWith("usercopy run: " + p + ":3: 'rwq' is not a protection"), r::toString);
    }

    @Test
    void namesThatDoNotExistAreUsageErrors() throws IOException {
        Cli r = Cli.run("run", script("switch nobody\n").toString());
        assertEquals(2, r.exit(), r::toString);
        assertTrue(r.err().contains(":1: no address space named 'nobody' (have: p0)"), r::toString);

        r = Cli.run("run", script("read $ 4\n").toString());
        assertEquals(2, r.exit(), r::toString);
        assertTrue(r.err().contains("no mmap has succeeded yet"), r::toString);
    }

    @Test
    void dollarIsTheAddressTheLastMmapReturned() throws IOException {
        Path p = script("""
                mmap any 2p rw
                write $+0x1000 "second page"
                readstr $+4096 64
                expect bytes "second page"
                expect pages $ PP                 # fault-around filled the first page too
                """);
        Cli r = Cli.run("run", p.toString());
        assertEquals(0, r.exit(), r::toString);
    }

    @Test
    void quitEndsTheScriptThere() throws IOException {
        Cli r = Cli.run("run", "-q", script("echo one\nquit\necho two\n").toString());
        assertEquals(0, r.exit(), r::toString);
        assertEquals("one\n", r.out());
    }

    @Test
    void theShellRunsPipedLinesGoesOnAfterErrorsAndExitsOneOnAFailedExpect() {
        Cli r = Cli.runWithInput("""
                mmap 0x100000 1p rw
                bogus
                write 0x100000 "hi"
                expect left 1
                readstr 0x100000 8
                """, false, "shell");
        assertEquals(1, r.exit(), r::toString);
        assertTrue(r.out().contains("= \"hi\" (2 bytes)"), "it went on after both errors\n" + r);
        assertEquals("line 2: unknown statement 'bogus' (try 'help')", r.errLines().get(0));
        assertEquals("line 4: expect failed: expected 1 bytes not copied, got 0", r.errLines().get(1));
        assertFalse(r.out().contains("p0> "), "no prompt when not on a terminal");
    }

    @Test
    void theShellExitsTwoWhenALineCouldNotRunAndZeroWhenAllWentWell() {
        assertEquals(2, Cli.runWithInput("mmap 0x100000 1p rwz\n", false, "shell").exit());
        Cli r = Cli.runWithInput("mmap 0x100000 1p rw\nexpect ok\nquit\nbogus\n", true, "shell");
        assertEquals(0, r.exit(), r::toString);
        assertTrue(r.out().contains("p0> "), "a prompt on a terminal\n" + r);
    }

    @Test
    void forkAndSwitchChangeTheSpaceTheShellActsOn() {
        Cli r = Cli.runWithInput("""
                mmap 0x100000 1p rw
                fork
                switch p1
                spaces
                munmap 0x100000 1p
                switch p0
                expect state 0x100000 lazy
                switch p1
                expect state 0x100000 unmapped
                """, false, "shell");
        assertEquals(0, r.exit(), r::toString);
        assertTrue(r.out().contains("* p1"), r::toString);
    }

    @Test
    void helpInTheShellAndTheDocFileNameEveryStatement() throws IOException {
        String help = Cli.runWithInput("help\n", false, "shell").out();
        String doc = Files.readString(Path.of("docs/guest-language.md"));
        for (String verb : Parser.VERBS) {
            assertTrue(help.lines().anyMatch(l -> l.strip().startsWith(verb)), "help lacks " + verb);
            assertTrue(doc.contains("`" + verb), "docs/guest-language.md lacks " + verb);
            if (!verb.equals("expect") && !verb.equals("echo")) {
                assertThrows(ScriptException.class, () -> Parser.parse(verb + " a b c d e f g h i j k l"),
                        verb + " is a statement that checks its arguments");
            }
        }
        assertThrows(ScriptException.class, () -> Parser.parse("frobnicate"));
    }

    @Test
    void lengthsTakeUnitsAndDataTakesStringsWithEscapesOrHex() {
        Op.Mmap m = (Op.Mmap) Parser.parse("mmap 0x10_0000 4p rw shared");
        assertEquals(0x100000, m.addr().offset());
        assertEquals(4 * 4096, m.length());
        assertEquals(3, m.prot());
        assertEquals(1 << 20, ((Op.Clear) Parser.parse("clear 0 1m")).length());
        assertEquals(8192, ((Op.Clear) Parser.parse("clear 0 8k")).length());
        assertArrayEquals(new byte[] {'a', '\n', 0, (byte) 0xff, '"', '#'},
                ((Op.Write) Parser.parse("write 0 \"a\\n\\0\\xff\\\"#\" # a comment")).data());
        assertArrayEquals(new byte[] {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef},
                ((Op.Write) Parser.parse("write 0 de ad beef")).data());
        assertArrayEquals("€".getBytes(StandardCharsets.UTF_8), ((Op.Write) Parser.parse("write 0 \"€\"")).data());
        assertThrows(ScriptException.class, () -> Parser.parse("write 0 abc"));
        assertThrows(ScriptException.class, () -> Parser.parse("write 0 \"open"));
        assertThrows(ScriptException.class, () -> Parser.parse("read 0 2m"), "reads are capped");
        assertEquals(null, Parser.parse("   # only a comment"));
    }
}
