package dev.usercopy.proc;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.usercopy.mm.MemoryManager;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Frame accounting of guest process trees (issue 15): busybox pipelines, subshells and
 * background jobs run through {@link Guest}, and once the whole tree has ended (every fork's
 * copy-on-write leaves, every exec's fresh address space, every pipe) the machine has every frame
 * back, no address space left, and {@link MemoryManager#checkInvariants()} holds, also while the
 * tree still runs (at each exit the options' hook sees).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class GuestTreeFramesTest {
    static final String BUSYBOX = "/bin/busybox";
    private static MemoryManager mm;
    private static long baselineUsed;
    private static int baselineSpaces;

    @TempDir
    Path tmp;

    @BeforeAll
    static void machine() {
        mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(1L << 17));
        baselineUsed = mm.stats().usedFrames();
        baselineSpaces = mm.stats().addressSpaces();
    }

    @AfterAll
    static void close() {
        mm.close();
    }

    @AfterEach
    void nothingLeft() {
        mm.checkInvariants();
        assertEquals(baselineUsed, mm.stats().usedFrames(), "frames left behind");
        assertEquals(baselineSpaces, mm.stats().addressSpaces(), "address spaces left behind");
    }

    /** What the hook saw: how often it ran, and any invariant broken while the tree ran. */
    private final AtomicInteger exits = new AtomicInteger();
    private final List<Throwable> broken = Collections.synchronizedList(new ArrayList<>());

    private Guest.Options options(Path out) {
        return Guest.Options.defaults().withCwd(tmp).withOutput(out, tmp.resolve("err.txt")).withAtExit(space -> {
            exits.incrementAndGet();
            try {
                mm.checkInvariants();
            } catch (Throwable t) {
                broken.add(t);
            }
        });
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "(" + e + ")";
        }
    }

    private String run(String script, int status) throws Exception {
        Path out = tmp.resolve("out.txt");
        Guest.Result r = Guest.run(mm, BUSYBOX, List.of("busybox", "sh", "-c", script), List.of("PATH=/usr/bin:/bin", "LC_ALL=C"), options(out));
        String err = Files.readString(tmp.resolve("err.txt"));
        assertNull(r.error(), r.toString());
        assertEquals(status, r.status(), () -> script + ": " + r + "\nstderr: " + err);
        assertEquals(List.of(), broken, "invariants broken while the tree ran");
        assertTrue(exits.get() >= 1, "the exit hook never ran");
        return Files.readString(out);
    }

    @Test
    void aPipelineGivesEveryFrameBack() throws Exception {
        assertEquals("1000\n999\n998\n", run("seq 1 1000 | sort -rn | head -3", 0));
    }

    @Test
    void subshellsSubstitutionsAndBackgroundJobsGiveEveryFrameBack() throws Exception {
        String out = run("x=$(seq 1 20000 | tail -1); (echo sub $x; exit 3); echo $?;"
                + " for i in 1 2 3 4 5 6; do (echo job $i | cat > /dev/null) & done; wait; echo done", 0);
        assertEquals("sub 20000\n3\ndone\n", out);
    }

    /** A head that exits early: seq dies of SIGPIPE with pages written and a pipe full. */
    @Test
    void aWriterKilledBySigpipeGivesEveryFrameBack() throws Exception {
        assertEquals("1\n2\n", run("seq 1 1000000 | head -2", 0));
    }

    /** A tree killed from outside mid-pipeline gives every frame back when waitFor returns. */
    @Test
    void aKilledTreeGivesEveryFrameBack() throws Exception {
        Path out = tmp.resolve("out.txt");
        Guest g = Guest.start(mm, BUSYBOX, List.of("busybox", "sh", "-c", "yes | cat | cat > /dev/null"), List.of("PATH=/usr/bin:/bin"), options(out));
        for (int i = 0; i < 200 && g.hostPid() == 0; i++) {
            Thread.sleep(50);
        }
        Thread.sleep(1000); // the pipeline runs
        int host = g.hostPid();
        assertTrue(host > 0 && ProcessHandle.of(host).map(ProcessHandle::isAlive).orElse(false),
                () -> "the tree's first process ended before the kill: " + read(tmp.resolve("err.txt")));
        g.kill();
        Guest.Result r = g.waitFor();
        assertEquals(137, r.status(), r.toString());
        assertEquals(List.of(), broken, "invariants broken while the tree ran");
    }
}
