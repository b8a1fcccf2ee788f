package dev.usercopy.mm;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.usercopy.mm.AddressSpace.PageState;
import dev.usercopy.platform.Errno;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Partial munmap and mprotect, MAP_FIXED, and the errnos of bad calls, as Linux gives them. */
class MunmapMprotectTest extends MmScenario {
    private static final int RW = Prot.READ | Prot.WRITE;

    private static Grant grant(long addr, long pages, int prot) {
        return new Grant(addr / PAGE, pages, prot, Provider.Allocated.ANONYMOUS);
    }

    @Test
    void munmapOfTheMiddleSplitsTheGrantInTwoAndFreesOnlyTheMiddle() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 10 * PAGE, RW, MapFlags.PRIVATE);
        byte[] data = pattern(10 * (int) PAGE, 1);
        write(as, a, data);
        check();
        assertEquals(10, used());

        as.munmap(a + 4 * PAGE, 3 * PAGE);
        check();
        assertEquals(List.of(grant(a, 4, RW), grant(a + 7 * PAGE, 3, RW)), as.grants());
        assertEquals(7, used());
        for (int p = 4; p < 7; p++) {
            assertEquals(PageState.UNMAPPED, as.pageState(a + p * PAGE));
            assertNull(as.frameOf(a + p * PAGE));
        }
        byte[] buf = new byte[20];
        assertEquals(10, as.copyFromUser(buf, 0, a + 4 * PAGE - 10, 20), "stops at the hole");
        assertArrayEquals(slice(data, 4 * (int) PAGE - 10, 10), slice(buf, 0, 10));
        assertEquals(3 * PAGE, as.copyToUser(a + 4 * PAGE, new byte[3 * (int) PAGE], 0, 3 * (int) PAGE));
        assertBytes(slice(data, 0, 4 * (int) PAGE), as, a);
        assertBytes(slice(data, 7 * (int) PAGE, 3 * (int) PAGE), as, a + 7 * PAGE);
        check();
    }

    @Test
    void mprotectReadOnlyOfPartOfAGrantStopsAWriteAtTheBoundaryWithTheExactCount() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 8 * PAGE, RW, MapFlags.PRIVATE);
        byte[] data = pattern(8 * (int) PAGE, 2);
        write(as, a, data);
        check();
        as.mprotect(a + 4 * PAGE, 4 * PAGE, Prot.READ);
        check();
        assertEquals(List.of(grant(a, 4, RW), grant(a + 4 * PAGE, 4, Prot.READ)), as.grants());

        assertEquals(200, as.copyToUser(a + 4 * PAGE - 100, filled(300, 0x55), 0, 300), "the bytes in the read-only part");
        check();
        assertArrayEquals(filled(100, 0x55), read(as, a + 4 * PAGE - 100, 100), "the writable part got its bytes");
        assertBytes(slice(data, 4 * (int) PAGE, 4 * (int) PAGE), as, a + 4 * PAGE);
        assertEquals(PAGE, as.clearUser(a + 3 * PAGE, 2 * PAGE));
        assertArrayEquals(new byte[(int) PAGE], read(as, a + 3 * PAGE, (int) PAGE));

        as.mprotect(a + 4 * PAGE, PAGE, RW);
        check();
        write(as, a + 4 * PAGE, filled((int) PAGE, 0x66));
        assertEquals(1, as.copyToUser(a + 5 * PAGE, new byte[1], 0, 1), "the rest stays read-only");
        check();
    }

    @Test
    void mprotectReadOnlyOfLazyPagesGivesTheSameExactCountAndTheyReadAsZeros() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 8 * PAGE, RW, MapFlags.PRIVATE);
        as.mprotect(a + 3 * PAGE, 5 * PAGE, Prot.READ);
        check();
        assertEquals(5 * PAGE, as.copyToUser(a + 2 * PAGE, filled(6 * (int) PAGE, 7), 0, 6 * (int) PAGE));
        check();
        assertArrayEquals(filled((int) PAGE, 7), read(as, a + 2 * PAGE, (int) PAGE));
        assertArrayEquals(new byte[5 * (int) PAGE], read(as, a + 3 * PAGE, 5 * (int) PAGE));
        assertEquals(PageState.ZEROED, as.pageState(a + 4 * PAGE));
    }

    @Test
    void mprotectNoneMakesBothCopyDirectionsFaultAtTheFirstByte() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 4 * PAGE, RW, MapFlags.PRIVATE);
        write(as, a, pattern(4 * (int) PAGE, 3));
        as.mprotect(a + 2 * PAGE, PAGE, Prot.NONE);
        check();
        byte[] buf = new byte[3 * (int) PAGE];
        assertEquals(2 * PAGE, as.copyFromUser(buf, 0, a + PAGE, buf.length));
        assertEquals(2 * PAGE, as.copyToUser(a + PAGE, buf, 0, buf.length));
        as.mprotect(a + 2 * PAGE, PAGE, Prot.READ);
        check();
        assertBytes(slice(pattern(4 * (int) PAGE, 3), 2 * (int) PAGE, (int) PAGE), as, a + 2 * PAGE);
    }

    @Test
    void mprotectOverAHoleChangesThePagesBeforeItThenIsEnomem() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 8 * PAGE, RW, MapFlags.PRIVATE);
        as.munmap(a + 3 * PAGE, PAGE);
        check();
        // Linux walks the mappings from the start and stops at the first hole (do_mprotect_pkey).
        ErrnoException e = assertErrno(Errno.ENOMEM, () -> as.mprotect(a, 8 * PAGE, Prot.READ));
        assertEquals(a, e.address());
        assertEquals(8 * PAGE, e.length());
        assertEquals(List.of(grant(a, 3, Prot.READ), grant(a + 4 * PAGE, 4, RW)), as.grants());
        assertErrno(Errno.ENOMEM, () -> as.mprotect(a - PAGE, 2 * PAGE, Prot.NONE));
        assertErrno(Errno.ENOMEM, () -> as.mprotect(a + 3 * PAGE, 2 * PAGE, Prot.NONE));
        assertErrno(Errno.ENOMEM, () -> as.mprotect(a + 16 * PAGE, PAGE, Prot.READ));
        assertEquals(List.of(grant(a, 3, Prot.READ), grant(a + 4 * PAGE, 4, RW)), as.grants(), "a range that starts in a hole changes nothing");
        check();
        write(as, a + 4 * PAGE, filled(4 * (int) PAGE, 1));
        assertEquals(3 * PAGE, as.copyToUser(a, filled(3 * (int) PAGE, 1), 0, 3 * (int) PAGE), "the pages before the hole are read-only now");
    }

    @Test
    void munmapOverHolesAndUnmappedRangesSucceeds() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 4 * PAGE, RW, MapFlags.PRIVATE);
        long b = as.mmap(BASE + 8 * PAGE, 4 * PAGE, RW, MapFlags.PRIVATE);
        write(as, a, filled(4 * (int) PAGE, 1));
        write(as, b, filled(4 * (int) PAGE, 2));
        assertEquals(8, used());
        assertDoesNotThrow(() -> as.munmap(BASE + 64 * PAGE, 16 * PAGE));
        assertDoesNotThrow(() -> as.munmap(a + 2 * PAGE, 8 * PAGE));
        check();
        assertEquals(List.of(grant(a, 2, RW), grant(b + 2 * PAGE, 2, RW)), as.grants());
        assertEquals(4, used());
        assertDoesNotThrow(() -> as.munmap(a - 4 * PAGE, 32 * PAGE));
        check();
        assertEquals(List.of(), as.grants());
        assertEquals(0, used());
    }

    @Test
    void mapFixedOverAnExistingMappingReplacesIt() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 8 * PAGE, RW, MapFlags.PRIVATE);
        byte[] data = pattern(8 * (int) PAGE, 4);
        write(as, a, data);
        assertEquals(8, used());

        assertEquals(a + 2 * PAGE, as.mmap(a + 2 * PAGE, 3 * PAGE, Prot.READ, MapFlags.PRIVATE | MapFlags.FIXED));
        check();
        assertEquals(List.of(grant(a, 2, RW), grant(a + 2 * PAGE, 3, Prot.READ), grant(a + 5 * PAGE, 3, RW)), as.grants());
        assertEquals(5, used(), "the replaced pages' frames are freed");
        assertArrayEquals(new byte[3 * (int) PAGE], read(as, a + 2 * PAGE, 3 * (int) PAGE), "the new mapping is fresh");
        assertEquals(3 * PAGE, as.copyToUser(a + 2 * PAGE, new byte[3 * (int) PAGE], 0, 3 * (int) PAGE), "and read-only");
        assertBytes(slice(data, 0, 2 * (int) PAGE), as, a);
        assertBytes(slice(data, 5 * (int) PAGE, 3 * (int) PAGE), as, a + 5 * PAGE);
        check();
    }

    @Test
    void mapFixedNoreplaceOverAMappingIsEexistAndChangesNothing() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 4 * PAGE, RW, MapFlags.PRIVATE);
        write(as, a, pattern(4 * (int) PAGE, 5));
        ErrnoException e = assertErrno(Errno.EEXIST,
                () -> as.mmap(a + 3 * PAGE, 2 * PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED_NOREPLACE));
        assertEquals(a + 3 * PAGE, e.address());
        check();
        assertEquals(List.of(grant(a, 4, RW)), as.grants());
        assertBytes(pattern(4 * (int) PAGE, 5), as, a);
        assertEquals(a + 4 * PAGE, as.mmap(a + 4 * PAGE, 2 * PAGE, Prot.READ, MapFlags.PRIVATE | MapFlags.FIXED_NOREPLACE),
                "a free range is taken at exactly that address");
        check();
    }

    @Test
    void aNonFixedHintThatIsTakenGivesAnotherFreeRange() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 4 * PAGE, RW, MapFlags.PRIVATE);
        long b = as.mmap(BASE + PAGE, 4 * PAGE, RW, MapFlags.PRIVATE);
        assertTrue(b + 4 * PAGE <= a || b >= a + 4 * PAGE, "0x" + Long.toHexString(b) + " overlaps the first mapping");
        assertTrue(b >= AddressSpace.MIN_ADDRESS);
        assertEquals(2, as.grants().size());
    }

    @Test
    void badArgumentsAreEinval() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 4 * PAGE, RW, MapFlags.PRIVATE);
        assertErrno(Errno.EINVAL, () -> as.mmap(0, 0, RW, MapFlags.PRIVATE));
        assertErrno(Errno.EINVAL, () -> as.mmap(BASE + 16 * PAGE + 1, PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED));
        assertErrno(Errno.EINVAL, () -> as.mmap(0, PAGE, RW, MapFlags.PRIVATE | MapFlags.SHARED));
        assertErrno(Errno.EINVAL, () -> as.mmap(0, PAGE, RW, 0));
        assertErrno(Errno.EINVAL, () -> as.mmap(BASE + 32 * PAGE, PAGE, RW, MapFlags.FIXED));
        assertErrno(Errno.EINVAL, () -> as.munmap(a + 1, PAGE));
        assertErrno(Errno.EINVAL, () -> as.munmap(a, 0));
        assertErrno(Errno.EINVAL, () -> as.mprotect(a + 1, PAGE, Prot.READ));
        assertErrno(Errno.EINVAL, () -> as.mprotect(a, PAGE, 0x40));
        assertErrno(Errno.EINVAL, () -> as.madviseDontNeed(a + 100, PAGE));
        check();
        assertEquals(List.of(grant(a, 4, RW)), as.grants(), "no failed call changed anything");
    }

    @Test
    void mapFixedBelowTheMinimumAddressIsEperm() {
        machine();
        AddressSpace as = space();
        ErrnoException e = assertErrno(Errno.EPERM, () -> as.mmap(AddressSpace.MIN_ADDRESS - PAGE, PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED));
        assertEquals(AddressSpace.MIN_ADDRESS - PAGE, e.address());
        assertErrno(Errno.EPERM, () -> as.mmap(0, PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED_NOREPLACE));
        long hinted = as.mmap(PAGE, PAGE, RW, MapFlags.PRIVATE);
        assertTrue(hinted >= AddressSpace.MIN_ADDRESS, "a low hint without MAP_FIXED is moved up: 0x" + Long.toHexString(hinted));
        check();
    }

    @Test
    void errorsNameTheGuestAddressAndLength() {
        machine();
        AddressSpace as = space();
        long addr = BASE + 16 * PAGE + 3;
        ErrnoException e = assertErrno(Errno.EINVAL, () -> as.mmap(addr, 5 * PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED));
        assertEquals(addr, e.address());
        assertEquals(5 * PAGE, e.length());
        assertTrue(e.getMessage().contains("0x" + Long.toHexString(addr)), e.getMessage());
        assertTrue(e.getMessage().contains("length " + 5 * PAGE), e.getMessage());
        assertTrue(e.getMessage().startsWith("EINVAL"), e.getMessage());

        long hole = BASE + 64 * PAGE;
        ErrnoException m = assertErrno(Errno.ENOMEM, () -> as.mprotect(hole, 3 * PAGE, Prot.READ));
        assertTrue(m.getMessage().contains("0x" + Long.toHexString(hole)), m.getMessage());
        assertTrue(m.getMessage().contains("length " + 3 * PAGE), m.getMessage());
    }

    @Test
    void mapFixedPastTheEndOfTheAddressSpaceIsEnomem() {
        machine();
        AddressSpace as = space();
        assertErrno(Errno.ENOMEM, () -> as.mmap(as.size() - PAGE, 2 * PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED));
        assertEquals(as.size() - PAGE, as.mmap(as.size() - PAGE, PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED));
        writeByte(as, as.size() - 1, 1);
        assertEquals(2, as.copyToUser(as.size() - 1, new byte[2], 0, 2), "a range that runs past user space copies nothing (access_ok)");
        assertEquals(1, readByte(as, as.size() - 1));
        check();
    }

    @Test
    void whenNoFreeRangeIsLongEnoughMmapIsEnomem() {
        machine();
        AddressSpace as = space();
        long half = as.size() / 2;
        as.mmap(0, half, RW, MapFlags.PRIVATE);
        ErrnoException e = assertErrno(Errno.ENOMEM, () -> as.mmap(0, half, RW, MapFlags.PRIVATE));
        assertTrue(e.getMessage().contains("no free range"), e.getMessage());
        assertEquals(1, as.grants().size());
        check();
    }

    @Test
    void lengthsAreRoundedUpToWholePages() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 5 * PAGE + 1, RW, MapFlags.PRIVATE);
        assertEquals(List.of(grant(a, 6, RW)), as.grants());
        write(as, a, filled(6 * (int) PAGE, 1));
        as.munmap(a, PAGE + 1);
        check();
        as.mprotect(a + 2 * PAGE, 1, Prot.READ);
        check();
        assertEquals(List.of(grant(a + 2 * PAGE, 1, Prot.READ), grant(a + 3 * PAGE, 3, RW)), as.grants());
        assertEquals(4, used());
    }

    // Linux references checked on the host (kernel 6.x): these calls succeed or fail as follows there.

    @Test
    void aMappingLongerThanTheAddressSpaceIsEnomemAsOnLinux() {
        machine();
        AddressSpace as = space();
        assertErrno(Errno.ENOMEM, () -> as.mmap(0, as.size() + PAGE, RW, MapFlags.PRIVATE));
    }

    @Test
    void mprotectAndMadviseOfZeroLengthSucceedAsOnLinux() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, PAGE, RW, MapFlags.PRIVATE);
        writeByte(as, a, 9);
        assertDoesNotThrow(() -> as.mprotect(a, 0, Prot.READ));
        assertDoesNotThrow(() -> as.madviseDontNeed(a, 0));
        assertEquals(9, readByte(as, a));
        writeByte(as, a, 10);
        check();
    }

    @ParameterizedTest
    @EnumSource(MemoryManager.ForkMode.class)
    void aWriteOnlyMappingCanBeReadAsOnX86Linux(MemoryManager.ForkMode mode) {
        machine(small().withForkMode(mode));
        AddressSpace as = space();
        long a = as.mmap(BASE, 2 * PAGE, Prot.WRITE, MapFlags.PRIVATE);
        assertArrayEquals(new byte[16], read(as, a, 16), "a lazy write-only page reads as zeros");
        write(as, a + PAGE, filled(16, 3));
        assertArrayEquals(filled(16, 3), read(as, a + PAGE, 16), "a written write-only page");
        check();
        AddressSpace child = fork(as);
        check();
        assertArrayEquals(filled(16, 3), read(child, a + PAGE, 16), "the same page in a forked child");
        assertArrayEquals(filled(16, 3), read(as, a + PAGE, 16), "and in the parent after the fork");
        check();
    }
}
