package dev.usercopy.uaccess;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MmScenario;
import dev.usercopy.mm.Profile;
import dev.usercopy.mm.Prot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code copy_struct_from_user} against the host kernel's own: a C program
 * (compiled with gcc at test time) lays a {@code struct open_how} out on
 * host memory near a page boundary, the next page unmapped, PROT_NONE,
 * untouched (zeros) or non-zero, with one extra byte set or none, and calls
 * {@code openat2(".", how, usize)}, whose first step is
 * {@code copy_struct_from_user(&how, 24, uhow, usize)}. The guest, laid out
 * the same way, must give the same outcome (success, E2BIG, EFAULT) through
 * {@link UserSlice#copyStructToSlice} and {@link UserConstPtr#getStruct},
 * in every profile.
 */
class ExtensibleStructOracleTest extends MmScenario {
    private static final String[] KINDS = {"UNMAPPED", "PROT_NONE", "LAZY_ZEROS", "NON_ZERO"};
    private static final int[] STARTS = {0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 40, 47, 48, 100};
    /** openat2 refuses sizes under 24 (EINVAL) and over a page (E2BIG) before it copies: these are all it copies. */
    private static final int[] SIZES = {24, 25, 31, 32, 33, 40, 47, 48, 49, 64, 100, 4096};

    private static final String PROBE = """
            #define _GNU_SOURCE
            #include <errno.h>
            #include <fcntl.h>
            #include <stdio.h>
            #include <string.h>
            #include <sys/mman.h>
            #include <sys/syscall.h>
            #include <unistd.h>

            static const int starts[] = {%s};
            static const int sizes[] = {%s};

            int main(void) {
                long page = sysconf(_SC_PAGESIZE);
                for (int kind = 0; kind < 4; kind++) {
                    char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                    if (m == MAP_FAILED) { perror("mmap"); return 2; }
                    char *next = m + page;
                    if (kind == 0) munmap(next, page);
                    if (kind == 1) mprotect(next, page, PROT_NONE);
                    if (kind == 2) mprotect(next, page, PROT_READ); /* never touched: zeros */
                    if (kind == 3) memset(next, 0x11, page);
                    for (unsigned s = 0; s < sizeof starts / sizeof *starts; s++) {
                        int k = starts[s];
                        if (kind == 3 && k < 24) continue; /* open_how's own fields would be non-zero: EINVAL after the copy */
                        for (unsigned z = 0; z < sizeof sizes / sizeof *sizes; z++) {
                            int u = sizes[z];
                            int ps[] = {-1, 24, 25, u - 1, k - 1};
                            for (unsigned i = 0; i < 5; i++) {
                                int p = ps[i];
                                if (p != -1 && (p < 24 || p >= u || p >= k)) continue;
                                if (i > 0 && (p == -1 || (i >= 2 && p == ps[1]) || (i >= 3 && p == ps[2]) || (i == 4 && p == ps[3]))) continue;
                                memset(m, 0, page);
                                char *src = next - k;
                                if (p >= 0) src[p] = 0x5a;
                                long fd = syscall(SYS_openat2, AT_FDCWD, ".", src, (size_t) u);
                                int err = fd < 0 ? errno : 0;
                                if (fd >= 0) close((int) fd);
                                printf("%%d %%d %%d %%d %%d\\n", kind, k, u, p, err);
                            }
                        }
                    }
                    munmap(m, 2 * page);
                }
                return 0;
            }
            """;

    private static List<int[]> hostLines;

    @TempDir
    static Path dir;

    private static synchronized List<int[]> host() throws IOException, InterruptedException {
        if (hostLines != null) {
            return hostLines;
        }
        Path c = dir.resolve("openat2_probe.c");
        Path exe = dir.resolve("openat2_probe");
        Files.writeString(c, PROBE.formatted(join(STARTS), join(SIZES)));
        run(List.of("gcc", "-std=gnu11", "-O1", "-Wall", "-o", exe.toString(), c.toString()));
        List<int[]> lines = new ArrayList<>();
        for (String line : run(List.of(exe.toString())).split("\n")) {
            String[] f = line.trim().split(" ");
            int[] v = new int[f.length];
            for (int i = 0; i < f.length; i++) {
                v[i] = Integer.parseInt(f[i]);
            }
            lines.add(v);
        }
        hostLines = lines;
        return lines;
    }

    private static String join(int[] values) {
        StringBuilder b = new StringBuilder();
        for (int v : values) {
            b.append(b.isEmpty() ? "" : ", ").append(v);
        }
        return b.toString();
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            fail(command.getFirst() + " failed (gcc is needed, as for AbiTest):\n" + out);
        }
        return out;
    }

    private static String outcome(int errno) {
        return switch (errno) {
            case 0 -> "OK";
            case 7 -> "E2BIG";
            case 14 -> "EFAULT";
            default -> "errno " + errno;
        };
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void theGuestAgreesWithTheHostsOpenat2(Profile profile) throws IOException, InterruptedException {
        List<int[]> lines = host();
        machine(small().withProfile(profile));
        AddressSpace as = space();
        long page = as.mmap(BASE, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        long next = page + PAGE;
        Map<String, Integer> seen = new TreeMap<>();
        int kindNow = -1;
        for (int[] l : lines) {
            int kind = l[0], k = l[1], usize = l[2], p = l[3];
            if (kind != kindNow) {
                if (kindNow > 0) {
                    as.munmap(next, PAGE);
                }
                switch (kind) {
                    case 0 -> { }
                    case 1 -> as.mmap(next, PAGE, Prot.NONE, MapFlags.PRIVATE | MapFlags.FIXED);
                    case 2 -> as.mmap(next, PAGE, Prot.READ, MapFlags.PRIVATE | MapFlags.FIXED);
                    case 3 -> {
                        as.mmap(next, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
                        write(as, next, filled((int) PAGE, 0x11));
                    }
                    default -> fail("kind " + kind);
                }
                kindNow = kind;
            }
            write(as, page, new byte[(int) PAGE]);
            long src = next - k;
            if (p >= 0) {
                writeByte(as, src + p, 0x5a);
            }
            String want = outcome(l[4]);
            String what = KINDS[kind] + ", open_how " + k + " bytes before the next page, usize " + usize + (p < 0 ? "" : ", byte " + p + " set");
            String slice;
            try {
                UserSlice.ro(as, src, usize).copyStructToSlice(new byte[24]);
                slice = "OK";
            } catch (ErrnoException e) {
                slice = e.errno().name();
            }
            assertEquals(want, slice, "UserSlice: " + what);
            String ptr;
            try {
                UserConstPtr.of(as, src, ExtensibleStructTest.OPEN_HOW).getStruct(usize);
                ptr = "OK";
            } catch (ErrnoException e) {
                ptr = e.errno().name();
            }
            assertEquals(want, ptr, "UserConstPtr: " + what);
            seen.merge(want, 1, Integer::sum);
        }
        assertTrue(seen.getOrDefault("OK", 0) > 50 && seen.getOrDefault("E2BIG", 0) > 50 && seen.getOrDefault("EFAULT", 0) > 50,
                "every outcome met often: " + seen);
        check();
    }
}
