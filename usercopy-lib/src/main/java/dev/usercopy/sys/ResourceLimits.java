package dev.usercopy.sys;

import dev.usercopy.platform.HostSystem;
import dev.usercopy.uapi.Errno;

/**
 * A guest's resource limits ({@code getrlimit}, {@code setrlimit},
 * {@code prlimit64}): its own copy, so a guest that lowers or raises one
 * never changes the JVM's. It starts as the user's limits: the JVM's, except
 * RLIMIT_NOFILE's soft limit, which the JVM raises to the hard limit at
 * start; the {@code ./usercopy} launcher records the user's value before
 * starting java in the system property {@value #NOFILE_PROPERTY}.
 */
public final class ResourceLimits {
    /** The system property the launcher sets to {@code ulimit -Sn} (a number or {@code unlimited}). */
    public static final String NOFILE_PROPERTY = "usercopy.rlimit.nofile";

    public static final int RLIMIT_CPU = 0;
    public static final int RLIMIT_DATA = 2;
    public static final int RLIMIT_STACK = 3;
    public static final int RLIMIT_NOFILE = 7;
    public static final int RLIM_NLIMITS = HostSystem.RLIM_NLIMITS;
    /** RLIM_INFINITY, ~0UL. */
    public static final long INFINITY = -1L;

    private final long[] soft = new long[RLIM_NLIMITS];
    private final long[] hard = new long[RLIM_NLIMITS];
    private long stackAtStart;

    private ResourceLimits() {}

    /** A fork's copy: the same limits, apart from here on. */
    public ResourceLimits forkCopy() {
        ResourceLimits l = new ResourceLimits();
        System.arraycopy(soft, 0, l.soft, 0, RLIM_NLIMITS);
        System.arraycopy(hard, 0, l.hard, 0, RLIM_NLIMITS);
        l.stackAtStart = stackAtStart;
        return l;
    }

    /** The user's limits, as this JVM found them (see the class comment). */
    public static ResourceLimits inherited() {
        ResourceLimits l = new ResourceLimits();
        for (int r = 0; r < RLIM_NLIMITS; r++) {
            long[] v = HostSystem.getrlimit(r);
            l.soft[r] = v[0];
            l.hard[r] = v[1];
        }
        l.stackAtStart = l.soft[RLIMIT_STACK];
        String nofile = System.getProperty(NOFILE_PROPERTY);
        if (nofile != null && !nofile.isBlank()) {
            long v = nofile.strip().equals("unlimited") ? INFINITY : parse(nofile.strip());
            if (v != 0 && Long.compareUnsigned(v, l.hard[RLIMIT_NOFILE]) <= 0) {
                l.soft[RLIMIT_NOFILE] = v;
            }
        }
        return l;
    }

    private static long parse(String s) {
        try {
            return Long.parseUnsignedLong(s);
        } catch (NumberFormatException e) {
            return 0; // not a limit: keep the JVM's
        }
    }

    /** The soft limit of {@code resource} (0..15). */
    public long soft(int resource) {
        return soft[resource];
    }

    /**
     * RLIMIT_STACK's soft limit when the program started: Linux lays out
     * the address space (mmap_base) by it at exec, and a later setrlimit
     * does not move it.
     */
    public long stackAtStart() {
        return stackAtStart;
    }

    /** The hard limit of {@code resource} (0..15). */
    public long hard(int resource) {
        return hard[resource];
    }

    /**
     * Linux's {@code do_prlimit}: EINVAL for a resource past RLIM_NLIMITS or a
     * soft limit above the hard one, EPERM for RLIMIT_NOFILE above
     * {@code fs.nr_open} or a hard limit raised without the privilege; the
     * old value is read before the new one is set, and into {@code old}
     * (when not null) even when setting it fails with EPERM, as Linux does.
     * Returns 0 or {@code -errno}.
     */
    long prlimit(long resource, long[] newLimit, long[] old, boolean privileged) {
        if (Long.compareUnsigned(resource, RLIM_NLIMITS) >= 0) {
            return -Errno.EINVAL.number();
        }
        int r = (int) resource;
        if (newLimit != null) {
            if (Long.compareUnsigned(newLimit[0], newLimit[1]) > 0) {
                return -Errno.EINVAL.number();
            }
            if (r == RLIMIT_NOFILE && Long.compareUnsigned(newLimit[1], nrOpen()) > 0) {
                return -Errno.EPERM.number();
            }
        }
        long result = 0;
        if (newLimit != null && Long.compareUnsigned(newLimit[1], hard[r]) > 0 && !privileged) {
            result = -Errno.EPERM.number();
        }
        if (old != null) {
            old[0] = soft[r];
            old[1] = hard[r];
        }
        if (result == 0 && newLimit != null) {
            // RLIMIT_CPU of 0 means 1 second in Linux's timers, but reads back as 0: nothing to adjust here.
            soft[r] = newLimit[0];
            hard[r] = newLimit[1];
        }
        return result;
    }

    /** {@code fs.nr_open}: the largest RLIMIT_NOFILE Linux accepts (its default, 1 << 20, if it cannot be read). */
    private static long nrOpen() {
        // Files.readString trusts the size procfs reports (0) and reads one byte: read the stream to its end.
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(java.nio.file.Path.of("/proc/sys/fs/nr_open"))) {
            return Long.parseLong(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).strip());
        } catch (java.io.IOException | NumberFormatException e) {
            return 1L << 20;
        }
    }
}
