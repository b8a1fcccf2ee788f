package dev.usercopy.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import dev.usercopy.platform.CpuFeature;
import dev.usercopy.platform.UserCopy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code usercopy cpu} names every feature the adaptive copy found and the routine each size range gets. */
class CpuCommandTest {

    @Test
    void cpuPrintsTheDetectedFeaturesAndTheChoices() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"cpu"}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        String first = text.lines().findFirst().orElseThrow();
        for (CpuFeature f : CpuFeature.values()) {
            assertEquals(UserCopy.cpuFeatures().contains(f), first.contains(" " + f.name()), first);
        }
        String big = text.lines().filter(l -> l.contains("16 KiB and up")).findFirst().orElseThrow();
        assertTrue(big.contains(UserCopy.cpuFeatures().contains(CpuFeature.ERMS) ? "rep movsb" : "rep movsq"), big);
    }
}
