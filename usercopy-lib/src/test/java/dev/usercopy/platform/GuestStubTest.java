package dev.usercopy.platform;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The bundled stub is what GuestStub says it is: its injection point and its zeros where the tracer points. */
class GuestStubTest {
    @Test
    void theInjectionPointIsSyscallThenInt3AndTheZerosAreZero() {
        byte[] stub = GuestStub.bytes();
        int inject = (int) (GuestStub.INJECT - GuestStub.BASE);
        assertEquals(0x0f, stub[inject] & 0xff);
        assertEquals(0x05, stub[inject + 1] & 0xff);
        assertEquals(0xcc, stub[inject + 2] & 0xff);
        int zeros = (int) (GuestStub.ZEROS - GuestStub.BASE);
        for (int i = 0; i < 16; i++) {
            assertEquals(0, stub[zeros + i], "byte " + i + " of the rlimit of 0");
        }
        assertEquals(0x464c457f, (stub[0] & 0xff) | (stub[1] & 0xff) << 8 | (stub[2] & 0xff) << 16 | (stub[3] & 0xff) << 24, "an ELF file");
        assertEquals(true, stub.length <= GuestStub.SIZE, "one page");
    }
}
