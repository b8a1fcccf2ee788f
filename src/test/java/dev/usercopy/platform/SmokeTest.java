package dev.usercopy.platform;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SmokeTest {
    @Test
    void copyStopsAtTheGuardPage() {
        for (GuardedRegion.Guard guard : GuardedRegion.Guard.values()) {
            try (GuardedRegion r = GuardedRegion.create(1, guard)) {
                byte[] dst = new byte[100];
                assertEquals(60, UserCopy.copyFromUser(dst, 0, r.boundary() - 40, 100), guard.name());
                assertEquals(60, UserCopy.copyToUser(r.boundary() - 40, dst, 0, 100), guard.name());
            }
        }
    }
}
