package dev.usercopy.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.usercopy.platform.HostFiles;
import dev.usercopy.uapi.Errno;

import static dev.usercopy.platform.HostFiles.AT_FDCWD;
import static dev.usercopy.platform.HostFiles.AT_REMOVEDIR;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** mkdir, unlink, rmdir, rename, symlink, chmod, truncate: the host's beneath the writable directory, a read-only mount's answers elsewhere. */
class FileChangeTest extends SysScenario {
    private static final int MKDIR = 83, MKDIRAT = 258, UNLINK = 87, RMDIR = 84, UNLINKAT = 263, RENAME = 82, RENAMEAT2 = 316,
            SYMLINK = 88, CHMOD = 90, FCHMOD = 91, TRUNCATE = 76, FTRUNCATE = 77, OPENAT = 257;

    @BeforeEach
    void tree() throws IOException {
        Files.createDirectories(root.resolve("ro/dir"));
        Files.writeString(root.resolve("ro/file"), "read only");
        Files.writeString(rw.resolve("file"), "0123456789");
        Files.createSymbolicLink(rw.resolve("out"), Path.of("../ro/file"));
    }

    @Test
    void beneathTheWritableDirectoryTheChangesAreTheHosts() throws IOException {
        call(95, 022);
        assertEquals(0, call(MKDIR, str("/rw/d"), 0777));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(rw.resolve("d"))));
        assertEquals(err(Errno.EEXIST), call(MKDIR, str("/rw/d"), 0777));
        long d = call(OPENAT, AT_FDCWD, str("/rw/d"), HostFiles.O_RDONLY | HostFiles.O_DIRECTORY, 0);
        assertEquals(0, call(MKDIRAT, d, str("e"), 0700));
        assertTrue(Files.isDirectory(rw.resolve("d/e")));
        assertEquals(0, call(SYMLINK, str("/etc/passwd"), str("/rw/d/l")));
        assertEquals(Path.of("/etc/passwd"), Files.readSymbolicLink(rw.resolve("d/l")), "the content is the guest's, unchecked, as Linux");
        assertEquals(0, call(RENAME, str("/rw/file"), str("/rw/d/moved")));
        assertEquals("0123456789", Files.readString(rw.resolve("d/moved")));
        assertEquals(err(Errno.EEXIST), call(RENAMEAT2, AT_FDCWD, str("/rw/d/moved"), AT_FDCWD, str("/rw/d/l"), HostFiles.RENAME_NOREPLACE));
        assertEquals(0, call(CHMOD, str("/rw/d/moved"), 0640));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(rw.resolve("d/moved"))));
        assertEquals(0, call(TRUNCATE, str("/rw/d/moved"), 4));
        assertEquals("0123", Files.readString(rw.resolve("d/moved")));
        long f = call(OPENAT, AT_FDCWD, str("/rw/d/moved"), HostFiles.O_RDWR, 0);
        assertEquals(0, call(FTRUNCATE, f, 2));
        assertEquals(0, call(FCHMOD, f, 0600));
        assertEquals("01", Files.readString(rw.resolve("d/moved")));
        assertEquals(err(Errno.EISDIR), call(UNLINK, str("/rw/d/e")));
        assertEquals(0, call(RMDIR, str("/rw/d/e")));
        assertEquals(err(Errno.ENOTEMPTY), call(UNLINKAT, AT_FDCWD, str("/rw/d"), AT_REMOVEDIR));
        assertEquals(0, call(UNLINK, str("/rw/d/l")));
        assertFalse(Files.exists(rw.resolve("d/l"), LinkOption.NOFOLLOW_LINKS));
        assertEquals(err(Errno.EINVAL), call(UNLINKAT, AT_FDCWD, str("/rw/d/moved"), 1));
    }

    @Test
    void outsideItEveryChangeIsARefusalAndTheHostIsUnchanged() throws IOException {
        Map<String, String> before = snapshot(root);
        assertEquals(err(Errno.EROFS), call(MKDIR, str("/ro/new"), 0777));
        assertEquals(err(Errno.EEXIST), call(MKDIR, str("/ro/dir"), 0777), "EEXIST before EROFS, as Linux's filename_create");
        assertEquals(err(Errno.ENOENT), call(MKDIR, str("/none/new"), 0777));
        assertEquals(err(Errno.EROFS), call(UNLINK, str("/ro/file")));
        assertEquals(err(Errno.EROFS), call(UNLINK, str("/ro/missing")), "EROFS before the name is looked up, as Linux");
        assertEquals(err(Errno.EROFS), call(RMDIR, str("/ro/dir")));
        assertEquals(err(Errno.EINVAL), call(RMDIR, str("/ro/dir/.")));
        assertEquals(err(Errno.ENOTEMPTY), call(RMDIR, str("/ro/dir/..")));
        assertEquals(err(Errno.EROFS), call(RENAME, str("/ro/file"), str("/ro/file2")));
        assertEquals(err(Errno.EXDEV), call(RENAME, str("/ro/file"), str("/rw/stolen")), "across mounts");
        assertEquals(err(Errno.EXDEV), call(RENAME, str("/rw/file"), str("/ro/planted")));
        assertEquals(err(Errno.EROFS), call(SYMLINK, str("x"), str("/ro/link")));
        assertEquals(err(Errno.EROFS), call(CHMOD, str("/ro/file"), 0777));
        assertEquals(err(Errno.EROFS), call(CHMOD, str("/rw/out"), 0777), "a symlink out of the writable directory");
        assertEquals(err(Errno.EROFS), call(TRUNCATE, str("/ro/file"), 0));
        assertEquals(err(Errno.EROFS), call(TRUNCATE, str("/rw/out"), 0));
        assertEquals(err(Errno.EROFS), call(TRUNCATE, str("/rw/../ro/file"), 0));
        assertEquals(err(Errno.EISDIR), call(TRUNCATE, str("/ro/dir"), 0));
        assertEquals(err(Errno.EINVAL), call(TRUNCATE, str("/rw/file"), -1));
        long r = call(OPENAT, AT_FDCWD, str("/ro/file"), HostFiles.O_RDONLY, 0);
        assertEquals(err(Errno.EROFS), call(FCHMOD, r, 0777));
        assertEquals(err(Errno.EINVAL), call(FTRUNCATE, r, 0), "not open for writing");
        assertEquals(err(Errno.EROFS), call(MKDIR, str("/rw/../ro/new"), 0777));
        assertEquals(err(Errno.EROFS), call(SYMLINK, str("x"), str("/rw/out/../x")));
        assertEquals(before, snapshot(root), "nothing beneath the root changed but what the writable directory holds");
    }
}
