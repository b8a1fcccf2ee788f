package dev.usercopy.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.usercopy.platform.Posix.MAP_ANONYMOUS;
import static dev.usercopy.platform.Posix.MAP_PRIVATE;
import static dev.usercopy.platform.Posix.MAP_SHARED;
import static dev.usercopy.platform.Posix.MFD_CLOEXEC;
import static dev.usercopy.platform.Posix.PROT_NONE;
import static dev.usercopy.platform.Posix.PROT_READ;
import static dev.usercopy.platform.Posix.PROT_WRITE;
import static dev.usercopy.platform.Posix.SIGBUS;
import static dev.usercopy.platform.Posix.SIGSEGV;

/**
 * The child JVM of {@link ChildJvmCrashTest}; never run in the test JVM.
 * Installs the fault handler, shows one guest fault fixed up, optionally
 * uninstalls the handler, then crashes with a fault that is not ours: libc
 * {@code memcpy} onto a PROT_NONE page (SIGSEGV) or onto a memfd page past
 * the end of the file (SIGBUS). Each line printed before the crash is a fact
 * the test checks; "survived" must never appear.
 *
 * <p>Arguments: {@code installed|uninstalled} and {@code segv|bus}.
 */
public final class CrashingChild {
    private CrashingChild() {}

    /** The guest fault shown before the crash: this many bytes, starting this many before the guard page. */
    static final int COPY_LENGTH = 100;
    static final int BYTES_BEFORE_GUARD = 40;

    public static void main(String[] args) {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: CrashingChild installed|uninstalled segv|bus");
        }
        boolean uninstall = switch (args[0]) {
            case "installed" -> false;
            case "uninstalled" -> true;
            default -> throw new IllegalArgumentException("first argument: installed|uninstalled, not " + args[0]);
        };
        boolean bus = switch (args[1]) {
            case "segv" -> false;
            case "bus" -> true;
            default -> throw new IllegalArgumentException("second argument: segv|bus, not " + args[1]);
        };

        FaultHandler.install();
        GuardedRegion.Guard guard = bus ? GuardedRegion.Guard.BUS : GuardedRegion.Guard.SEGV;
        try (GuardedRegion region = GuardedRegion.create(1, guard)) {
            byte[] kernel = new byte[COPY_LENGTH];
            long left = UserCopy.copyFromUser(kernel, 0, region.boundary() - BYTES_BEFORE_GUARD, COPY_LENGTH);
            System.out.println("copy-left=" + left);
        }
        if (uninstall) {
            System.out.println("uninstall=" + FaultHandler.uninstall());
        }
        int sig = bus ? SIGBUS : SIGSEGV;
        System.out.println("handler-ours=" + (currentHandler(sig) == FaultHandler.handlerAddress()));

        long target = bus ? pastEndOfFile() : protNonePage();
        System.out.println("target=0x" + Long.toHexString(target));
        System.out.flush();
        MemorySegment source = Arena.global().allocate(64);
        Posix.memcpy(Posix.segment(target, 64), source, 64);
        System.out.println("survived");
        System.out.flush();
    }

    private static long protNonePage() {
        long page = Posix.mmap(0, Posix.PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        Posix.mprotect(page, Posix.PAGE_SIZE, PROT_NONE);
        return page;
    }

    /** A mapped page of an empty memfd: every access raises SIGBUS. */
    private static long pastEndOfFile() {
        int fd = Posix.memfdCreate("crashing-child", MFD_CLOEXEC);
        return Posix.mmap(0, Posix.PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }

    private static long currentHandler(int sig) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment current = arena.allocate(sigaction.$LAYOUT);
            Posix.sigaction(sig, MemorySegment.NULL, current);
            return sigaction.sa_sigaction(current).address();
        }
    }
}
