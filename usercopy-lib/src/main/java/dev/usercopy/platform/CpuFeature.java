package dev.usercopy.platform;

import java.util.EnumSet;
import java.util.Set;

/**
 * The CPU features {@link UserCopy.Form#ADAPTIVE} chooses by, as CPUID reported
 * them when libusercopy was loaded. The ordinal is the bit in
 * {@code usercopy_cpu_features()} (FEAT_* in native/usercopy.inc).
 */
public enum CpuFeature {
    /** Enhanced {@code rep movsb}: large copies go through it, else through {@code rep movsq}. */
    ERMS,
    /** Fast short {@code rep movsb}: reported, but a mov sequence still beats it up to 64 bytes on Zen 4. */
    FSRM,
    /** AVX2 with ymm state saved by the OS: copies of 65 bytes to 4 KiB, and larger ones in rep movsb's slow case, use a 32-byte loop. */
    AVX2;

    long bit() {
        return 1L << ordinal();
    }

    static Set<CpuFeature> fromBits(long bits) {
        Set<CpuFeature> set = EnumSet.noneOf(CpuFeature.class);
        for (CpuFeature f : values()) {
            if ((bits & f.bit()) != 0) {
                set.add(f);
            }
        }
        return set;
    }

    static long toBits(Set<CpuFeature> features) {
        long bits = 0;
        for (CpuFeature f : features) {
            bits |= f.bit();
        }
        return bits;
    }
}
