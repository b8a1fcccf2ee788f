package dev.usercopy.platform;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A native fault that is not a usercopy fault still ends the way it would
 * without us: in HotSpot's fatal error report. The crash happens in a child
 * JVM ({@link CrashingChild}), never in this one.
 */
class ChildJvmCrashTest {
    private static final long CHILD_TIMEOUT_SECONDS = 60;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "handler {0}, {1}")
    @CsvSource({
            "installed,   segv, SIGSEGV",
            "uninstalled, segv, SIGSEGV",
            "installed,   bus,  SIGBUS",
            "uninstalled, bus,  SIGBUS",
    })
    void aForeignNativeFaultStillEndsInHotSpotsErrorReport(String handler, String fault, String signal)
            throws IOException, InterruptedException {
        Path stdout = dir.resolve("stdout.txt");
        Path stderr = dir.resolve("stderr.txt");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-XX:ErrorFile=" + dir.resolve("hs_err_%p.log"),
                "-XX:-CreateCoredumpOnCrash",
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-Xmx64m",
                "-cp", System.getProperty("java.class.path"),
                CrashingChild.class.getName(), handler, fault));
        Process child = new ProcessBuilder(command)
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile())
                .start();
        if (!child.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
            fail("the child JVM neither crashed nor exited within " + CHILD_TIMEOUT_SECONDS + " s (a hang instead of a report)"
                    + describe(stdout, stderr));
        }
        String out = Files.readString(stdout);
        String context = describe(stdout, stderr);

        // What the child established before crashing.
        long expectedLeft = CrashingChild.COPY_LENGTH - CrashingChild.BYTES_BEFORE_GUARD;
        assertTrue(out.lines().anyMatch(("copy-left=" + expectedLeft)::equals),
                "the guest fault before the crash was fixed up with the exact count" + context);
        if (handler.equals("uninstalled")) {
            assertTrue(out.lines().anyMatch("uninstall=true"::equals), "uninstall succeeded" + context);
            assertTrue(out.lines().anyMatch("handler-ours=false"::equals), "the JVM's handler was back in place" + context);
        } else {
            assertTrue(out.lines().anyMatch("handler-ours=true"::equals), "our handler was in front at the crash" + context);
        }
        assertFalse(out.lines().anyMatch("survived"::equals), "the memcpy onto the bad page returned" + context);

        // How it ended: HotSpot's report, not a bare signal death or a hang.
        int exit = child.exitValue();
        assertNotEquals(0, exit, "exit code" + context);
        assertTrue(exit == 1 || exit == 134,
                "HotSpot ends a crash with exit 1 (no core dump) or 134 (abort), not " + exit
                        + (exit > 128 ? " (killed by signal " + (exit - 128) + ")" : "") + context);
        Path report = dir.resolve("hs_err_" + child.pid() + ".log");
        assertTrue(Files.exists(report), "no hs_err report at " + report + context);
        String hsErr = Files.readString(report);
        assertTrue(hsErr.contains("#  " + signal + " "), "the report's header names " + signal + context);
        Matcher frame = Pattern.compile("(?m)^# Problematic frame:\\R# (.*)$").matcher(hsErr);
        assertTrue(frame.find(), "the report names a problematic frame" + context);
        assertTrue(frame.group(1).contains("libc.so") || frame.group(1).contains("memcpy")
                        || frame.group(1).contains("memmove"),
                "the problematic frame is libc's memcpy, not ours: " + frame.group(1));
        assertFalse(frame.group(1).contains("usercopy"), "the problematic frame is in libusercopy: " + frame.group(1));

        // The fault the report is about is the very one the child caused.
        Matcher target = Pattern.compile("(?m)^target=0x([0-9a-f]+)$").matcher(out);
        assertTrue(target.find(), "the child printed its target" + context);
        Matcher siginfo = Pattern.compile("siginfo: si_signo: \\d+ \\((\\w+)\\).*si_addr: 0x([0-9a-f]+)").matcher(hsErr);
        assertTrue(siginfo.find(), "the report has a siginfo line" + context);
        assertEquals(signal, siginfo.group(1), "siginfo signal");
        long page = Long.parseUnsignedLong(target.group(1), 16);
        long faultAddress = Long.parseUnsignedLong(siginfo.group(2), 16);
        assertTrue(faultAddress >= page && faultAddress < page + Posix.PAGE_SIZE,
                "si_addr 0x" + Long.toHexString(faultAddress) + " lies in the target page 0x" + Long.toHexString(page));
    }

    private static String describe(Path stdout, Path stderr) {
        return "\n--- child stdout ---\n" + readQuietly(stdout) + "\n--- child stderr ---\n" + readQuietly(stderr);
    }

    private static String readQuietly(Path file) {
        try {
            String text = Files.readString(file);
            return text.length() > 4000 ? text.substring(0, 4000) + "\n[...]" : text;
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
