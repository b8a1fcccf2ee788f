package dev.usercopy.uaccess;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.mm.MmScenario;
import dev.usercopy.mm.Profile;
import dev.usercopy.mm.Prot;
import dev.usercopy.uapi.Errno;
import dev.usercopy.platform.Reservation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The safety profiles: what each changes, and that none of them lets a guest pointer out of its reservation. */
class ProfileTest extends MmScenario {
    @TempDir
    Path dir;

    @Test
    void profilesAreNamedCaseInsensitivelyAndAnUnknownNameSaysWhatIsKnown() {
        assertEquals(Profile.LUDICROUS, Profile.of("ludicrous"));
        assertEquals(Profile.FORTRESS, Profile.of(" Fortress "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Profile.of("paranoid"));
        assertTrue(e.getMessage().contains("fortress, performance, ludicrous"), e.getMessage());
        String old = System.getProperty(Profile.PROPERTY);
        try {
            System.clearProperty(Profile.PROPERTY);
            assertEquals(Profile.PERFORMANCE, Profile.fromSystemProperty());
            System.setProperty(Profile.PROPERTY, "fortress");
            assertEquals(Profile.FORTRESS, MemoryManager.Config.defaults().profile());
        } finally {
            if (old == null) {
                System.clearProperty(Profile.PROPERTY);
            } else {
                System.setProperty(Profile.PROPERTY, old);
            }
        }
    }

    @Test
    void ludicrousNeedsAPowerOfTwoAddressSpace() {
        assertThrows(IllegalArgumentException.class, () -> small().withAddressSpaceSize(3L << 20).withProfile(Profile.LUDICROUS));
    }

    /**
     * Fortress reads file pages through a kernel buffer, the others straight
     * into the frame: the guest must see the same bytes either way, with
     * zeros after the end of the file and EFAULT for pages wholly past it.
     */
    @ParameterizedTest
    @EnumSource(Profile.class)
    void fileBackedDemandPagingReadsTheSameBytesInEveryProfile(Profile profile) throws IOException {
        machine(small().withProfile(profile));
        byte[] content = pattern((int) (3 * PAGE + 1000), 5);
        Path file = Files.write(dir.resolve("data"), content);
        for (int flags : new int[] {MapFlags.PRIVATE, MapFlags.SHARED}) {
            AddressSpace as = space();
            long at = as.mmapFile(0, 5 * PAGE, Prot.READ, flags, file, 0);
            byte[] got = UserSlice.ro(as, at, 4 * PAGE).toByteArray();
            assertArrayEquals(content, slice(got, 0, content.length));
            assertArrayEquals(new byte[(int) (4 * PAGE) - content.length], slice(got, content.length, (int) (4 * PAGE) - content.length));
            ErrnoException e = assertErrno(Errno.EFAULT, () -> UserSlice.ro(as, at + 4 * PAGE - 8, 16).toByteArray());
            assertEquals(at + 4 * PAGE - 8, e.address());
            assertEquals(8, e.done(), "the fifth page lies wholly past the end of the file");
            check();
        }
    }

    /** Frames are recycled without zeroing where a page is written whole: the bytes past the end of the file must still be zeros. */
    @ParameterizedTest
    @EnumSource(Profile.class)
    void recycledFramesShowNoOldBytesPastTheEndOfTheFile(Profile profile) throws IOException {
        machine(small().withProfile(profile).withFrames(512 + 16 + 32)); // 32 frames to allocate
        AddressSpace as = space();
        long dirty = as.mmap(0, 32 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        write(as, dirty, filled((int) (32 * PAGE), 0x5a));
        as.munmap(dirty, 32 * PAGE);
        byte[] content = pattern((int) (2 * PAGE + 10), 3);
        Path file = Files.write(dir.resolve("short"), content);
        for (int flags : new int[] {MapFlags.PRIVATE, MapFlags.SHARED}) {
            long at = as.mmapFile(0, 3 * PAGE, Prot.READ, flags, file, 0);
            byte[] got = UserSlice.ro(as, at, 3 * PAGE).toByteArray();
            assertArrayEquals(content, slice(got, 0, content.length));
            assertArrayEquals(new byte[got.length - content.length], slice(got, content.length, got.length - content.length));
            as.munmap(at, 3 * PAGE);
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aPrivateFileMappingStartingAtAnOffsetReadsThatPartOfTheFile(Profile profile) throws IOException {
        machine(small().withProfile(profile).withFaultAround(1));
        byte[] content = pattern((int) (4 * PAGE), 9);
        Path file = Files.write(dir.resolve("offset"), content);
        AddressSpace as = space();
        long at = as.mmapFile(0, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE, file, 2 * PAGE);
        assertArrayEquals(slice(content, (int) (2 * PAGE), (int) (2 * PAGE)), UserSlice.ro(as, at, 2 * PAGE).toByteArray());
    }

    @Test
    void checkedProfilesRefuseWildPointersUpFront() {
        machine(small().withProfile(Profile.PERFORMANCE));
        AddressSpace as = space();
        assertErrno(Errno.EFAULT, () -> UserSlice.ro(as, as.size() + BASE, 8));
        assertEquals(8, as.copyFromUser(new byte[8], 0, as.size() + BASE, 8), "the address-space copy refuses it too");
    }

    /**
     * Ludicrous checks no range: a wild pointer lands inside the address
     * space (its address modulo the size) or faults in the guard region
     * after it. It can reach the guest's own memory, never the JVM's.
     */
    @Test
    void ludicrousTakesWildPointersModuloTheAddressSpaceAndNeverLeavesIt() {
        machine(small().withProfile(Profile.LUDICROUS));
        AddressSpace as = space();
        long size = as.size();
        long at = as.mmap(BASE, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        write(as, at, pattern(64, 2));
        assertArrayEquals(pattern(64, 2), UserSlice.ro(as, at + 7 * size, 64).toByteArray(), "address modulo the size");
        assertArrayEquals(pattern(8, 2), UserSlice.ro(as, at - 3 * size, 8).toByteArray(), "negative too");
        // The last page of the address space, then the guard region.
        long top = as.mmap(size - PAGE, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        write(as, top + PAGE - 8, filled(8, 3));
        ErrnoException e = assertErrno(Errno.EFAULT, () -> UserSlice.ro(as, size - 8, 3 * Reservation.GUARD).toByteArray());
        assertEquals(8, e.done(), "stops in the guard region");
        e = assertErrno(Errno.EFAULT, () -> UserSlice.wo(as, Long.MAX_VALUE - 7, 64).copyFromSlice(filled(64, 1)));
        assertEquals(8, e.done(), "Long.MAX_VALUE - 7 is the last 8 bytes modulo the size");
        assertEquals(1, readByte(as, size - 1));
        assertErrno(Errno.EFAULT, () -> UserSlice.ro(as, 5 * size + 2 * BASE, 1).readU8()); // unmapped page
        check();
    }
}
