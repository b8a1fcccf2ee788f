package dev.usercopy.sys;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.usercopy.platform.HostFiles;
import dev.usercopy.uapi.Errno;

import static dev.usercopy.platform.HostFiles.AT_FDCWD;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * utimensat and mknod: the host's beneath the writable directory, a
 * read-only mount's answers elsewhere, in Linux's order of errors; a device
 * node never (EPERM, as without CAP_MKNOD); and /proc/self/exe opened as the
 * program's own file.
 */
class FileTimesAndNodesTest extends SysScenario {
    private static final int UTIMENSAT = 280, MKNOD = 133, MKNODAT = 259, OPENAT = 257, READ = 0, SCHED_GETAFFINITY = 204;
    private static final long UTIME_NOW = (1L << 30) - 1, UTIME_OMIT = (1L << 30) - 2;

    @BeforeEach
    void tree() throws IOException {
        Files.writeString(root.resolve("ro"), "read only");
        Files.writeString(rw.resolve("file"), "x");
        Files.createSymbolicLink(rw.resolve("link"), Path.of("file"));
        Files.createDirectories(root.resolve("bin"));
        Files.writeString(root.resolve("bin/prog"), "\u007fELF program");
    }

    private long times(long aSec, long aNsec, long mSec, long mNsec) {
        return bytes(ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN).putLong(aSec).putLong(aNsec).putLong(mSec).putLong(mNsec).array());
    }

    private static long mtime(Path p, LinkOption... options) throws IOException {
        return Files.getLastModifiedTime(p, options).to(TimeUnit.SECONDS);
    }

    @Test
    void utimensatSetsTimesBeneathRwInLinuxsOrder() throws IOException {
        assertEquals(0, call(UTIMENSAT, AT_FDCWD, str("/rw/file"), times(1000, 0, 2000, 5), 0));
        assertEquals(2000, mtime(rw.resolve("file")));
        assertEquals(1000, ((FileTime) Files.getAttribute(rw.resolve("file"), "lastAccessTime")).to(TimeUnit.SECONDS));
        assertEquals(0, call(UTIMENSAT, AT_FDCWD, str("/rw/link"), times(0, UTIME_OMIT, 3000, 0), HostFiles.AT_SYMLINK_NOFOLLOW));
        assertEquals(3000, mtime(rw.resolve("link"), LinkOption.NOFOLLOW_LINKS), "the link itself");
        assertEquals(2000, mtime(rw.resolve("file")), "not its target");
        long fd = call(OPENAT, AT_FDCWD, str("/rw/file"), HostFiles.O_RDONLY, 0);
        assertEquals(0, call(UTIMENSAT, fd, 0, times(0, UTIME_OMIT, 4000, 0), 0), "a NULL path: the descriptor's file");
        assertEquals(4000, mtime(rw.resolve("file")));
        assertEquals(0, call(UTIMENSAT, AT_FDCWD, str("/rw/file"), 0, 0), "NULL times: now");
        assertTrue(mtime(rw.resolve("file")) > 4000);

        assertEquals(0, call(UTIMENSAT, AT_FDCWD, str("/no/such"), times(0, UTIME_OMIT, 0, UTIME_OMIT), 0),
                "both UTIME_OMIT: done before the path is looked at");
        assertEquals(err(Errno.EFAULT), call(UTIMENSAT, AT_FDCWD, str("/rw/file"), 8, 0), "the times first");
        assertEquals(err(Errno.EINVAL), call(UTIMENSAT, AT_FDCWD, str("/no/such"), times(0, 1_000_000_000, 0, 0), 0), "then the nanoseconds");
        assertEquals(err(Errno.EINVAL), call(UTIMENSAT, AT_FDCWD, str("/no/such"), 0, 0x8000), "and the flags");
        assertEquals(err(Errno.EINVAL), call(UTIMENSAT, fd, 0, 0, HostFiles.AT_SYMLINK_NOFOLLOW), "a descriptor takes no flag");
        assertEquals(err(Errno.EBADF), call(UTIMENSAT, 40, 0, 0, 0));
        assertEquals(err(Errno.EFAULT), call(UTIMENSAT, AT_FDCWD, 0, 0, 0), "a NULL path with AT_FDCWD");
        assertEquals(err(Errno.ENOENT), call(UTIMENSAT, AT_FDCWD, str("/rw/missing"), 0, 0));
        long before = mtime(root.resolve("ro"));
        assertEquals(err(Errno.ENOENT), call(UTIMENSAT, AT_FDCWD, str("/missing"), 0, 0), "outside: the lookup first");
        assertEquals(err(Errno.EROFS), call(UTIMENSAT, AT_FDCWD, str("/ro"), times(1, 0, 1, 0), 0));
        long ro = call(OPENAT, AT_FDCWD, str("/ro"), HostFiles.O_RDONLY, 0);
        assertEquals(err(Errno.EROFS), call(UTIMENSAT, ro, 0, 0, 0));
        assertEquals(before, mtime(root.resolve("ro")), "the host file outside --rw is unchanged");
    }

    @Test
    void mknodMakesFifosAndFilesBeneathRwAndNeverADevice() throws IOException {
        call(95, 022);
        assertEquals(0, call(MKNOD, str("/rw/fifo"), 010644, 0));
        assertTrue(((Integer) Files.getAttribute(rw.resolve("fifo"), "unix:mode") & 0170000) == 010000, "a FIFO");
        assertEquals(0644, (Integer) Files.getAttribute(rw.resolve("fifo"), "unix:mode") & 07777);
        assertEquals(0, call(MKNODAT, AT_FDCWD, str("/rw/plain"), 0666, 0), "no type: a regular file");
        assertTrue(Files.isRegularFile(rw.resolve("plain")));
        assertEquals(0644, (Integer) Files.getAttribute(rw.resolve("plain"), "unix:mode") & 07777, "with the guest's umask");
        assertEquals(err(Errno.EEXIST), call(MKNOD, str("/rw/fifo"), 010644, 0));
        assertEquals(err(Errno.EPERM), call(MKNOD, str("/rw/null"), 020666, 0x103), "a character device: no CAP_MKNOD");
        assertEquals(err(Errno.EPERM), call(MKNOD, str("/rw/disk"), 060666, 0x801), "a block device");
        assertFalse(Files.exists(rw.resolve("null"), LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(rw.resolve("disk"), LinkOption.NOFOLLOW_LINKS));
        assertEquals(err(Errno.EEXIST), call(MKNOD, str("/rw/file"), 020666, 0x103), "EEXIST before EPERM");
        assertEquals(err(Errno.EPERM), call(MKNOD, str("/rw/d"), 040755, 0), "a directory: EPERM first");
        assertEquals(err(Errno.EINVAL), call(MKNOD, str("/rw/d"), 070755, 0), "no such type");
        assertEquals(err(Errno.EROFS), call(MKNOD, str("/fifo"), 010644, 0), "outside --rw");
        assertEquals(err(Errno.EEXIST), call(MKNOD, str("/ro"), 010644, 0), "EEXIST before EROFS");
        assertFalse(Files.exists(root.resolve("fifo")));
    }

    @Test
    void procSelfExeOpensTheProgramAndTheAffinityIsTheUsers() {
        long fd = call(OPENAT, AT_FDCWD, str("/proc/self/exe"), HostFiles.O_RDONLY, 0);
        assertTrue(fd >= 0, "open: " + fd);
        long buf = bytes(new byte[16]);
        assertEquals(4, call(READ, fd, buf, 4));
        assertEquals("\u007fELF", new String(guest(buf, 4), java.nio.charset.StandardCharsets.ISO_8859_1));

        long mask = bytes(new byte[128]);
        long n = call(SCHED_GETAFFINITY, 0, 128, mask);
        assertTrue(n > 0 && n % 8 == 0, "the mask's length: " + n);
        int cpus = 0;
        for (byte b : guest(mask, (int) n)) {
            cpus += Integer.bitCount(b & 0xff);
        }
        assertEquals(Runtime.getRuntime().availableProcessors(), cpus, "the JVM's CPUs, not one CPU a tracer is bound to");
        assertEquals(err(Errno.EINVAL), call(SCHED_GETAFFINITY, 0, 7, mask), "a length that is no multiple of a long");
        assertEquals(err(Errno.ESRCH), call(SCHED_GETAFFINITY, 4242, 128, mask));
        assertEquals(err(Errno.EFAULT), call(SCHED_GETAFFINITY, 0, 128, 8));
    }
}
