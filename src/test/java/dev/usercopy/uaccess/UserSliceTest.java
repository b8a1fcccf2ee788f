package dev.usercopy.uaccess;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MmScenario;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.Errno;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Redox's {@code UserSlice} on a guest: creation checks, splitting, and every read and write with its errors. */
class UserSliceTest extends MmScenario {
    private AddressSpace as;
    /** Two writable pages, then an unmapped page. */
    private long buf;

    @BeforeEach
    void map() {
        machine();
        as = space();
        buf = as.mmap(BASE, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
    }

    @Test
    void creationRefusesRangesOutsideUserSpace() {
        long end = as.size();
        assertErrno(Errno.EFAULT, () -> UserSlice.ro(as, end - 4, 8));
        assertErrno(Errno.EFAULT, () -> UserSlice.rw(as, end, 1));
        assertErrno(Errno.EFAULT, () -> UserSlice.wo(as, -1, 1));
        assertErrno(Errno.EFAULT, () -> UserSlice.ro(as, Long.MAX_VALUE - 2, 8)); // overflows
        ErrnoException e = assertErrno(Errno.EFAULT, () -> UserSlice.ro(as, buf, -1));
        assertEquals(buf, e.address());
        assertEquals(-1, e.length());
        // Length 0 is fine anywhere, even at null and past the end: nothing is touched.
        assertEquals(0, UserSlice.ro(as, 0, 0).length());
        assertEquals(0, UserSlice.rw(as, end + PAGE, 0).copyCommonBytesToSlice(new byte[8]));
        UserSlice.wo(as, 0, 0).zero();
        assertEquals(8, UserSlice.ro(as, end - 8, 8).length());
    }

    @Test
    void splitAdvanceAndLimitReturnNewSlicesOfTheSameRights() {
        UserSliceRw s = UserSlice.rw(as, buf, 100);
        UserSlice.Split<UserSliceRw> split = s.splitAt(30).orElseThrow();
        assertEquals(buf, split.first().address());
        assertEquals(30, split.first().length());
        assertEquals(buf + 30, split.second().address());
        assertEquals(70, split.second().length());
        assertTrue(s.splitAt(100).isPresent());
        assertTrue(s.splitAt(101).isEmpty());
        assertTrue(s.splitAt(-1).isEmpty());
        assertEquals(buf + 100, s.advance(100).orElseThrow().address());
        assertTrue(s.advance(101).isEmpty());
        assertEquals(10, s.limit(10).length());
        assertEquals(100, s.limit(1000).length());
        assertEquals(100, s.length(), "the original is unchanged");
        assertTrue(UserSlice.ro(as, 0, 16).noneIfNull().isEmpty());
        assertEquals(buf, UserSlice.ro(as, buf, 16).noneIfNull().orElseThrow().address());
        UserSliceRo ro = s.readOnly();
        assertEquals(s.address(), ro.address());
    }

    @Test
    void exactChunksLeaveTheRestOutAndVariableChunksKeepIt() {
        UserSliceRo s = UserSlice.ro(as, buf, 10);
        List<Long> exact = new ArrayList<>();
        for (UserSliceRo c : s.inExactChunks(4)) {
            assertEquals(4, c.length());
            exact.add(c.address() - buf);
        }
        assertEquals(List.of(0L, 4L), exact);
        List<Long> lengths = new ArrayList<>();
        for (UserSliceRo c : s.inVariableChunks(4)) {
            lengths.add(c.length());
        }
        assertEquals(List.of(4L, 4L, 2L), lengths);
    }

    @Test
    void numbersAreLittleEndianAndNeedRoom() {
        UserSliceRw s = UserSlice.rw(as, buf + 3, 16);
        s.writeU64(0x0102030405060708L);
        assertArrayEquals(new byte[] {8, 7, 6, 5, 4, 3, 2, 1}, read(as, buf + 3, 8));
        assertEquals(0x0102030405060708L, s.readUsize());
        assertEquals(0x05060708, s.readU32());
        assertEquals(8, s.readU8());
        s.advance(8).orElseThrow().writeU32(0xCAFEBABE);
        assertEquals(0xCAFEBABE, UserSlice.ro(as, buf + 11, 4).readU32());
        assertErrno(Errno.EINVAL, () -> UserSlice.ro(as, buf, 7).readU64());
        assertErrno(Errno.EINVAL, () -> UserSlice.wo(as, buf, 3).writeU32(1));
        assertErrno(Errno.EINVAL, () -> UserSlice.ro(as, buf, 0).readU8());
    }

    @Test
    void exactCopiesNeedEqualLengthsAndPrefixCopiesTakeTheShorter() {
        byte[] data = pattern(64, 1);
        UserSliceRw s = UserSlice.rw(as, buf, 64);
        assertErrno(Errno.EINVAL, () -> s.copyFromSlice(new byte[63]));
        s.copyFromSlice(data);
        byte[] back = new byte[64];
        s.copyToSlice(back);
        assertArrayEquals(data, back);
        assertErrno(Errno.EINVAL, () -> s.copyToSlice(new byte[65]));
        byte[] small = new byte[10];
        assertEquals(10, s.copyCommonBytesToSlice(small));
        assertArrayEquals(slice(data, 0, 10), small);
        byte[] large = new byte[100];
        assertEquals(64, s.copyCommonBytesToSlice(large));
        assertArrayEquals(data, slice(large, 0, 64));
        assertEquals(5, s.copyCommonBytesFromSlice(new byte[5]));
        assertBytes(new byte[5], as, buf);
        assertArrayEquals(slice(data, 5, 59), read(as, buf + 5, 59));
    }

    @Test
    void segmentCopiesGoBothWays() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocate(300);
            for (int i = 0; i < 300; i++) {
                k.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7));
            }
            UserSliceRw s = UserSlice.rw(as, buf + PAGE - 100, 300);
            s.copyFromSegment(k);
            MemorySegment back = arena.allocate(300);
            s.copyToSegment(back);
            assertEquals(-1, k.mismatch(back));
            assertErrno(Errno.EINVAL, () -> s.copyToSegment(arena.allocate(299)));
        }
    }

    @Test
    void aFaultIsEfaultWithTheBytesDoneBeforeIt() {
        long tail = buf + 2 * PAGE - 10; // 10 bytes before the unmapped page
        write(as, tail, pattern(10, 3));
        byte[] into = filled(50, 0x55);
        ErrnoException e = assertErrno(Errno.EFAULT, () -> UserSlice.ro(as, tail, 50).copyCommonBytesToSlice(into));
        assertEquals(10, e.done());
        assertEquals(tail, e.address());
        assertEquals(50, e.length());
        assertArrayEquals(pattern(10, 3), slice(into, 0, 10));
        assertArrayEquals(new byte[40], slice(into, 10, 40), "the kernel bytes past the fault are zeroed, as copy_from_user does");

        e = assertErrno(Errno.EFAULT, () -> UserSlice.wo(as, tail, 50).copyFromSlice(filled(50, 9)));
        assertEquals(10, e.done());
        assertBytes(filled(10, 9), as, tail);
        e = assertErrno(Errno.EFAULT, () -> UserSlice.wo(as, tail, 50).zero());
        assertEquals(10, e.done());
        assertBytes(new byte[10], as, tail);
        assertErrno(Errno.EFAULT, () -> UserSlice.ro(as, tail + 4, 8).readU64());
    }

    @Test
    void aReadOnlyPageRefusesWritesButNotReads() {
        write(as, buf + PAGE, filled(16, 4));
        as.mprotect(buf + PAGE, PAGE, Prot.READ);
        ErrnoException e = assertErrno(Errno.EFAULT, () -> UserSlice.rw(as, buf + PAGE - 4, 16).writeU64(-1L));
        assertEquals(4, e.done(), "the bytes before the read-only page are written");
        assertBytes(filled(4, -1), as, buf + PAGE - 4);
        assertArrayEquals(filled(16, 4), UserSlice.ro(as, buf + PAGE, 16).toByteArray());
    }

    @Test
    void copyToStringDecodesUtf8AndRefusesMalformedBytes() {
        byte[] text = "grüße, ユーザー".getBytes(StandardCharsets.UTF_8);
        write(as, buf, text);
        assertEquals("grüße, ユーザー", UserSlice.ro(as, buf, text.length).copyToString());
        // Cut inside a multi-byte character: the last bytes are not a whole character.
        ErrnoException e = assertErrno(Errno.EILSEQ, () -> UserSlice.ro(as, buf, 5).copyToString()); // "gr", "ü", half of "ß"
        assertEquals(buf, e.address());
        assertEquals(4, e.done(), "the well-formed bytes before it");
        assertTrue(e.getMessage().contains("at guest 0x" + Long.toHexString(buf + 4)), e.getMessage());
        write(as, buf, new byte[] {'a', (byte) 0xC0, (byte) 0x80});
        assertErrno(Errno.EILSEQ, () -> UserSlice.ro(as, buf, 3).copyToString()); // overlong NUL
    }

    @Test
    void readCStringStopsAtTheNulAndSaysWhenNoneFits() {
        write(as, buf, "/etc/passwd\0junk".getBytes(StandardCharsets.UTF_8));
        assertEquals("/etc/passwd", UserSlice.ro(as, buf, 4096).readCString(256));
        assertEquals("/etc/passwd", UserSlice.ro(as, buf, 12).readCString(256), "the NUL is the slice's last byte");
        assertErrno(Errno.ENAMETOOLONG, () -> UserSlice.ro(as, buf, 4096).readCString(11));
        assertErrno(Errno.ENAMETOOLONG, () -> UserSlice.ro(as, buf, 11).readCString(256));
        assertEquals("", UserSlice.ro(as, buf + 11, 1).readCString(1));
        // A string that runs into the unmapped page.
        long tail = buf + 2 * PAGE - 5;
        write(as, tail, "abcde".getBytes(StandardCharsets.UTF_8));
        assertErrno(Errno.EFAULT, () -> UserSlice.ro(as, tail, 100).readCString(100));
        write(as, buf, new byte[] {(byte) 0xFF, 0});
        assertErrno(Errno.EILSEQ, () -> UserSlice.ro(as, buf, 10).readCString(10));
    }

    @Test
    void lazyPagesAreFaultedInByTheCopies() {
        long lazy = as.mmap(0, 4 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        assertArrayEquals(new byte[3 * (int) PAGE], UserSlice.ro(as, lazy + 100, 3 * PAGE).toByteArray());
        UserSlice.wo(as, lazy + 2 * PAGE - 4, 8).writeU64(42);
        assertEquals(42, UserSlice.ro(as, lazy + 2 * PAGE - 4, 8).readU64());
        assertEquals(AddressSpace.PageState.PRIVATE, as.pageState(lazy + PAGE));
        check();
    }

    @Test
    void noCopyAfterTheAddressSpaceIsClosed() {
        UserSliceRo s = UserSlice.ro(as, buf, 8);
        as.close();
        assertErrno(Errno.EFAULT, () -> s.readU64());
        assertFalse(as.checkAccess(buf, 8, false));
    }
}
