package dev.usercopy.cli.exec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The folders an escape test runs a guest in: {@code root} (what the guest sees as /, with
 * busybox and the NASM guests in /bin, a fake /etc, /data, a writable /rw, and symlinks that
 * point out of it) beside {@code secret.txt}, which no guest may read or change. And Linux's
 * answer for the same program: chroot into a read-only bind mount of root with /rw bind-mounted
 * writable (a private mount namespace; needs root, as the project's machine and CI have).
 */
final class RootTrees {
    static final String SECRET = "host secret: no guest may see this\n";
    static final FileTime TIME = FileTime.fromMillis(1_700_000_000_000L);

    private RootTrees() {
    }

    /** A fresh tree in {@code dir} (removed first); returns its root. */
    static Path make(Path dir) {
        try {
            delete(dir);
            Path root = dir.resolve("root");
            Files.createDirectories(root.resolve("bin"));
            Files.createDirectories(root.resolve("etc"));
            Files.createDirectories(root.resolve("data/sub"));
            Files.createDirectories(root.resolve("rw/sub"));
            Files.writeString(dir.resolve("secret.txt"), SECRET);
            Oracle.writingExecutables(() -> {
                Files.copy(Path.of(BusyboxOracleTest.BUSYBOX), root.resolve("bin/busybox"));
                for (String g : List.of("fsops", "hostile", "files")) {
                    Files.copy(GuestPrograms.get(g), root.resolve("bin/" + g));
                }
            });
            Files.createDirectories(root.resolve("data/files/sub"));
            Files.writeString(root.resolve("data/files/ten"), "0123456789");
            Files.createSymbolicLink(root.resolve("data/files/link"), Path.of("ten"));
            Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:guest root:/root:/bin/sh\nguest:x:1000:1000::/home:/bin/sh\n");
            Files.writeString(root.resolve("etc/group"), "root:x:0:\nguest:x:1000:\n");
            Files.writeString(root.resolve("data/file.txt"), "0123456789");
            Files.writeString(root.resolve("rw/file.txt"), "0123456789");
            Files.createSymbolicLink(root.resolve("data/out-abs"), Path.of("/etc/passwd"));
            Files.createSymbolicLink(root.resolve("data/out-rel"), Path.of("../../secret.txt"));
            Files.createSymbolicLink(root.resolve("data/up"), Path.of("../../../../.."));
            Files.createSymbolicLink(root.resolve("rw/evil-abs"), Path.of("/data/file.txt"));
            Files.createSymbolicLink(root.resolve("rw/evil-rel"), Path.of("../../secret.txt"));
            Files.createSymbolicLink(root.resolve("rw/evil-dir"), Path.of("/data"));
            try (Stream<Path> all = Files.walk(root)) {
                for (Path p : all.toList()) {
                    if (!Files.isSymbolicLink(p)) {
                        Files.setLastModifiedTime(p, TIME);
                    }
                }
            }
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every entry beneath {@code dir} (symlinks not followed): type, mode, size, content hash, target. */
    static TreeMap<String, String> snapshot(Path dir) {
        TreeMap<String, String> entries = new TreeMap<>();
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.toList()) {
                String what;
                if (Files.isSymbolicLink(p)) {
                    what = "link -> " + Files.readSymbolicLink(p);
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    what = "dir " + PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
                } else {
                    what = "file " + PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS))
                            + " " + Files.size(p) + " " + sha256(p);
                }
                entries.put(dir.relativize(p).toString(), what);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return entries;
    }

    private static String sha256(Path p) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void delete(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Whether this machine lets us build Linux's answer (root, mount namespaces). */
    static boolean chrootOracleWorks() {
        try {
            Process p = Oracle.start(new ProcessBuilder("unshare", "-m", "true").redirectErrorStream(true));
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * The command that runs {@code command} natively as a guest of {@code exec --root root
     * [--rw root/rw]} would run it: in a mount namespace of its own, root bind-mounted on itself
     * read-only (root/rw bind-mounted read-write first when {@code rw}), then chroot(root),
     * chdir(dir) and execve.
     */
    static List<String> chrooted(Path root, boolean rw, String dir, List<String> command) {
        String script = "mount --bind \"$1\" \"$1\" && " + (rw ? "mount --bind \"$1/rw\" \"$1/rw\" && " : "")
                + "mount -o remount,ro,bind \"$1\" && exec \"$0\" \"$@\"";
        List<String> c = new ArrayList<>(List.of("unshare", "-m", "/bin/sh", "-c", script,
                GuestPrograms.get("chrootexec").toString(), root.toString(), dir));
        c.addAll(command);
        return c;
    }
}
