package dev.usercopy.platform;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Holds every struct offset and constant the Java bindings and native/*.S rely
 * on against the system's C headers.
 *
 * <p>The C side is a probe program generated from the checks below, compiled
 * with gcc and run; it prints one {@code expression=value} line per distinct C
 * expression. Macros are wrapped in {@code #ifdef}, so a name the headers do not
 * define fails its own check instead of the whole compile. Constants of
 * {@link Posix} and {@link Errno} are found by reflection: a new one is
 * checked without touching this file.
 *
 * <p>A missing gcc fails the tests: a skipped check would hide a wrong offset.
 */
class AbiTest {
    /** The compiler; CI images have it (Debian, gcc 12). */
    private static final String CC = "gcc";

    @TempDir
    static Path workDir;

    /** The probe's output, expression to value ({@code "undefined"} for an undefined macro); built once. */
    private static Map<String, String> probe;

    /**
     * One comparison: {@code java} must equal the value of the C expression
     * {@code c}. A bare identifier is a macro (or enumerator with a same-named
     * macro, as glibc does for REG_RIP and _SC_PAGESIZE) and is probed under
     * {@code #ifdef}. For a Java {@code int}, the C value may be its unsigned
     * reading (a flag such as 0x80000000 crosses as the same 32 bits).
     */
    private record Check(String name, String c, long java, boolean javaIsInt) {
        static Check of(String name, String c, long java) {
            return new Check(name, c, java, false);
        }

        static Check ofInt(String name, String c, int java) {
            return new Check(name, c, java, true);
        }

        boolean isMacro() {
            return IDENTIFIER.matcher(c).matches();
        }

        String displayName() {
            return name + " == " + c;
        }
    }

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    // ---------------------------------------------------------------------
    // The checks

    /** The struct layouts and offsets of sigaction, siginfo_t, ucontext_t, iovec. */
    private static List<Check> structChecks() {
        List<Check> checks = new ArrayList<>();
        String sa = "struct sigaction";
        checks.add(Check.of("sigaction.$LAYOUT.byteSize()", "sizeof(struct sigaction)", sigaction.$LAYOUT.byteSize()));
        checks.add(Check.of("sigaction.sizeof()", "sizeof(struct sigaction)", sigaction.sizeof()));
        checks.add(Check.of("sigaction.$LAYOUT.byteAlignment()", "__alignof__(struct sigaction)",
                sigaction.$LAYOUT.byteAlignment()));
        checks.add(Check.of("sigaction.sa_sigaction$OFFSET", "offsetof(" + sa + ", sa_sigaction)", sigaction.sa_sigaction$OFFSET));
        checks.add(Check.of("sigaction.sa_sigaction$OFFSET (sa_handler)", "offsetof(" + sa + ", sa_handler)", sigaction.sa_sigaction$OFFSET));
        checks.add(Check.of("sigaction.sa_mask$OFFSET", "offsetof(" + sa + ", sa_mask)", sigaction.sa_mask$OFFSET));
        checks.add(Check.of("sigaction.sa_mask$SIZE", "sizeof(sigset_t)", sigaction.sa_mask$SIZE));
        checks.add(Check.of("sigaction.sa_flags$OFFSET", "offsetof(" + sa + ", sa_flags)", sigaction.sa_flags$OFFSET));
        checks.add(Check.of("sigaction.sa_restorer$OFFSET", "offsetof(" + sa + ", sa_restorer)", sigaction.sa_restorer$OFFSET));
        // The layout itself, member by member: offset and size of each named element.
        for (String member : List.of("sa_sigaction", "sa_mask", "sa_flags", "sa_restorer")) {
            PathElement element = PathElement.groupElement(member);
            checks.add(Check.of("sigaction.$LAYOUT.byteOffset(" + member + ")",
                    "offsetof(" + sa + ", " + member + ")", sigaction.$LAYOUT.byteOffset(element)));
            checks.add(Check.of("sigaction.$LAYOUT." + member + ".byteSize()",
                    "sizeof(((" + sa + " *)0)->" + member + ")", sigaction.$LAYOUT.select(element).byteSize()));
        }

        checks.add(Check.of("siginfo_t.si_signo$OFFSET", "offsetof(siginfo_t, si_signo)", siginfo_t.si_signo$OFFSET));
        checks.add(Check.of("siginfo_t.si_code$OFFSET", "offsetof(siginfo_t, si_code)", siginfo_t.si_code$OFFSET));
        checks.add(Check.of("siginfo_t.si_addr$OFFSET", "offsetof(siginfo_t, si_addr)", siginfo_t.si_addr$OFFSET));
        checks.add(Check.of("siginfo_t.SIZEOF", "sizeof(siginfo_t)", siginfo_t.SIZEOF));

        checks.add(Check.of("ucontext_t.uc_mcontext$gregs$OFFSET", "offsetof(ucontext_t, uc_mcontext.gregs)",
                ucontext_t.uc_mcontext$gregs$OFFSET));
        checks.add(Check.ofInt("ucontext_t.REG_RIP", "REG_RIP", ucontext_t.REG_RIP));
        checks.add(Check.of("ucontext_t.rip$OFFSET", RIP_OFFSET, ucontext_t.rip$OFFSET));

        checks.add(Check.of("iovec.$LAYOUT.byteSize()", "sizeof(struct iovec)", iovec.$LAYOUT.byteSize()));
        checks.add(Check.of("iovec.$LAYOUT.byteAlignment()", "__alignof__(struct iovec)", iovec.$LAYOUT.byteAlignment()));
        for (String member : List.of("iov_base", "iov_len")) {
            PathElement element = PathElement.groupElement(member);
            checks.add(Check.of("iovec.$LAYOUT.byteOffset(" + member + ")", "offsetof(struct iovec, " + member + ")",
                    iovec.$LAYOUT.byteOffset(element)));
            checks.add(Check.of("iovec.$LAYOUT." + member + ".byteSize()", "sizeof(((struct iovec *)0)->" + member + ")",
                    iovec.$LAYOUT.select(element).byteSize()));
        }
        checks.add(Check.of("iovec.iov_base$OFFSET", "offsetof(struct iovec, iov_base)", iovec.iov_base$OFFSET));
        checks.add(Check.of("iovec.iov_len$OFFSET", "offsetof(struct iovec, iov_len)", iovec.iov_len$OFFSET));
        return checks;
    }

    /** The offset of RIP in ucontext_t, as C computes it. */
    private static final String RIP_OFFSET = "offsetof(ucontext_t, uc_mcontext.gregs) + REG_RIP * sizeof(greg_t)";

    /**
     * HostFiles' sizes and offsets of kernel structs, as C computes them; its
     * other constants are the C macros of their names. The kernel's termios
     * (36 bytes) has no C name beside glibc's larger one: TCGETS's size is
     * checked by the terminal test instead.
     */
    private static final Map<String, String> HOST_FILES_EXPRESSIONS = Map.of(
            "STAT_SIZE", "sizeof(struct stat)",
            "STAT_MODE", "offsetof(struct stat, st_mode)",
            "STAT_SIZE_OFFSET", "offsetof(struct stat, st_size)",
            "STAT_RDEV", "offsetof(struct stat, st_rdev)",
            "STATX_SIZE", "sizeof(struct statx)",
            "STATFS_SIZE", "sizeof(struct statfs)",
            "WINSIZE_SIZE", "sizeof(struct winsize)");

    /** Every public static final int of HostFiles: a macro of its name, or the expression above. */
    private static List<Check> hostFilesConstantChecks() {
        List<Check> checks = new ArrayList<>();
        for (Field f : HostFiles.class.getDeclaredFields()) {
            int mod = f.getModifiers();
            if (!Modifier.isPublic(mod) || !Modifier.isStatic(mod) || !Modifier.isFinal(mod) || f.getType() != int.class
                    || f.getName().equals("KERNEL_TERMIOS_SIZE")) {
                continue;
            }
            try {
                checks.add(Check.ofInt("HostFiles." + f.getName(), HOST_FILES_EXPRESSIONS.getOrDefault(f.getName(), f.getName()), f.getInt(null)));
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
        }
        return checks;
    }

    /**
     * Ptrace's constants (glibc has the PTRACE_* requests as enum values, so
     * each is evaluated, not looked up as a macro), the sizes of the opaque
     * spawn structs it allocates, and user_regs_struct member by member.
     */
    private static List<Check> ptraceChecks() {
        List<Check> checks = new ArrayList<>();
        for (Field f : Ptrace.class.getDeclaredFields()) {
            int mod = f.getModifiers();
            if (!Modifier.isPublic(mod) || !Modifier.isStatic(mod) || !Modifier.isFinal(mod) || f.getType() != int.class) {
                continue;
            }
            try {
                checks.add(Check.ofInt("Ptrace." + f.getName(), "(" + f.getName() + ")", f.getInt(null)));
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
        }
        checks.add(Check.of("Ptrace.POSIX_SPAWN_FILE_ACTIONS_T_SIZE", "sizeof(posix_spawn_file_actions_t)", Ptrace.POSIX_SPAWN_FILE_ACTIONS_T_SIZE));
        checks.add(Check.of("Ptrace.POSIX_SPAWNATTR_T_SIZE", "sizeof(posix_spawnattr_t)", Ptrace.POSIX_SPAWNATTR_T_SIZE));
        checks.add(Check.of("Ptrace.SIGSET_T_SIZE", "sizeof(sigset_t)", Ptrace.SIGSET_T_SIZE));
        checks.add(Check.of("Ptrace.SIGINFO_SIZE", "sizeof(siginfo_t)", Ptrace.SIGINFO_SIZE));
        checks.add(Check.of("Ptrace.AUDIT_ARCH_X86_64", "AUDIT_ARCH_X86_64", Ptrace.AUDIT_ARCH_X86_64));
        checks.add(Check.of("Ptrace.SYSCALL_INFO_SIZE covers struct ptrace_syscall_info", "sizeof(struct __ptrace_syscall_info) < 129", 1L));
        checks.add(Check.of("Ptrace.XSTATE_BUFFER_SIZE holds the host's XSAVE area (CPUID 0xd: EBX)",
                "({ unsigned a, b, c, d; __cpuid_count(0xd, 0, a, b, c, d); b < " + (Ptrace.XSTATE_BUFFER_SIZE + 1) + "; })", 1L));
        checks.add(Check.of("user_regs_struct.sizeof()", "sizeof(struct user_regs_struct)", user_regs_struct.sizeof()));
        for (int i = 0; i < 27; i++) {
            String name = user_regs_struct.name(i);
            checks.add(Check.of("user_regs_struct " + name + " at 8 * " + i, "offsetof(struct user_regs_struct, " + name + ")", 8L * i));
        }
        return checks;
    }

    /** Every public static final int or long of Posix, by name (PAGE_SIZE, which C has as sysconf, under that name). */
    private static List<Check> libcConstantChecks() {
        List<Check> checks = new ArrayList<>();
        for (Field f : Posix.class.getDeclaredFields()) {
            int mod = f.getModifiers();
            if (!Modifier.isPublic(mod) || !Modifier.isStatic(mod) || !Modifier.isFinal(mod)) {
                continue;
            }
            try {
                if (f.getType() == int.class) {
                    checks.add(Check.ofInt("Posix." + f.getName(), cName(f.getName()), f.getInt(null)));
                } else if (f.getType() == long.class) {
                    checks.add(Check.of("Posix." + f.getName(), cName(f.getName()), f.getLong(null)));
                }
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
        }
        return checks;
    }

    /** The C expression a Posix constant stands for: its own name, but for the page size, which C asks sysconf for. */
    private static String cName(String javaName) {
        return javaName.equals("PAGE_SIZE") ? "sysconf(_SC_PAGESIZE)" : javaName;
    }

    /** Every Errno constant: its number is the C macro of the same name. */
    private static List<Check> errnoChecks() {
        List<Check> checks = new ArrayList<>();
        for (Errno e : Errno.values()) {
            checks.add(Check.ofInt("Errno." + e.name() + ".number()", e.name(), e.number()));
        }
        return checks;
    }

    /** The handler fault.S was assembled with: the RIP offset it rewrites. */
    private static List<Check> builtLibraryChecks() {
        return List.of(Check.of("LibUsercopy.abi(0)", RIP_OFFSET, LibUsercopy.abi(0)));
    }

    /**
     * The numeric {@code %define}s of native/*.S that stand for a C constant or
     * offset. The assembled UC_RIP is checked through usercopy_abi(0); these
     * cover the rest (EFAULT, SYS_rt_sigaction, ...), which no symbol reports.
     */
    private static List<Check> asmSourceChecks() throws IOException {
        Map<String, Long> defines = asmDefines();
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("EFAULT", "EFAULT");
        expected.put("SIGBUS", "SIGBUS");
        expected.put("SIGSEGV", "SIGSEGV");
        expected.put("SYS_rt_sigaction", "SYS_rt_sigaction");
        expected.put("SYS_fork", "SYS_fork");
        expected.put("SYS_wait4", "SYS_wait4");
        expected.put("SYS_exit_group", "SYS_exit_group");
        expected.put("UC_GREGS", "offsetof(ucontext_t, uc_mcontext.gregs)");
        expected.put("REG_RIP", "REG_RIP");
        expected.put("REG_R11", "REG_R11");
        expected.put("SI_ADDR", "offsetof(siginfo_t, si_addr)");
        expected.put("PAGE_SIZE", "sysconf(_SC_PAGESIZE)");
        // The CPUID bits gcc's <cpuid.h> names (it has none for ERMS and FSRM;
        // CpuFeatureTest holds those against /proc/cpuinfo).
        expected.put("CPUID1_ECX_OSXSAVE", "__builtin_ctz(bit_OSXSAVE)");
        expected.put("CPUID1_ECX_AVX", "__builtin_ctz(bit_AVX)");
        expected.put("CPUID7_EBX_AVX2", "__builtin_ctz(bit_AVX2)");
        List<Check> checks = new ArrayList<>();
        for (Map.Entry<String, String> e : expected.entrySet()) {
            Long value = defines.get(e.getKey());
            assertNotNull(value, () -> "native/*.S has no numeric %define " + e.getKey()
                    + "; AbiTest expects one (update the test if the assembly changed)");
            checks.add(Check.of("native %define " + e.getKey(), e.getValue(), value));
        }
        // UC_RIP is UC_GREGS + REG_RIP * 8: the 8 is the size of a greg_t.
        checks.add(Check.of("native UC_RIP scale (8)", "sizeof(greg_t)", 8));
        return checks;
    }

    // ---------------------------------------------------------------------
    // The tests

    /** usercopy.inc's FEAT_* bits are CpuFeature's: the Java side names what the assembly reports. */
    @Test
    void cpuFeatureBitsMatchTheAssembly() throws IOException {
        Map<String, Long> defines = asmDefines();
        for (CpuFeature f : CpuFeature.values()) {
            assertEquals(defines.get("FEAT_" + f.name()), f.bit(), "FEAT_" + f.name() + " in native/usercopy.inc");
        }
    }

    @TestFactory
    Stream<DynamicTest> structLayouts() throws Exception {
        return run(structChecks());
    }

    @TestFactory
    Stream<DynamicTest> libcConstants() throws Exception {
        List<Check> checks = libcConstantChecks();
        assertFalse(checks.isEmpty(), "found no int/long constants in Posix by reflection");
        return run(checks);
    }

    @TestFactory
    Stream<DynamicTest> hostFilesConstants() throws Exception {
        List<Check> checks = hostFilesConstantChecks();
        assertFalse(checks.isEmpty(), "found no int constants in HostFiles by reflection");
        return run(checks);
    }

    @TestFactory
    Stream<DynamicTest> ptraceConstantsAndStructs() throws Exception {
        return run(ptraceChecks());
    }

    @TestFactory
    Stream<DynamicTest> errnoNumbers() throws Exception {
        return run(errnoChecks());
    }

    @TestFactory
    Stream<DynamicTest> assembledHandler() throws Exception {
        return run(builtLibraryChecks());
    }

    @TestFactory
    Stream<DynamicTest> assemblySourceConstants() throws Exception {
        return run(asmSourceChecks());
    }

    @TestFactory
    Stream<DynamicTest> exceptionTable() throws IOException {
        List<ExtableEntry> entries = ExtableEntry.all();
        long size = LibUsercopy.extableSize();
        List<DynamicTest> tests = new ArrayList<>();
        tests.add(dynamicTest("usercopy_extable_size() == the entries read at load",
                () -> assertEquals(entries.size(), size)));
        tests.add(dynamicTest("every uaccess line of native/*.S has its entry, under its label", () -> {
            Set<String> written = uaccessLabels();
            Set<String> read = new LinkedHashSet<>();
            entries.forEach(e -> read.add(e.label()));
            assertEquals(written, read, "the labels of the uaccess lines in native/*.S and the table's names");
        }));
        tests.add(dynamicTest("one hit counter an entry: the last counts, the one past it does not exist", () -> {
            assertTrue(LibUsercopy.extableHits(size - 1) >= 0, "no counter for the last entry");
            assertEquals(-1, LibUsercopy.extableHits(size));
        }));
        tests.add(dynamicTest("the library reserves one 8-byte hit counter for each 16-byte entry (readelf)", () -> {
            Map<String, Long> sections = sectionSizes();
            assertEquals(size * 16, sections.get("ex_table"), "ex_table's size in " + sections);
            assertEquals(size * 8, sections.get("ex_hits"), "ex_hits's size in " + sections);
        }));
        tests.add(dynamicTest("usercopy_extable_entry out of range is 0", () -> {
            assertEquals(0, LibUsercopy.extableEntry(size, 0));
            assertEquals(0, LibUsercopy.extableEntry(-1, 0));
            assertEquals(0, LibUsercopy.extableEntry(0, 3));
        }));
        tests.add(dynamicTest("an unknown label is an error, not an entry",
                () -> assertThrows(IllegalArgumentException.class, () -> ExtableEntry.named("usercopy_none"))));

        Set<Long> instructions = new HashSet<>();
        for (ExtableEntry e : entries) {
            assertTrue(instructions.add(e.instruction()), "two entries for the instruction at " + hex(e.instruction()));
        }
        List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
        for (ExtableEntry entry : entries) {
            tests.add(dynamicTest("extable[" + entry.index() + "] " + entry.label(), () -> {
                long label = LibUsercopy.symbolAddress(entry.label());
                assertNotEquals(0, label, "libusercopy.so exports no symbol " + entry.label());
                long insn = entry.instruction();
                assertEquals(hex(label), hex(insn),
                        "the entry named " + entry.label() + " is not for the instruction with that label");
                long fixup = entry.fixup();
                assertNotEquals(0, fixup, entry.label() + " has no fixup");
                assertNotEquals(hex(insn), hex(fixup), entry.label() + " fixes up to its own faulting instruction");
                assertFalse(instructions.contains(fixup),
                        entry.label() + "'s fixup " + hex(fixup) + " is itself a faulting instruction of the table");
                assertTrue(Math.abs(fixup - label) < 4096,
                        entry.label() + "'s fixup " + hex(fixup) + " is not within 4 KiB of it, " + hex(label));
                String mapping = mappingOf(maps, label);
                assertNotNull(mapping, entry.label() + " " + hex(label) + " is in no mapping of /proc/self/maps");
                assertTrue(mapping.contains("libusercopy"), entry.label() + " is not in libusercopy.so: " + mapping);
                assertTrue(mapping.split("\\s+")[1].contains("x"), entry.label() + " is not in executable text: " + mapping);
                assertEquals(mapping, mappingOf(maps, fixup),
                        entry.label() + "'s fixup " + hex(fixup) + " is not in the text mapping of the instruction");
            }));
        }
        return tests.stream();
    }

    // ---------------------------------------------------------------------
    // Running the checks against the probe

    private static Stream<DynamicTest> run(List<Check> checks) throws Exception {
        Map<String, String> values = probe();
        return checks.stream().map(check -> dynamicTest(check.displayName(), () -> {
            String text = values.get(check.c());
            assertNotNull(text, () -> "the C probe printed nothing for " + check.c());
            if (text.equals("undefined")) {
                fail(check.c() + " is not defined by the C headers (" + check.name() + " = " + check.java() + ")");
            }
            long c = Long.parseLong(text);
            long java = check.java();
            if (check.javaIsInt() && c == Integer.toUnsignedLong((int) java)) {
                return; // the same 32 bits, read unsigned in C
            }
            assertEquals(c, java, () -> check.name() + " is " + java + " (0x" + Long.toHexString(java)
                    + ") but the C headers give " + check.c() + " = " + c + " (0x" + Long.toHexString(c) + ")");
        }));
    }

    /** Every check's C expression, once each. */
    private static Set<String> allExpressions() throws IOException {
        Set<String> all = new LinkedHashSet<>();
        for (List<Check> group : List.of(structChecks(), libcConstantChecks(), hostFilesConstantChecks(), ptraceChecks(), errnoChecks(),
                builtLibraryChecks(), asmSourceChecks())) {
            for (Check check : group) {
                all.add(check.c());
            }
        }
        return all;
    }

    /** The C program: the headers, then one printf a distinct expression. */
    static String probeSource(Set<String> expressions) {
        StringBuilder src = new StringBuilder("""
                /* Generated by AbiTest: prints "expression=value" for each C expression
                   the Java bindings and the assembly rely on. */
                #define _GNU_SOURCE
                #include <signal.h>
                #include <sys/mman.h>
                #include <sys/ucontext.h>
                #include <unistd.h>
                #include <fcntl.h>
                #include <sys/uio.h>
                #include <errno.h>
                #include <sys/syscall.h>
                #include <sys/stat.h>
                #include <sys/statfs.h>
                #include <sys/eventfd.h>
                #include <sys/ioctl.h>
                #include <linux/openat2.h>
                #include <sys/ptrace.h>
                #include <linux/audit.h>
                #include <sys/user.h>
                #include <elf.h>
                #include <sys/wait.h>
                #include <spawn.h>
                #include <stddef.h>
                #include <stdint.h>
                #include <stdio.h>
                #include <cpuid.h>

                int main(void) {
                """);
        for (String expr : expressions) {
            if (expr.contains("\"") || expr.contains("\\") || expr.contains("=") || expr.contains("\n")) {
                throw new IllegalArgumentException("not printable as a probe key: " + expr);
            }
            if (IDENTIFIER.matcher(expr).matches()) {
                src.append("#ifdef ").append(expr).append('\n')
                        .append("    printf(\"%s=%lld\\n\", \"").append(expr).append("\", (long long)(intptr_t)(")
                        .append(expr).append("));\n")
                        .append("#else\n")
                        .append("    printf(\"%s=undefined\\n\", \"").append(expr).append("\");\n")
                        .append("#endif\n");
            } else {
                src.append("    printf(\"%s=%lld\\n\", \"").append(expr).append("\", (long long)(")
                        .append(expr).append("));\n");
            }
        }
        src.append("    return 0;\n}\n");
        return src.toString();
    }

    private static synchronized Map<String, String> probe() throws Exception {
        if (probe != null) {
            return probe;
        }
        String source = probeSource(allExpressions());
        Path c = workDir.resolve("abi_probe.c");
        Path exe = workDir.resolve("abi_probe");
        Files.writeString(c, source);

        String ccOut = exec(List.of(CC, "-std=gnu11", "-Wall", "-o", exe.toString(), c.toString()), "compile", source);
        String out = exec(List.of(exe.toString()), "run", source);

        Map<String, String> values = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            int eq = line.lastIndexOf('=');
            assertTrue(eq > 0, "unexpected probe output line: " + line);
            values.put(line.substring(0, eq), line.substring(eq + 1).strip());
        }
        if (!ccOut.isBlank()) {
            System.err.println("AbiTest: gcc said:\n" + ccOut);
        }
        probe = values;
        return values;
    }

    /** Runs a command; fails the test with its output if it cannot start, times out or exits non-zero. */
    private static String exec(List<String> command, String what, String source) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).directory(workDir.toFile()).start();
        } catch (IOException e) {
            if (what.equals("compile")) {
                fail(CC + " not found or not runnable (" + e.getMessage() + "). AbiTest compiles a C probe to check "
                        + "struct offsets and constants against the system headers and does not skip without it: "
                        + "install gcc (apt-get install -y gcc).", e);
            }
            throw e;
        }
        p.getOutputStream().close();
        byte[] bytes = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the C probe timed out (" + what + "): " + command);
        }
        String out = new String(bytes, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            fail("the C probe failed to " + what + " (exit " + p.exitValue() + "): " + String.join(" ", command)
                    + "\n" + out + "\n--- generated source ---\n" + source);
        }
        return out;
    }

    // ---------------------------------------------------------------------
    // native/*.S and the process's mappings

    /** The assembly sources and their shared include, native/*.S and native/*.inc; Maven runs tests from the project directory. */
    private static List<Path> asmSources() throws IOException {
        Path dir = Path.of(System.getProperty("basedir", System.getProperty("user.dir")), "native");
        assertTrue(Files.isDirectory(dir), "cannot find the assembly sources at " + dir.toAbsolutePath());
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> sources = files.filter(f -> f.toString().endsWith(".S") || f.toString().endsWith(".inc")).sorted().toList();
            assertFalse(sources.isEmpty(), "no .S or .inc files in " + dir.toAbsolutePath());
            return sources;
        }
    }

    /** The {@code %define NAME <integer>} lines of every assembly source. */
    private static Map<String, Long> asmDefines() throws IOException {
        Pattern define = Pattern.compile("^\\s*%define\\s+(\\w+)\\s+(-?(?:0x[0-9A-Fa-f]+|\\d+))\\s*(?:;.*)?$");
        Map<String, Long> defines = new LinkedHashMap<>();
        for (Path source : asmSources()) {
            for (String line : Files.readAllLines(source)) {
                Matcher m = define.matcher(line);
                if (m.matches()) {
                    String v = m.group(2);
                    boolean neg = v.startsWith("-");
                    String digits = neg ? v.substring(1) : v;
                    long n = digits.startsWith("0x") ? Long.parseLong(digits.substring(2), 16) : Long.parseLong(digits);
                    Long before = defines.put(m.group(1), neg ? -n : n);
                    assertTrue(before == null || before == (neg ? -n : n), m.group(1) + " is defined twice, differently");
                }
            }
        }
        return defines;
    }

    /** The sizes of the sections of the bundled libusercopy.so, as readelf (binutils, which builds it) lists them. */
    private static Map<String, Long> sectionSizes() throws Exception {
        Path library = Path.of(AbiTest.class.getResource(BundledLibrary.RESOURCE).toURI());
        Process p = new ProcessBuilder("readelf", "-S", "-W", library.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "readelf -S -W " + library + ":\n" + out);
        // "  [12] ex_hits  NOBITS  0000000000004030 003000 000128 00  WA  0   0  8": name, type, address, offset, size
        Pattern row = Pattern.compile("\\]\\s+(\\S+)\\s+\\S+\\s+\\p{XDigit}+\\s+\\p{XDigit}+\\s+(\\p{XDigit}+)\\s");
        Map<String, Long> sizes = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            Matcher m = row.matcher(line);
            if (m.find()) {
                sizes.put(m.group(1), Long.parseLong(m.group(2), 16));
            }
        }
        return sizes;
    }

    /** The labels of the {@code uaccess LABEL, FIXUP, instruction} lines of native/*.S. */
    private static Set<String> uaccessLabels() throws IOException {
        Pattern uaccess = Pattern.compile("^\\s*uaccess\\s+(\\w+)\\s*,");
        Set<String> labels = new LinkedHashSet<>();
        for (Path source : asmSources()) {
            for (String line : Files.readAllLines(source)) {
                Matcher m = uaccess.matcher(line);
                if (m.find()) {
                    assertTrue(labels.add(m.group(1)), m.group(1) + " labels two uaccess lines");
                }
            }
        }
        return labels;
    }

    /** The /proc/self/maps line whose range holds {@code address}, or null. */
    private static String mappingOf(List<String> maps, long address) {
        for (String line : maps) {
            String range = line.substring(0, line.indexOf(' '));
            int dash = range.indexOf('-');
            long start = Long.parseUnsignedLong(range.substring(0, dash), 16);
            long end = Long.parseUnsignedLong(range.substring(dash + 1), 16);
            if (Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0) {
                return line;
            }
        }
        return null;
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
