package dev.usercopy.platform;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JVM that denies native access to this code gets an exception that names
 * the flag to grant it, not a bare IllegalCallerException: tried in a child
 * JVM run with {@code --illegal-native-access=deny}, with and without the flag.
 */
class NativeAccessTest {
    /** The child: touches the library, prints what it found. */
    public static final class Child {
        public static void main(String[] args) {
            System.out.println("features=" + UserCopy.cpuFeatures());
        }
    }

    private record Outcome(int exit, String output) {}

    private static Outcome runChild(String... jvmFlags) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--illegal-native-access=deny");
        command.addAll(List.of(jvmFlags));
        command.addAll(List.of("-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Child.class.getName()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not exit: " + command);
        return new Outcome(p.exitValue(), out);
    }

    @Test
    void deniedNativeAccessNamesTheFlagThatGrantsIt() throws Exception {
        Outcome denied = runChild();
        assertNotEquals(0, denied.exit(), "the child ran without native access:\n" + denied.output());
        assertTrue(denied.output().contains("IllegalCallerException: usercopy needs native access: run java with --enable-native-access=ALL-UNNAMED"),
                "no hint in:\n" + denied.output());

        Outcome granted = runChild("--enable-native-access=ALL-UNNAMED");
        assertEquals(0, granted.exit(), granted.output());
        assertTrue(granted.output().contains("features="), granted.output());
    }
}
