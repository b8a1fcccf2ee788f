package dev.usercopy.sys;

import dev.usercopy.uapi.Errno;

/**
 * What a C library asks of the kernel before main: its thread pointer
 * ({@code arch_prctl}), where to clear its tid at exit
 * ({@code set_tid_address}), its robust-futex list and restartable
 * sequences.
 */
final class ThreadSetup {
    static final int ARCH_SET_FS = 0x1002;
    static final int ARCH_GET_FS = 0x1003;

    private ThreadSetup() {}

    static void register(Syscalls.Registry r) {
        r.add(158, "arch_prctl", "xp", ThreadSetup::archPrctl);
        r.add(218, "set_tid_address", "p", t -> 1);
        r.add(273, "set_robust_list", "pu", t -> t.arg(1) == 24 ? 0 : -Errno.EINVAL.number());
        r.add(334, "rseq", "pudx", t -> -Errno.ENOSYS.number());
    }

    /** ARCH_SET_FS and ARCH_GET_FS (its pointer need not be aligned: put_user has no such rule); the other codes (GS, CPUID, XCOMP) are EINVAL here. */
    private static long archPrctl(Task t) {
        long code = t.arg(0);
        if (code == ARCH_SET_FS) {
            long base = t.arg(1);
            if (base < 0 || base >= 1L << 47) {
                return -Errno.EPERM.number(); // Linux: a base outside user space is EPERM
            }
            t.cpu().setFsBase(base);
            return 0;
        }
        if (code == ARCH_GET_FS) {
            dev.usercopy.uaccess.UserPtr.of(t.space(), t.arg(1), java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED).setLong(t.cpu().fsBase());
            return 0;
        }
        return -Errno.EINVAL.number();
    }
}
