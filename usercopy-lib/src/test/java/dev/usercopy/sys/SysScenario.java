package dev.usercopy.sys;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MmScenario;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.HostFiles;
import dev.usercopy.platform.Posix;
import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A guest task without a process: a small machine, an address space with
 * a scratch area, a file table, and a file system view rooted at a
 * temporary directory ({@code root}) whose {@code rw} directory is writable.
 * Syscalls go through {@link Syscalls#dispatch}, as a guest's do; the host
 * kernel, called on native memory of the same shape, is the oracle.
 */
abstract class SysScenario extends MmScenario {
    /** Guest scratch: strings and structs the tests pass by pointer. */
    static final long SCRATCH = 0x200000;
    /** Guest buffers the tests shape (mapped, unmapped, read-only pages). */
    static final long BUF = 0x400000;

    @TempDir
    Path root;
    Path rw;
    AddressSpace as;
    FileTable files;
    FsContext fs;
    Task task;
    private long scratchAt;

    @BeforeEach
    void guest() throws IOException {
        machine();
        as = space();
        as.mmap(SCRATCH, 16 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        rw = Files.createDirectory(root.resolve("rw"));
        files = new FileTable(64);
        fs = new FsContext(root, rw, root);
        task = new Task(as, files, fs, new Task.Cpu() {
            long base;

            @Override
            public long fsBase() {
                return base;
            }

            @Override
            public void setFsBase(long b) {
                base = b;
            }

            @Override
            public long reg(int i) {
                return 0; // sigaltstack asks for rsp: never on an alternate stack here
            }
        }, "/bin/prog", 0x100000);
    }

    @AfterEach
    void closeFiles() {
        files.closeAll();
        fs.close();
    }

    long call(int nr, long... args) {
        long[] a = java.util.Arrays.copyOf(args, 6);
        return Syscalls.dispatch(task, nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }

    static long err(Errno e) {
        return -e.number();
    }

    /** A NUL-terminated string in guest scratch memory; its guest address. */
    long str(String s) {
        return bytes((s + "\0").getBytes(StandardCharsets.UTF_8));
    }

    /** Bytes in guest scratch memory (8-aligned); their guest address. */
    long bytes(byte[] b) {
        long at = SCRATCH + scratchAt;
        scratchAt += (b.length + 7) & ~7;
        if (scratchAt > 16 * PAGE) {
            throw new IllegalStateException("scratch full");
        }
        assertEquals(0, as.copyToUser(at, b, 0, b.length));
        return at;
    }

    byte[] guest(long addr, int n) {
        byte[] b = new byte[n];
        assertEquals(0, as.copyFromUser(b, 0, addr, n));
        return b;
    }

    /** A host pipe {read, write}, closed after the test by the caller's try. */
    static int[] pipe() {
        int[] fds = new int[2];
        assertEquals(0, HostFiles.pipe2(fds, HostFiles.O_CLOEXEC | HostFiles.O_NONBLOCK)); // a drain of an empty pipe must fail, not hang
        return fds;
    }

    /** Installs host descriptor {@code hostFd} (now the table's) as a guest descriptor. */
    int install(int hostFd, int accessMode) {
        return files.install(new OpenFile(hostFd, accessMode, FileOpen.typeOf(hostFd)), false);
    }

    /** Native memory of {@code pages} pages, read-write, for the host oracle; unmapped after the test by the caller. */
    static long nativePages(int pages) {
        return Posix.mmap(0, pages * PAGE, Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS, -1, 0);
    }

    /** Each file beneath {@code dir} with its size, mtime and mode: to show that nothing changed. */
    static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                m.put(dir.relativize(p).toString(), Files.isSymbolicLink(p) ? "link " + Files.readSymbolicLink(p)
                        : Files.size(p) + " " + Files.getLastModifiedTime(p).toMillis() + " " + Files.getPosixFilePermissions(p)
                        + (Files.isRegularFile(p) ? " " + java.util.Arrays.hashCode(Files.readAllBytes(p)) : ""));
            }
        }
        return m;
    }
}
