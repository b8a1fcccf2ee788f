package dev.usercopy.sys;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.HostFiles;
import dev.usercopy.uapi.Errno;

import static dev.usercopy.platform.HostFiles.AT_EMPTY_PATH;
import static dev.usercopy.platform.HostFiles.AT_FDCWD;
import static dev.usercopy.platform.HostFiles.AT_SYMLINK_NOFOLLOW;
import static dev.usercopy.platform.HostFiles.O_DIRECTORY;
import static dev.usercopy.platform.HostFiles.O_RDONLY;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stat family, statx, getdents64, readlink, access, getcwd and chdir, fcntl and dup, ioctl: each against the host's own answer. */
class FileInfoTest extends SysScenario {
    private static final int FSTAT = 5, STAT = 4, LSTAT = 6, NEWFSTATAT = 262, STATX = 332, GETDENTS64 = 217, READLINK = 89,
            ACCESS = 21, FACCESSAT2 = 439, GETCWD = 79, CHDIR = 80, FCHDIR = 81, FCNTL = 72, DUP = 32, DUP2 = 33, DUP3 = 292,
            IOCTL = 16, READ = 0, LSEEK = 8, OPENAT = 257;

    @BeforeEach
    void tree() throws IOException {
        Files.createDirectories(root.resolve("d/sub"));
        Files.writeString(root.resolve("d/file"), "0123456789");
        Files.createSymbolicLink(root.resolve("d/link"), Path.of("file"));
        for (int i = 0; i < 40; i++) {
            Files.writeString(root.resolve("d/name-with-some-length-" + i), "x");
        }
    }

    private long open(String path, int flags) {
        long fd = call(OPENAT, AT_FDCWD, str(path), flags, 0);
        assertTrue(fd >= 0, path + ": " + Errno.nameOf((int) -fd));
        return fd;
    }

    private byte[] hostStat(Path p, int flags) {
        byte[] b = new byte[HostFiles.STAT_SIZE];
        assertEquals(0, HostFiles.fstatat(AT_FDCWD, p.toString().getBytes(), b, flags));
        return b;
    }

    @Test
    void statFieldsAreTheHostsEveryByte() {
        long buf = SCRATCH + 8 * PAGE;
        long fd = open("/d/file", O_RDONLY);
        assertEquals(0, call(FSTAT, fd, buf));
        assertArrayEquals(hostStat(root.resolve("d/file"), 0), guest(buf, HostFiles.STAT_SIZE));
        assertEquals(0, call(STAT, str("/d/link"), buf));
        assertArrayEquals(hostStat(root.resolve("d/file"), 0), guest(buf, HostFiles.STAT_SIZE), "stat follows the link");
        assertEquals(0, call(LSTAT, str("/d/link"), buf));
        assertArrayEquals(hostStat(root.resolve("d/link"), AT_SYMLINK_NOFOLLOW), guest(buf, HostFiles.STAT_SIZE), "lstat does not");
        long dir = open("/d", O_RDONLY | O_DIRECTORY);
        assertEquals(0, call(NEWFSTATAT, dir, str("sub"), buf, 0));
        assertArrayEquals(hostStat(root.resolve("d/sub"), 0), guest(buf, HostFiles.STAT_SIZE));
        assertEquals(0, call(NEWFSTATAT, dir, str(""), buf, AT_EMPTY_PATH));
        assertArrayEquals(hostStat(root.resolve("d"), 0), guest(buf, HostFiles.STAT_SIZE), "AT_EMPTY_PATH: the descriptor itself");
        assertEquals(err(Errno.ENOENT), call(NEWFSTATAT, dir, str(""), buf, 0));
        assertEquals(err(Errno.EINVAL), call(NEWFSTATAT, dir, str("sub"), buf, 0x4000));
        assertEquals(err(Errno.EFAULT), call(FSTAT, fd, 0));
        assertEquals(err(Errno.EFAULT), call(FSTAT, fd, as.size() - 8));
        assertEquals(err(Errno.EBADF), call(FSTAT, 50, buf));
        assertEquals(err(Errno.ENOENT), call(STAT, str("/d/none"), buf));
        assertEquals(err(Errno.ENOTDIR), call(STAT, str("/d/file/x"), buf));
    }

    @Test
    void statxIsTheHostsStatx() {
        long buf = SCRATCH + 8 * PAGE;
        int mask = 0xfff; // STATX_BASIC_STATS | STATX_BTIME
        assertEquals(0, call(STATX, AT_FDCWD, str("/d/file"), 0, mask, buf));
        byte[] host = new byte[HostFiles.STATX_SIZE];
        assertEquals(0, HostFiles.statx(AT_FDCWD, root.resolve("d/file").toString().getBytes(), 0, mask, host));
        assertArrayEquals(host, guest(buf, HostFiles.STATX_SIZE));
        assertEquals(err(Errno.EINVAL), call(STATX, AT_FDCWD, str("/d/file"), 0x6000, mask, buf), "both sync types");
        assertEquals(err(Errno.EINVAL), call(STATX, AT_FDCWD, str("/d/file"), 0, 0x80000000, buf), "STATX__RESERVED");
        assertEquals(err(Errno.EFAULT), call(STATX, AT_FDCWD, str("/d/file"), 0, mask, 8));
    }

    /** The names of the linux_dirent64 records in {@code b}. */
    private static List<String> names(byte[] b, int n) {
        List<String> out = new ArrayList<>();
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at < n; ) {
            int reclen = bb.getShort(at + 16) & 0xffff;
            int end = at + 19;
            while (b[end] != 0) {
                end++;
            }
            out.add(new String(b, at + 19, end - at - 19, StandardCharsets.UTF_8));
            at += reclen;
        }
        return out;
    }

    @Test
    void getdents64ListsTheHostsEntriesAndSaysEinvalWhenNoneFits() throws IOException {
        long dir = open("/d", O_RDONLY | O_DIRECTORY);
        long buf = SCRATCH + 8 * PAGE;
        assertEquals(err(Errno.EINVAL), call(GETDENTS64, dir, buf, 10), "too small for one entry");
        TreeSet<String> seen = new TreeSet<>();
        while (true) {
            long n = call(GETDENTS64, dir, buf, 300);
            assertTrue(n >= 0, Errno.nameOf((int) -n));
            if (n == 0) {
                break;
            }
            seen.addAll(names(guest(buf, (int) n), (int) n));
        }
        TreeSet<String> host = new TreeSet<>(List.of(".", ".."));
        try (var s = Files.list(root.resolve("d"))) {
            s.forEach(p -> host.add(p.getFileName().toString()));
        }
        assertEquals(host, seen);
        assertEquals(0, call(LSEEK, dir, 0, HostFiles.SEEK_SET));
        assertEquals(err(Errno.EFAULT), call(GETDENTS64, dir, BUF, 4096), "an unmapped buffer, no entry written");
        as.mmap(BUF, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
        long n = call(GETDENTS64, dir, BUF + PAGE - 200, 4096);
        assertTrue(n > 0 && n <= 200, "the entries that fit before the hole: " + n);
        assertEquals(err(Errno.ENOTDIR), call(GETDENTS64, open("/d/file", O_RDONLY), buf, 4096));
        assertTrue(call(GETDENTS64, dir, buf, 0xffffffffL) >= 0, "count is an unsigned int, checked entry by entry");
    }

    @Test
    void readlinkGivesTheProgramForProcSelfExeAndTheHostsLinksElse() {
        long buf = SCRATCH + 8 * PAGE;
        assertEquals(9, call(READLINK, str("/proc/self/exe"), buf, 100));
        assertEquals("/bin/prog", new String(guest(buf, 9)));
        assertEquals(4, call(READLINK, str("/proc/self/exe"), buf, 4), "cut to the buffer, no NUL");
        assertEquals(4, call(READLINK, str("/d/link"), buf, 100));
        assertEquals("file", new String(guest(buf, 4)));
        assertEquals(err(Errno.EINVAL), call(READLINK, str("/d/file"), buf, 100), "not a link");
        assertEquals(err(Errno.EINVAL), call(READLINK, 0, buf, 0), "bufsiz 0, before the path");
        assertEquals(err(Errno.ENOENT), call(READLINK, str("/proc/self/cwd"), buf, 100));
        assertEquals(err(Errno.EFAULT), call(READLINK, str("/d/link"), 0, 100));
    }

    @Test
    void accessSaysErofsForWritingOutsideTheWritableDirectory() throws IOException {
        assertEquals(0, call(ACCESS, str("/d/file"), HostFiles.R_OK));
        assertEquals(err(Errno.EROFS), call(ACCESS, str("/d/file"), HostFiles.W_OK));
        assertEquals(err(Errno.EROFS), call(ACCESS, str("/d"), HostFiles.W_OK | HostFiles.R_OK));
        Files.writeString(rw.resolve("mine"), "x");
        assertEquals(0, call(ACCESS, str("/rw/mine"), HostFiles.W_OK));
        assertEquals(err(Errno.ENOENT), call(ACCESS, str("/d/none"), HostFiles.F_OK));
        assertEquals(err(Errno.EINVAL), call(ACCESS, str("/d/file"), 8));
        assertEquals(err(Errno.EINVAL), call(FACCESSAT2, AT_FDCWD, str("/d/file"), 0, 1));
        long dir = open("/d", O_RDONLY | O_DIRECTORY);
        assertEquals(0, call(FACCESSAT2, dir, str("file"), HostFiles.R_OK, 0));
        assertEquals(err(Errno.EROFS), call(FACCESSAT2, dir, str(""), HostFiles.W_OK, AT_EMPTY_PATH));
    }

    @Test
    void getcwdAndChdirSpeakGuestPaths() {
        long buf = SCRATCH + 8 * PAGE;
        assertEquals(2, call(GETCWD, buf, 100), "the root: \"/\" and its NUL");
        assertEquals("/\0", new String(guest(buf, 2)));
        assertEquals(0, call(CHDIR, str("d/sub")));
        assertEquals(7, call(GETCWD, buf, 100));
        assertEquals("/d/sub\0", new String(guest(buf, 7)));
        assertEquals(err(Errno.ERANGE), call(GETCWD, buf, 6));
        assertEquals(err(Errno.EFAULT), call(GETCWD, 0, 100));
        assertEquals(0, call(CHDIR, str("../../../..")));
        assertEquals("/\0", new String(guest(buf, (int) call(GETCWD, buf, 100))), "`..` stops at the root");
        assertEquals(err(Errno.ENOTDIR), call(CHDIR, str("/d/file")));
        assertEquals(err(Errno.ENOENT), call(CHDIR, str("/none")));
        long d = open("/d", O_RDONLY | O_DIRECTORY);
        assertEquals(0, call(FCHDIR, d));
        long f = call(OPENAT, AT_FDCWD, str("file"), O_RDONLY, 0);
        assertTrue(f >= 0, "relative to the new working directory");
        assertEquals(err(Errno.ENOTDIR), call(FCHDIR, f));
        assertEquals(022, call(95, 077) & 0777, "umask returns the old mask");
        assertEquals(077, call(95, 022));
    }

    @Test
    void dupSharesTheOffsetAndCloseOnExecIsPerDescriptor() {
        long fd = open("/d/file", O_RDONLY | HostFiles.O_CLOEXEC);
        assertEquals(HostFiles.FD_CLOEXEC, call(FCNTL, fd, HostFiles.F_GETFD));
        long dup = call(DUP, fd);
        assertEquals(fd + 1, dup);
        assertEquals(0, call(FCNTL, dup, HostFiles.F_GETFD), "dup clears close-on-exec");
        assertEquals(3, call(READ, fd, SCRATCH + 8 * PAGE, 3));
        assertEquals(3, call(LSEEK, dup, 0, HostFiles.SEEK_CUR), "one description, one offset");
        assertEquals(10, call(DUP2, fd, 10));
        assertEquals(10, call(DUP2, 10, 10));
        assertEquals(err(Errno.EBADF), call(DUP2, 11, 11));
        assertEquals(err(Errno.EINVAL), call(DUP3, fd, fd, 0));
        assertEquals(err(Errno.EINVAL), call(DUP3, fd, 12, 1));
        assertEquals(12, call(DUP3, fd, 12, HostFiles.O_CLOEXEC));
        assertEquals(HostFiles.FD_CLOEXEC, call(FCNTL, 12, HostFiles.F_GETFD));
        assertEquals(err(Errno.EBADF), call(DUP2, fd, 64), "past the limit");
        assertEquals(20, call(FCNTL, fd, HostFiles.F_DUPFD, 20));
        assertEquals(21, call(FCNTL, fd, HostFiles.F_DUPFD_CLOEXEC, 20));
        assertEquals(err(Errno.EINVAL), call(FCNTL, fd, HostFiles.F_DUPFD, 64));
        assertEquals(err(Errno.EINVAL), call(FCNTL, fd, HostFiles.F_DUPFD, -1));
        assertEquals(0, call(FCNTL, fd, HostFiles.F_SETFD, 0));
        assertEquals(0, call(FCNTL, fd, HostFiles.F_GETFD));
        assertEquals(0100000, call(FCNTL, fd, HostFiles.F_GETFL), "O_RDONLY|O_LARGEFILE, as Linux shows a 64-bit open");
        assertEquals(0, call(FCNTL, fd, HostFiles.F_SETFL, HostFiles.O_NONBLOCK | 020000 | HostFiles.O_DIRECT));
        assertEquals(0100000 | HostFiles.O_NONBLOCK, call(FCNTL, dup, HostFiles.F_GETFL), "shared flags; O_ASYNC and O_DIRECT never reach the host");
        assertEquals(err(Errno.EINVAL), call(FCNTL, fd, 1234));
        assertEquals(err(Errno.EBADF), call(FCNTL, 40, HostFiles.F_GETFD));
    }

    @Test
    void ioctlAsksTheHostOnlyForTerminalRequests() {
        long fd = open("/d/file", O_RDONLY);
        assertEquals(err(Errno.ENOTTY), call(IOCTL, fd, HostFiles.TCGETS, SCRATCH + 8 * PAGE), "the host says a file is no terminal");
        assertEquals(err(Errno.ENOTTY), call(IOCTL, fd, HostFiles.TIOCGWINSZ, SCRATCH + 8 * PAGE));
        assertEquals(err(Errno.ENOTTY), call(IOCTL, fd, 0x5412 /* TIOCSTI */, SCRATCH));
        assertEquals(err(Errno.EBADF), call(IOCTL, 40, HostFiles.TCGETS, SCRATCH));
    }
}
