package dev.usercopy.platform;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The guest stub (native/stub.asm): the tiny static program a guest process
 * starts as. It is kept in a memfd of this JVM and spawned through
 * {@code /proc/PID/fd/N}, so no file is written anywhere. Its one page sits
 * at {@link #BASE}, above every guest address; {@link #INJECT} holds
 * {@code syscall; int3} and {@link #ZEROS} 16 zero bytes (an rlimit of 0).
 */
public final class GuestStub {
    private GuestStub() {}

    public static final long BASE = 0x7f0000000000L;
    public static final long SIZE = 0x1000;
    public static final long INJECT = BASE + 0xc0;
    public static final long ZEROS = BASE + 0xb0;
    /** The descriptor the machine's frames have in the child. */
    public static final int FRAME_FD = 3;
    /** The top of x86-64 user space, where the stub's own mappings end. */
    public static final long USER_TOP = 0x7ffffffff000L;

    static final String RESOURCE = "/native/linux-x86_64/usercopy-stub";

    private static volatile String path;

    /** The path to spawn the stub from: {@code /proc/<this pid>/fd/<its memfd>}. */
    public static String path() {
        String p = path;
        if (p == null) {
            synchronized (GuestStub.class) {
                p = path;
                if (p == null) {
                    path = p = load();
                }
            }
        }
        return p;
    }

    /** The stub's bytes, as bundled. */
    public static byte[] bytes() {
        try (InputStream in = GuestStub.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is not on the classpath: build with `mvn package` (needs nasm)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    private static String load() {
        byte[] stub = bytes();
        int fd = Posix.memfdCreate("usercopy-stub", Posix.MFD_CLOEXEC);
        String p = "/proc/" + ProcessHandle.current().pid() + "/fd/" + fd;
        try {
            Files.write(Path.of(p), stub);
        } catch (IOException e) {
            Posix.close(fd);
            throw new UncheckedIOException("cannot write the guest stub to its memfd", e);
        }
        return p; // kept open for the JVM's life: every guest is spawned from it
    }
}
