package dev.usercopy.sys;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.usercopy.platform.HostSystem;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The numbers the memory, identity, time and signal syscalls are written
 * against, held to the C headers: struct sizes and offsets the guest's C
 * library uses, and every flag and id these families decode. A probe is
 * generated from the table below, compiled with gcc and run.
 */
class SysAbiTest {
    @TempDir
    static Path dir;

    private static Map<String, Long> checks() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("sizeof(struct utsname)", (long) HostSystem.UTSNAME_SIZE);
        c.put("sizeof(struct sysinfo)", (long) HostSystem.SYSINFO_SIZE);
        c.put("RLIM_NLIMITS", (long) ResourceLimits.RLIM_NLIMITS);
        c.put("RLIMIT_CPU", (long) ResourceLimits.RLIMIT_CPU);
        c.put("RLIMIT_DATA", (long) ResourceLimits.RLIMIT_DATA);
        c.put("RLIMIT_STACK", (long) ResourceLimits.RLIMIT_STACK);
        c.put("RLIMIT_NOFILE", (long) ResourceLimits.RLIMIT_NOFILE);
        c.put("(long) RLIM_INFINITY", ResourceLimits.INFINITY);
        c.put("sizeof(struct rlimit)", 16L);
        c.put("sizeof(struct timespec)", 16L);
        c.put("sizeof(struct timeval)", 16L);
        c.put("sizeof(stack_t)", (long) Signals.STACK_SIZE);
        c.put("offsetof(stack_t, ss_flags)", 8L);
        c.put("offsetof(stack_t, ss_size)", 16L);
        c.put("sizeof(sigset_t) >= 8", 1L);
        c.put("SIGKILL", (long) Signals.SIGKILL);
        c.put("SIGSTOP", (long) Signals.SIGSTOP);
        c.put("SIG_BLOCK", (long) Signals.SIG_BLOCK);
        c.put("SIG_UNBLOCK", (long) Signals.SIG_UNBLOCK);
        c.put("SIG_SETMASK", (long) Signals.SIG_SETMASK);
        c.put("SS_ONSTACK", (long) Signals.SS_ONSTACK);
        c.put("SS_DISABLE", (long) Signals.SS_DISABLE);
        c.put("MINSIGSTKSZ", Signals.MINSIGSTKSZ);
        c.put("(long) (SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER | (unsigned) SA_RESETHAND | 0x04000000 | 0x800)",
                Signals.SA_FLAGS);
        c.put("CLOCK_REALTIME", (long) Time.CLOCK_REALTIME);
        c.put("CLOCK_MONOTONIC", (long) Time.CLOCK_MONOTONIC);
        c.put("CLOCK_PROCESS_CPUTIME_ID", (long) Time.CLOCK_PROCESS_CPUTIME_ID);
        c.put("CLOCK_THREAD_CPUTIME_ID", (long) Time.CLOCK_THREAD_CPUTIME_ID);
        c.put("CLOCK_MONOTONIC_RAW", (long) Time.CLOCK_MONOTONIC_RAW);
        c.put("CLOCK_REALTIME_COARSE", (long) Time.CLOCK_REALTIME_COARSE);
        c.put("CLOCK_MONOTONIC_COARSE", (long) Time.CLOCK_MONOTONIC_COARSE);
        c.put("CLOCK_BOOTTIME", (long) Time.CLOCK_BOOTTIME);
        c.put("CLOCK_REALTIME_ALARM", (long) Time.CLOCK_REALTIME_ALARM);
        c.put("CLOCK_BOOTTIME_ALARM", (long) Time.CLOCK_BOOTTIME_ALARM);
        c.put("CLOCK_TAI", (long) Time.CLOCK_TAI);
        c.put("TIMER_ABSTIME", (long) Time.TIMER_ABSTIME);
        c.put("GRND_NONBLOCK", (long) Identity.GRND_NONBLOCK);
        c.put("GRND_RANDOM", (long) Identity.GRND_RANDOM);
        c.put("GRND_INSECURE", (long) Identity.GRND_INSECURE);
        c.put("MAP_HUGETLB", (long) Memory.MAP_HUGETLB);
        c.put("MREMAP_MAYMOVE", (long) Memory.MREMAP_MAYMOVE);
        c.put("MREMAP_FIXED", (long) Memory.MREMAP_FIXED);
        c.put("MREMAP_DONTUNMAP", (long) Memory.MREMAP_DONTUNMAP);
        c.put("MS_ASYNC", (long) Memory.MS_ASYNC);
        c.put("MS_INVALIDATE", (long) Memory.MS_INVALIDATE);
        c.put("MS_SYNC", (long) Memory.MS_SYNC);
        String[] advice = {"NORMAL", "RANDOM", "SEQUENTIAL", "WILLNEED", "DONTNEED", "FREE", "REMOVE", "DONTFORK", "DOFORK", "MERGEABLE",
            "UNMERGEABLE", "HUGEPAGE", "NOHUGEPAGE", "DONTDUMP", "DODUMP", "WIPEONFORK", "KEEPONFORK", "COLD", "PAGEOUT", "POPULATE_READ",
            "POPULATE_WRITE", "DONTNEED_LOCKED", "COLLAPSE", "HWPOISON", "SOFT_OFFLINE"}; // GUARD_INSTALL/REMOVE (Linux 6.13) are newer than the headers
        for (String a : advice) {
            try {
                c.put("MADV_" + a, (long) Advice.class.getDeclaredField("MADV_" + a).getInt(null));
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
        return c;
    }

    @Test
    void theConstantsAndStructsAreTheHeaders() throws Exception {
        Map<String, Long> checks = checks();
        StringBuilder src = new StringBuilder("""
                #include <stddef.h>
                #include <stdio.h>
                #include <signal.h>
                #include <time.h>
                #include <sys/mman.h>
                #include <sys/random.h>
                #include <sys/resource.h>
                #include <sys/sysinfo.h>
                #include <sys/time.h>
                #include <sys/utsname.h>
                #include <linux/mman.h>
                int main(void) {
                """);
        int i = 0;
        for (String expr : checks.keySet()) {
            boolean macro = expr.matches("[A-Z_][A-Z0-9_]*");
            if (macro) {
                src.append("#ifdef ").append(expr).append('\n');
            }
            src.append("    printf(\"").append(i).append(" %ld\\n\", (long) (").append(expr).append("));\n");
            if (macro) {
                src.append("#else\n    printf(\"").append(i).append(" undefined\\n\");\n#endif\n");
            }
            i++;
        }
        src.append("    return 0;\n}\n");
        Path c = dir.resolve("sys_abi.c");
        Files.writeString(c, src);
        Path exe = dir.resolve("sys_abi");
        Process p = new ProcessBuilder("gcc", "-o", exe.toString(), c.toString()).redirectErrorStream(true).start();
        String cc = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor() == 0, "gcc:\n" + cc);
        String out = HostProgram.run(List.of(exe.toString()));
        List<String> keys = new ArrayList<>(checks.keySet());
        List<String> wrong = new ArrayList<>();
        for (String line : out.split("\n")) {
            String[] t = line.split(" ");
            String expr = keys.get(Integer.parseInt(t[0]));
            if (!t[1].equals(Long.toString(checks.get(expr)))) {
                wrong.add(expr + ": C " + t[1] + ", Java " + checks.get(expr));
            }
        }
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
    }
}
