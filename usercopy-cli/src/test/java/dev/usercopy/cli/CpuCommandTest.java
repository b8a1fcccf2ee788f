package dev.usercopy.cli;

import org.junit.jupiter.api.Test;

import dev.usercopy.platform.CpuFeature;
import dev.usercopy.platform.UserCopy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code usercopy cpu} names every feature the adaptive copy found and the routine each size range gets. */
class CpuCommandTest {

    @Test
    void cpuPrintsTheDetectedFeaturesAndTheChoices() {
        Cli r = Cli.run("cpu");
        String text = r.out();
        assertEquals(0, r.exit(), r::toString);
        String first = text.lines().findFirst().orElseThrow();
        for (CpuFeature f : CpuFeature.values()) {
            assertEquals(UserCopy.cpuFeatures().contains(f), first.contains(" " + f.name()), first);
        }
        String big = text.lines().filter(l -> l.contains("4 KiB and up")).findFirst().orElseThrow();
        assertTrue(big.contains(UserCopy.cpuFeatures().contains(CpuFeature.ERMS) ? "rep movsb" : "rep movsq"), big);
    }
}
