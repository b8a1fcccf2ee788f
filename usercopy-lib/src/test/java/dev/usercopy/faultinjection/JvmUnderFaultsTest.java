package dev.usercopy.faultinjection;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The JVM under faults, one child JVM a configuration (each collector,
 * -Xcomp, -Xint): {@link FaultingChild} runs model-checked faulting copies
 * while other threads take NPEs from implicit null checks, overflow their
 * stacks and run the collector. The child checks its own results; here the
 * exit code must be 0 and its summary line must show every part ran, with
 * faults both fixed up and passed on to HotSpot. Children run two at a time.
 */
@ExtendWith(Summary.class)
class JvmUnderFaultsTest {
    private static final long SEED = Long.getLong("usercopy.fi.seed", System.nanoTime());
    private static final int CASES = 3000;
    private static final long TIMEOUT_SECONDS = 180;

    static Stream<String> configurations() {
        return Stream.of("-XX:+UseG1GC", "-XX:+UseZGC", "-XX:+UseParallelGC", "-XX:+UseSerialGC", "-Xcomp", "-Xint");
    }

    record Run(int exit, String out, long millis) {}

    @TempDir
    static Path dir;
    private static ExecutorService pool;
    private static final Map<String, Future<Run>> RUNS = new ConcurrentHashMap<>();

    @BeforeAll
    static void startChildren() {
        pool = Executors.newFixedThreadPool(2);
        configurations().forEach(flag -> RUNS.put(flag, pool.submit(() -> runChild(flag))));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(30, TimeUnit.SECONDS);
    }

    private static Run runChild(String flag) throws IOException, InterruptedException {
        String name = flag.replaceAll("[^A-Za-z0-9]", "");
        Path out = dir.resolve(name + ".out");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-XX:ErrorFile=" + dir.resolve("hs_err_" + name + "_%p.log"),
                "-XX:-CreateCoredumpOnCrash",
                "-Xmx128m",
                flag,
                "-cp", System.getProperty("java.class.path"),
                FaultingChild.class.getName(), Long.toString(SEED), Integer.toString(CASES)));
        long start = System.nanoTime();
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!child.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
            return new Run(-1, "timed out after " + TIMEOUT_SECONDS + " s\n" + Files.readString(out), 0);
        }
        return new Run(child.exitValue(), Files.readString(out), (System.nanoTime() - start) / 1_000_000);
    }

    private static final Pattern SUMMARY = Pattern.compile(Pattern.quote(FaultingChild.OK)
            + " cases=(\\d+) npes=(\\d+) overflows=(\\d+) gcs=(\\d+) fixups=(\\d+) passedOn=(\\d+)");

    @ParameterizedTest(name = "{0}")
    @MethodSource("configurations")
    void aChildJvmSurvivesFaultingCopiesAmidNpeStormsStackOverflowsAndCollections(String flag) throws Exception {
        Run run = RUNS.get(flag).get(TIMEOUT_SECONDS + 30, TimeUnit.SECONDS);
        String context = "\n--- child (" + flag + ", seed " + SEED + ", -Dusercopy.fi.seed=" + SEED + ") ---\n" + run.out();
        if (run.exit() != 0) {
            Summary.count("Child JVMs under faults", flag, "failed");
            fail("the child exited " + run.exit() + context);
        }
        Matcher m = SUMMARY.matcher(run.out());
        assertTrue(m.find(), "the child printed no summary line" + context);
        assertEquals(CASES, Long.parseLong(m.group(1)), "copies checked" + context);
        assertEquals(100_000, Long.parseLong(m.group(2)), "NPEs caught" + context);
        assertEquals(5, Long.parseLong(m.group(3)), "stack overflows survived" + context);
        assertTrue(Long.parseLong(m.group(4)) >= 20, "collections" + context);
        assertTrue(Long.parseLong(m.group(5)) > 0, "faults fixed up by our handler" + context);
        assertTrue(Long.parseLong(m.group(6)) > 0, "faults passed on to HotSpot (null checks, stack banging)" + context);
        Summary.count("Child JVMs under faults", flag, "exit 0, checks held");
        Summary.note("child " + flag + ": " + m.group() + " (" + run.millis() + " ms)");
    }
}
