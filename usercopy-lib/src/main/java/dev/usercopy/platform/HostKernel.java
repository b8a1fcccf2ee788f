package dev.usercopy.platform;

import java.lang.foreign.ValueLayout;

import dev.usercopy.uapi.Errno;

import static dev.usercopy.platform.Posix.MAP_ANONYMOUS;
import static dev.usercopy.platform.Posix.MAP_PRIVATE;
import static dev.usercopy.platform.Posix.PROT_EXEC;
import static dev.usercopy.platform.Posix.PROT_READ;
import static dev.usercopy.platform.Posix.PROT_WRITE;

/**
 * What the host kernel does where Linux's behaviour depends on the CPU,
 * probed once, so guest memory behaves as the host's would.
 */
public final class HostKernel {
    private HostKernel() {}

    /**
     * Whether memory mapped {@code PROT_EXEC} alone can be read. On x86-64
     * with protection keys ({@code pku}, {@code ospke}) Linux makes such a
     * mapping execute-only: the kernel's own copies of it fail with EFAULT.
     * Without them x86 cannot refuse a read of an executable page.
     */
    public static final boolean EXEC_ONLY_READABLE = probeExecOnlyReadable();

    /** Maps a page execute-only and lets the kernel copy from it ({@code write} to a memfd): EFAULT means unreadable. */
    private static boolean probeExecOnlyReadable() {
        long page = Posix.mmap(0, Posix.PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        try {
            Posix.segment(page, 1).set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // present, so only the protection can refuse
            Posix.mprotect(page, Posix.PAGE_SIZE, PROT_EXEC);
            int fd = Posix.memfdCreate("usercopy-exec-only-probe", Posix.MFD_CLOEXEC);
            try {
                long r = Posix.write(fd, page, 1);
                if (r != 1 && r != -Errno.EFAULT.number()) {
                    throw new NativeCallException("write", (int) -r, "probe of an execute-only page at 0x" + Long.toHexString(page));
                }
                return r == 1;
            } finally {
                Posix.close(fd);
            }
        } finally {
            Posix.munmap(page, Posix.PAGE_SIZE);
        }
    }
}
