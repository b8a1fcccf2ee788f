package dev.usercopy.platform;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HostVmasTest {
    @Test
    void theLimitIsWhatTheKernelSays() throws IOException, InterruptedException {
        Process cat = new ProcessBuilder("cat", "/proc/sys/vm/max_map_count").start();
        String said = new String(cat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        assertEquals(0, cat.waitFor());
        assertEquals(Long.parseLong(said), HostVmas.limit());
    }

    @Test
    void thisProcessHasMappingsAndMoreWithANewOne() {
        long before = HostVmas.inUse();
        try (HostMapping m = HostMapping.anonymous(3 * Posix.PAGE_SIZE)) {
            m.protect(Posix.PAGE_SIZE, Posix.PAGE_SIZE, Posix.PROT_NONE); // split in three: cannot merge with neighbours
            assertTrue(HostVmas.inUse() >= before + 1, "a split mapping adds mappings: " + before + " -> " + HostVmas.inUse());
        }
    }
}
