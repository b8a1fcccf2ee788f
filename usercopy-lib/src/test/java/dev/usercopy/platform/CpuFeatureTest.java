package dev.usercopy.platform;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What native/cpu.S read from CPUID at load is what the kernel reports, and a restriction never adds a feature. */
class CpuFeatureTest {

    private static Set<CpuFeature> kernelFlags() throws IOException {
        String flags = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                .filter(l -> l.startsWith("flags"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no flags line in /proc/cpuinfo"));
        Set<String> words = Arrays.stream(flags.substring(flags.indexOf(':') + 1).trim().split("\\s+"))
                .collect(Collectors.toSet());
        Set<CpuFeature> set = EnumSet.noneOf(CpuFeature.class);
        for (CpuFeature f : CpuFeature.values()) {
            if (words.contains(f.name().toLowerCase(java.util.Locale.ROOT))) {
                set.add(f);
            }
        }
        return set;
    }

    @Test
    void theDetectedFeaturesAreTheOnesProcCpuinfoLists() throws IOException {
        assertEquals(kernelFlags(), UserCopy.cpuFeatures());
    }

    @Test
    void restrictingNarrowsTheFeaturesAndNeverAddsOne() throws IOException {
        Set<CpuFeature> detected = UserCopy.cpuFeatures();
        try {
            assertEquals(Set.of(), UserCopy.restrictCpuFeatures(EnumSet.noneOf(CpuFeature.class)));
            assertEquals(Set.of(), UserCopy.cpuFeatures());
            Set<CpuFeature> onlyErms = EnumSet.of(CpuFeature.ERMS);
            onlyErms.retainAll(detected);
            assertEquals(onlyErms, UserCopy.restrictCpuFeatures(EnumSet.of(CpuFeature.ERMS)));
            assertEquals(detected, UserCopy.restrictCpuFeatures(EnumSet.allOf(CpuFeature.class)));
        } finally {
            UserCopy.restrictCpuFeatures(detected);
        }
        assertEquals(kernelFlags(), UserCopy.cpuFeatures());
    }
}
