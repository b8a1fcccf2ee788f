package dev.usercopy.proc;

import java.util.List;

import dev.usercopy.mm.MemoryManager;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class GuestSmokeTest {
    @Test
    void busyboxTrueAndFalse() throws Exception {
        try (MemoryManager mm = new MemoryManager()) {
            Guest.Result t = Guest.run(mm, "/bin/busybox", List.of("true"), List.of(), Guest.Options.defaults().withTrace(System.err));
            System.err.println(t);
            assertEquals(0, t.status(), t.toString());
            Guest.Result f = Guest.run(mm, "/bin/busybox", List.of("false"), List.of(), Guest.Options.defaults());
            assertEquals(1, f.status(), f.toString());
            mm.checkInvariants();
        }
    }
}
