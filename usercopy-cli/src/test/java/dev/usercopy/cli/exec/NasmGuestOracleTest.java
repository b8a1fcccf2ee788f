package dev.usercopy.cli.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import dev.usercopy.cli.exec.Oracle.Invocation;
import dev.usercopy.cli.exec.Oracle.Stdin;
import dev.usercopy.cli.exec.Oracle.Stdout;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static dev.usercopy.cli.exec.Oracle.assertSameAsLinux;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Our own NASM guests (usercopy-cli/src/test/guests), each run natively and under
 * {@code usercopy exec}: output and exit status byte-identical. Each test also pins a few lines
 * of what Linux answers, so that a guest that stopped exercising its case fails here too.
 */
@Execution(ExecutionMode.CONCURRENT)
class NasmGuestOracleTest {
    static Path input;

    @BeforeAll
    static void input() throws IOException {
        Files.createDirectories(Oracle.WORK);
        byte[] b = new byte[30000];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 7 + i / 251);
        }
        input = Oracle.WORK.resolve("input.bin");
        Files.write(input, b);
    }

    static String guest(String name) {
        return GuestPrograms.get(name).toString();
    }

    @Test
    void theInitialStackRegistersAndAuxvAreLinuxs() {
        assertSameAsLinux(Invocation.of(guest("startup"), "one", "two words", ""), 0, "rsp % 16 = 0", "rdx = 0x0", "rflags = 0x202", "argc = 4", "argv[2] = two words",
                "argv[3] = ", "envc = " + Oracle.ENV.size(), "AT 6 = 0x1000", "AT 7 = 0x0", "AT 23 = 0x0",
                "AT 25 nonzero = 1", "AT 15 = x86_64", "AT 31 = " + guest("startup"), "phdr[0].p_type = 1", "fs base = 0",
                "arch_prctl(ARCH_GET_FS, unaligned) = 0", "prlimit64(RLIMIT_NOFILE) = 0");
    }

    /** argv is bytes: a UTF-8 argument in the C locale reaches the program as the same bytes. */
    @Test
    void argvBytesArriveAsTheyWereGiven() {
        assertSameAsLinux(Invocation.of(guest("startup"), "caf\u00e9"), 0, "argv[1] = caf\u00e9");
    }

    @Test
    void registersSurviveFaultsAndSyscallsAsOnLinux() {
        assertSameAsLinux(Invocation.of(guest("regs")), 0, "getppid", "  rcx is the return address = 1", "  loaded = 90",
                "  loaded = 91", "  loaded = 92", "  loaded = 93");
    }

    @Test
    void readIntoBadBuffersFromAFileCopiesUpToTheFault() {
        assertSameAsLinux(Invocation.of(guest("readfault")).stdin(Stdin.file(input)), 0,
                "read(a + 4096 - 100, 8192) [touched, then unmapped] = 100",
                "read(b + 4096 - 100, 8192) [untouched, then unmapped] = 100",
                "read(c + 4096 - 300, 8192) [then read-only] = 300",
                "read(NULL, 10) = -14 EFAULT",
                "read(read-only page, 10) = -14 EFAULT",
                "read(PROT_NONE page, 10) = -14 EFAULT",
                "read(0x7f0000000000, 10) = -14 EFAULT",
                "read(own .data, 16) = 16",
                "readv({good, 10}, {NULL, 10}, {good + 10, 10}) = 10",
                "pread64(good, 10, 5) = 10");
    }

    @Test
    void readIntoBadBuffersFromAPipeFailsAndLeavesTheBytesInThePipe() throws IOException {
        assertSameAsLinux(Invocation.of(guest("readfault")).stdin(Stdin.bytes(Files.readAllBytes(input))), 0,
                "read(a + 4096 - 100, 8192) [touched, then unmapped] = -14 EFAULT",
                "read(b + 4096 - 100, 8192) [untouched, then unmapped] = -14 EFAULT",
                "read(c + 4096 - 300, 8192) [then read-only] = -14 EFAULT",
                "readv({good, 10}, {NULL, 10}, {good + 10, 10}) = -14 EFAULT",
                "pread64(good, 10, 5) = -29 ESPIPE",
                "rest = 25871");
    }

    @Test
    void writeFromBadBuffersToAPipe() {
        assertSameAsLinux(Invocation.of(guest("writefault")), 0, "write(NULL, 10) = -14 EFAULT", "write(a + 4096 - 64, 200) [then unmapped] = -14 EFAULT",
                "write(PROT_EXEC page, 10) = -14 EFAULT", "write(never-touched page, 10) = 10",
                "writev({abc, 3}, {NULL, 5}, {def, 4}) = -14 EFAULT");
    }

    @Test
    void writeFromBadBuffersToAFile() {
        assertSameAsLinux(Invocation.of(guest("writefault")).stdout(Stdout.FILE), 0, "write(a + 4096 - 64, 200) [then unmapped] = 64", "abcwritev({abc, 3}, {NULL, 5}, {def, 4}) = 3");
    }

    @Test
    void theBreakGrowsShrinksAndRefusesAsLinuxDoes() {
        assertSameAsLinux(Invocation.of(guest("brk")), 0, "brk(0) % 4096 = 0", "brk(b0 + 3*4096 + 100) - b0 = 12388",
                "byte at b0 + 4096 + 500 [kept page] = 107", "checksum of b0 + 2*4096 .. + 4*4096 [regrown: zeros] = 0",
                "brk(b0 + 15*4096 + 1) - b0 [refused: no page between] = 12388", "brk(b0 + 15*4096) - b0 = 61440");
    }

    @Test
    void touchingThePageAboveAShrunkBreakIsSigsegv() {
        assertSameAsLinux(Invocation.of(guest("brk"), "touch"), 139, "touching b0 + 10");
    }

    @Test
    void writesToTheBinarysOwnPagesAreCopyOnWriteAndTheFileStaysAsItWas() throws Exception {
        Path exe = GuestPrograms.get("cow");
        String before = sha256(exe);
        assertSameAsLinux(Invocation.of(exe.toString()).stdin(Stdin.text("0123456789abcdefghij")), 0, "page1[7] after the guest's write = 100", "read(stdin, page2 + 100, 16) [page never touched] = 16",
                ".bss checksum [zeros] = 0", "page1[7] after DONTNEED [the file's again] = 68",
                "read(stdin, read-only .data, 4) = -14 EFAULT", "patched() after writing its immediate = 42");
        assertEquals(before, sha256(exe), "the binary on disk changed");
    }

    @Test
    void mmapMunmapMprotectAndMadviseSequences() {
        assertSameAsLinux(Invocation.of(guest("mmap"), input.toString()), 0, "mmap(length 0) = -22 EINVAL", "mmap(X + 4096, FIXED_NOREPLACE) [taken] = -17 EEXIST",
                "mprotect(X, 3 pages) [across the hole] = -12 ENOMEM", "clock_gettime(into the read-only page) = -14 EFAULT",
                "  X[100] after DONTNEED = 0", "  shared[9] after DONTNEED = 9", "  the written code returned = 1234",
                "mprotect every other page of 2000 = 0", "mmap(file opened O_RDONLY, SHARED, READ|WRITE) = -13 EACCES",
                "  the other private mapping's [0] = 0", "mmap(a directory) = -19 ENODEV");
    }

    @Test
    void theReadOnlyFileSyscallsAnswerAsLinux() throws IOException {
        Path dir = Oracle.WORK.resolve("files/d");
        RootTrees.delete(dir.getParent());
        Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("ten"), "0123456789");
        Files.createSymbolicLink(dir.resolve("link"), Path.of("ten"));
        assertSameAsLinux(Invocation.of(guest("files"), "d").in(dir.getParent()), 0, "open(ten/) = -20 ENOTDIR",
                "lseek(11, SEEK_DATA) = -6 ENXIO", "lseek(dup, 0, SEEK_CUR) [shared offset] = 10", "open(link, O_NOFOLLOW) = -40 ELOOP",
                "  st_mode = 41471, st_nlink = 1, st_size = 3, st_uid = 0", "getdents64(.., 10 bytes) = -22 EINVAL",
                dir.toString(), guest("files"), "  slept at least 20 ms = 1");
    }

    @Test
    void getppidInALoop() {
        assertSameAsLinux(Invocation.of(guest("getppid"), "10000"), 0, "getppid errors = 0");
    }

    @Test
    void wildPointersHugeLengthsAndBadNumbersGetErrnos() {
        assertSameAsLinux(Invocation.of(guest("hostile")).stdin(Stdin.file(input)), 0, "read(0, P, 16)(0x7f0000000000) = -14 EFAULT", "open(P)(0xffff800000000000) = -14 EFAULT",
                "uname(P)(0x1) = -14 EFAULT", "  its first 8 bytes are st_dev = 1", "getrandom(page, -1) = 4096",
                "syscall 999(0x3e7) = -38 ENOSYS", "alive");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "null, 139", "unmapped, 139", "write-rodata, 139", "write-text, 139", "exec-data, 139", "exec-stack, 139",
        "int3, 133", "ud2, 132", "div0, 136", "hlt, 139", "read-stub, 139", "write-stub, 139", "read-kernel, 139",
        "read-noncanonical, 139", "stack, 0", "munmapped, 139", "prot-none, 139",
    })
    void aFaultTheProgramCannotSurviveKillsItWithLinuxsSignal(String mode, int status) {
        assertSameAsLinux(Invocation.of(guest("crash"), mode).in(Oracle.WORK), status, "about to: " + mode);
    }

    @Test
    void anExecutableStackIsGivenWhenTheBinaryAsksForIt() {
        Path exe = GuestPrograms.get("crash-execstack", "crash", "-z", "execstack");
        assertSameAsLinux(Invocation.of(exe.toString(), "exec-stack"), 0, "survived");
    }

    static String sha256(Path p) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }
}
