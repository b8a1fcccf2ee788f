package dev.usercopy.sys;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import org.junit.jupiter.api.Test;

import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * mmap of a guest descriptor maps the file it holds: a private mapping
 * reads the file and keeps its writes; a shared one needs a descriptor open
 * for writing, reaches the file on msync, and so only beneath {@code --rw}.
 * The errno order of a file mapping is Linux's (the {@code mmap_file_}
 * cases of {@link SysOracleTest} hold it against the host).
 */
class FileMmapTest extends SysScenario {
    private static final int OPENAT = 257;
    private static final int AT_FDCWD = -100;
    private static final int O_RDWR = 2;
    private static final int O_WRONLY = 1;
    private static final int O_PATH = 0x200000;

    private int open(String path, int flags) {
        long fd = call(OPENAT, AT_FDCWD, str(path), flags, 0);
        assertTrue(fd >= 0, "open " + path + ": " + fd);
        return (int) fd;
    }

    @Test
    void aPrivateMappingReadsTheFileAndKeepsItsWritesToItself() throws Exception {
        byte[] content = "the file's bytes\n".repeat(300).getBytes(StandardCharsets.US_ASCII);
        Files.write(root.resolve("data"), content);
        int fd = open("/data", 0);
        long at = call(9, 0, content.length, 3, 0x02, fd, 0);
        assertTrue(at > 0, "mapped: " + at);
        assertArrayEquals(content, guest(at, content.length));
        assertEquals(0, as.copyToUser(at, new byte[] {'X'}, 0, 1));
        assertEquals(0, call(26, at, PAGE, 4));
        assertArrayEquals(content, Files.readAllBytes(root.resolve("data")), "the file is unchanged");
        long second = call(9, 0, PAGE, 1, 0x02, fd, PAGE);
        assertArrayEquals(java.util.Arrays.copyOfRange(content, (int) PAGE, 2 * (int) PAGE), guest(second, (int) PAGE), "at an offset");
    }

    @Test
    void aSharedWritableMappingNeedsADescriptorOpenForWriting() throws Exception {
        Files.write(rw.resolve("shared"), new byte[(int) PAGE]);
        int readOnly = open("/rw/shared", 0);
        assertEquals(err(Errno.EACCES), call(9, 0, PAGE, 3, 0x01, readOnly, 0));
        assertTrue(call(9, 0, PAGE, 1, 0x01, readOnly, 0) > 0, "read-only shared is fine");
        int writeOnly = open("/rw/shared", O_WRONLY);
        assertEquals(err(Errno.EACCES), call(9, 0, PAGE, 1, 0x02, writeOnly, 0), "no mapping without read access");
        int rwFd = open("/rw/shared", O_RDWR);
        long at = call(9, 0, PAGE, 3, 0x01, rwFd, 0);
        assertTrue(at > 0, "mapped: " + at);
        assertEquals(0, as.copyToUser(at + 5, "written".getBytes(), 0, 7));
        assertEquals(0, call(26, at, PAGE, 4));
        assertEquals("written", new String(Files.readAllBytes(rw.resolve("shared")), 5, 7, StandardCharsets.US_ASCII));
    }

    /**
     * A shared mapping of a descriptor opened read-only never becomes writable (Linux: no
     * VM_MAYWRITE), whatever the host user may do to the file: mprotect is EACCES and the file,
     * here outside --rw, is unchanged. The runtime's user is root, so the host's own permission
     * check would allow it.
     */
    @Test
    void aReadOnlyDescriptorsSharedMappingCannotBeMadeWritable() throws Exception {
        byte[] content = "the host's file, not the guest's to change\n".getBytes(StandardCharsets.US_ASCII);
        Files.write(root.resolve("victim"), content);
        int fd = open("/victim", 0);
        long at = call(9, 0, PAGE, 1, 0x01, fd, 0);
        assertTrue(at > 0, "mapped: " + at);
        assertEquals(err(Errno.EACCES), call(10, at, PAGE, 3), "mprotect to PROT_WRITE");
        assertEquals(5, as.copyToUser(at, "PWNED".getBytes(StandardCharsets.US_ASCII), 0, 5), "the page stays read-only: nothing copied");
        assertEquals(0, call(26, at, PAGE, 4));
        assertEquals(0, call(11, at, PAGE));
        assertArrayEquals(content, Files.readAllBytes(root.resolve("victim")), "the file is unchanged");
    }

    @Test
    void descriptorsThatCannotBeMapped() throws Exception {
        Files.createDirectory(root.resolve("dir"));
        Files.write(root.resolve("f"), new byte[10]);
        assertEquals(err(Errno.EBADF), call(9, 0, PAGE, 1, 0x02, 77, 0));
        assertEquals(err(Errno.EBADF), call(9, 0, PAGE, 1, 0x02, -1, 0));
        assertEquals(err(Errno.EINVAL), call(9, 0, PAGE, 1, 0x02, -1, 1), "an unaligned offset before the descriptor");
        assertEquals(err(Errno.EBADF), call(9, 0, PAGE, 1, 0x02, open("/f", O_PATH), 0), "an O_PATH descriptor");
        assertEquals(err(Errno.ENODEV), call(9, 0, PAGE, 1, 0x02, open("/dir", 0), 0));
        int fd = open("/f", 0);
        assertEquals(err(Errno.EINVAL), call(9, 0, 0, 1, 0x02, fd, 0));
        assertEquals(err(Errno.EINVAL), call(9, 0, PAGE, 1, 0x00, fd, 0), "no type");
        assertEquals(err(Errno.EOPNOTSUPP), call(9, 0, PAGE, 1, 0x03 | 0x200, fd, 0), "MAP_SHARED_VALIDATE with an unknown flag");
        assertEquals(err(Errno.EOVERFLOW), call(9, 0, 2 * PAGE, 1, 0x02, fd, Long.MAX_VALUE & -PAGE));
        int[] p = pipe();
        int pipeFd = install(p[0], 0);
        HostFilesCloser.close(p[1]);
        assertEquals(err(Errno.ENODEV), call(9, 0, PAGE, 1, 0x02, pipeFd, 0));
        long taken = call(9, 0, PAGE, 3, 0x22, -1, 0);
        assertEquals(err(Errno.EEXIST), call(9, taken, PAGE, 1, 0x100002, fd, 0), "MAP_FIXED_NOREPLACE before the file's checks");
        assertEquals(err(Errno.EEXIST), call(9, taken, PAGE, 1, 0x100000, fd, 0), "and before the type");
    }

    /** The pipe's write end, which the table does not own. */
    private static final class HostFilesCloser {
        static void close(int fd) {
            dev.usercopy.platform.HostFiles.close(fd);
        }
    }
}
