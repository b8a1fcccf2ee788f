package dev.usercopy.platform;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The host fork used by the fork benchmark: the child exits at once and is reaped. */
class ForkAndReapTest {
    @Test
    void forkReturnsOnlyInTheParentAndLeavesNoChildBehind() throws Exception {
        long self = ProcessHandle.current().pid();
        for (int i = 0; i < 20; i++) {
            Posix.forkAndReap();
        }
        assertEquals(self, ProcessHandle.current().pid());
        // A child that had come back into the JVM would still be running; one not reaped would be a zombie.
        assertEquals(0, ProcessHandle.current().children().count(), "children left: " + ProcessHandle.current().children().toList());
        assertEquals(true, Files.exists(Path.of("/proc/" + self)));
    }
}
