package dev.usercopy.uaccess;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MmScenario;
import dev.usercopy.mm.Profile;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.Errno;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** 16-bit access: {@code readU16}/{@code writeU16} on slices, {@code getShort}/{@code setShort} on pointers, in every profile. */
class ShortAccessTest extends MmScenario {
    private AddressSpace as;
    /** One writable page, then an unmapped one. */
    private long buf;

    private void start(Profile profile) {
        machine(small().withProfile(profile));
        as = space();
        buf = as.mmap(BASE, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void sixteenBitsAreLittleEndianAndNeedTwoBytes(Profile profile) {
        start(profile);
        UserSliceRw s = UserSlice.rw(as, buf + 5, 4);
        s.writeU16((short) 0xBEEF);
        assertArrayEquals(new byte[] {(byte) 0xEF, (byte) 0xBE, 0, 0}, read(as, buf + 5, 4));
        assertEquals((short) 0xBEEF, s.readU16());
        assertEquals(0xBEEF, Short.toUnsignedInt(UserSlice.ro(as, buf + 5, 2).readU16()));
        assertErrno(Errno.EINVAL, () -> UserSlice.ro(as, buf, 1).readU16());
        assertErrno(Errno.EINVAL, () -> UserSlice.wo(as, buf, 1).writeU16((short) 1));
        assertEquals(0, readByte(as, buf), "a refused write writes nothing");

        UserPtr p = UserPtr.of(as, buf + 64, JAVA_SHORT);
        p.setShort((short) -2);
        assertArrayEquals(new byte[] {(byte) 0xFE, (byte) 0xFF}, read(as, buf + 64, 2));
        assertEquals((short) -2, p.getShort());
        assertEquals((short) -2, p.asConst().getShort());
        assertEquals((short) 0xFFFE, UserSlice.ro(as, buf + 64, 2).readU16());
        assertThrows(IllegalArgumentException.class, () -> UserPtr.of(as, buf, JAVA_INT).getShort());
        assertThrows(IllegalArgumentException.class, () -> UserPtr.of(as, buf, JAVA_BYTE).setShort((short) 1));
    }

    /** The last byte of the page and the first of the unmapped one: a slice copies the byte before the fault, a checked pointer nothing. */
    @ParameterizedTest
    @EnumSource(Profile.class)
    void aShortAcrossThePageBoundaryIsEfault(Profile profile) {
        start(profile);
        long last = buf + PAGE - 1;
        writeByte(as, last, 0x44);
        ErrnoException e = assertErrno(Errno.EFAULT, () -> UserSlice.ro(as, last, 2).readU16());
        assertEquals(1, e.done());
        assertEquals(last, e.address());
        e = assertErrno(Errno.EFAULT, () -> UserSlice.wo(as, last, 2).writeU16((short) 0x7777));
        assertEquals(1, e.done());
        assertEquals(0x77, readByte(as, last), "the byte before the fault is written");
        writeByte(as, last, 0x44);
        UserPtr p = UserPtr.of(as, last, JAVA_SHORT.withByteAlignment(1));
        assertErrno(Errno.EFAULT, () -> p.getShort());
        assertErrno(Errno.EFAULT, () -> p.setShort((short) 0x7777));
        assertEquals(profile.checksAccess() ? 0x44 : 0x77, readByte(as, last),
                "checked profiles refuse before any byte moves; Ludicrous copies up to the fault");
        // Aligned to 2 (the layout's alignment) or EFAULT.
        assertErrno(Errno.EFAULT, () -> UserPtr.of(as, buf + 1, JAVA_SHORT).getShort());
        assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, 0, JAVA_SHORT).getShort());
        check();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void lazyPagesAreFaultedIn(Profile profile) {
        start(profile);
        long lazy = as.mmap(0, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        assertEquals(0, UserSlice.ro(as, lazy + PAGE - 1, 2).readU16());
        UserSlice.wo(as, lazy + PAGE - 1, 2).writeU16((short) 0x1234);
        assertEquals(0x1234, UserConstPtr.of(as, lazy + PAGE - 1, JAVA_SHORT.withByteAlignment(1)).getShort());
        UserPtr.of(as, lazy + 2 * PAGE - 2, JAVA_SHORT).setShort((short) 9);
        assertEquals(9, UserSlice.ro(as, lazy + 2 * PAGE - 2, 2).readU16());
        check();
    }
}
