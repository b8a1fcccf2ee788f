package dev.usercopy.cli.exec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import dev.usercopy.cli.exec.Oracle.Invocation;

/**
 * Extended attributes and statfs (xattr.c, dynamically linked and static) on a file this test
 * gives {@code user.colour=blue} and a symlink to it: values, the sizes asked and given,
 * and the errnos in Linux's order, natively and under {@code usercopy exec}, byte-identical.
 */
class FileAttributesOracleTest {
    static final Path DIR = Oracle.WORK.resolve("xattr-files");

    private static Path prepare() throws IOException {
        RootTrees.delete(DIR);
        Files.createDirectories(DIR);
        Path file = DIR.resolve("coloured");
        Files.writeString(file, "x");
        try {
            Files.getFileAttributeView(file, UserDefinedFileAttributeView.class).write("colour", ByteBuffer.wrap("blue".getBytes(StandardCharsets.US_ASCII)));
        } catch (IOException | UnsupportedOperationException e) {
            Assumptions.abort("this filesystem keeps no user extended attributes: " + e);
        }
        Files.createSymbolicLink(DIR.resolve("link"), Path.of("coloured"));
        return file;
    }

    @Test
    void extendedAttributesAndStatfsAreTheHostsAnswers() throws IOException {
        Path file = prepare();
        for (String[] build : List.of(new String[] {"xattr-dynamic"}, new String[] {"xattr-static", "-static"})) {
            String program = GuestPrograms.c(build[0], "xattr", java.util.Arrays.copyOfRange(build, 1, build.length)).toString();
            Oracle.assertSameAsLinux(new Invocation(List.of(program, file.toString(), DIR.resolve("link").toString()), Oracle.Stdin.empty(),
                            Oracle.Stdout.PIPE, Oracle.WORK, List.of()), 0,
                    "getxattr user.colour = 4 [blue]", "getxattr user.colour, size 0 = 4", "getxattr user.colour, size 2 = -1 ERANGE",
                    "getxattr user.missing = -1 ENODATA", "getxattr empty name = -1 ERANGE", "getxattr name of 299 bytes = -1 ERANGE",
                    "getxattr name unreadable = -1 EFAULT", "getxattr value unwritable = -1 EFAULT", "getxattr no such file = -1 ENOENT", "getxattr empty name, no such file = -1 ERANGE",
                    "fgetxattr empty name, closed descriptor = -1 ERANGE",
                    "getxattr through the symlink = 4 [blue]", "lgetxattr on the symlink itself = -1 ENODATA", "fgetxattr = 4 [blue]",
                    "fgetxattr on an O_PATH descriptor = -1 EBADF", "listxattr names user.colour: 1", "listxattr, size 1 = -1 ERANGE",
                    "same filesystem type and block size: 1", "statfs unwritable buffer = -1 EFAULT", "fstatfs on a closed descriptor = -1 EBADF");
        }
    }
}
