package dev.usercopy.uaccess;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.Profile;
import dev.usercopy.mm.Prot;
import dev.usercopy.mm.MmScenario;
import dev.usercopy.platform.Errno;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** axptr's {@code UserPtr} and {@code UserConstPtr}, in every profile: the checks, the copies, the null-terminated reads. */
class UserPtrTest extends MmScenario {
    static final StructLayout TIMESPEC = MemoryLayout.structLayout(JAVA_LONG.withName("tv_sec"), JAVA_LONG.withName("tv_nsec"));
    static final StructLayout STAT = MemoryLayout.structLayout(JAVA_INT.withName("mode"), MemoryLayout.paddingLayout(4),
            JAVA_LONG.withName("size"), TIMESPEC.withName("mtime"));

    private AddressSpace as;
    /** Two writable pages, then an unmapped page. */
    private long buf;

    private void start(Profile profile) {
        machine(small().withProfile(profile));
        as = space();
        buf = as.mmap(BASE, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void structsAndTheirFieldsGoInAndOutAsCopies(Profile profile) {
        start(profile);
        UserPtr st = UserPtr.of(as, buf + 64, STAT);
        st.field("mode").setInt(0755);
        st.field("size").setLong(123456789L);
        st.field("mtime").field("tv_sec").setLong(1_700_000_000L);
        st.field("mtime").field("tv_nsec").setLong(999);
        MemorySegment copy = st.asConst().get();
        assertEquals(STAT.byteSize(), copy.byteSize());
        assertEquals(0755, copy.get(JAVA_INT, STAT.byteOffset(MemoryLayout.PathElement.groupElement("mode"))));
        assertEquals(123456789L, copy.get(JAVA_LONG, 8));
        assertEquals(1_700_000_000L, st.field("mtime").field("tv_sec").getLong());
        // The copy is the kernel's: the guest changing its memory does not change it.
        write(as, buf + 64 + 8, new byte[8]);
        assertEquals(123456789L, copy.get(JAVA_LONG, 8));
        assertEquals(0, st.field("size").getLong());
        // p + 1 is the next struct.
        assertEquals(buf + 64 + STAT.byteSize(), st.element(1).address());
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void nullAndMisalignedPointersAreEfaultBeforeAnyAccess(Profile profile) {
        start(profile);
        ErrnoException e = assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, 0, TIMESPEC).get());
        assertEquals(0, e.address());
        assertErrno(Errno.EFAULT, () -> UserPtr.of(as, 0, JAVA_LONG).setLong(1));
        assertErrno(Errno.EFAULT, () -> UserPtr.of(as, buf + 4, TIMESPEC).get());
        assertErrno(Errno.EFAULT, () -> UserPtr.of(as, buf + 2, JAVA_INT).setInt(1));
        assertEquals(0, readByte(as, buf + 2));
        assertEquals(true, UserPtr.of(as, 0, JAVA_INT).nullable().isEmpty());
        // Byte pointers have no alignment to miss.
        UserPtr.of(as, buf + 3, JAVA_BYTE).setByte((byte) 7);
        assertEquals(7, readByte(as, buf + 3));
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aStructOverAReadOnlyPageIsRefusedWholeUnlessLudicrous(Profile profile) {
        start(profile);
        as.mprotect(buf + PAGE, PAGE, Prot.READ);
        long at = buf + PAGE - 8; // tv_sec on the writable page, tv_nsec on the read-only one
        UserPtr ts = UserPtr.of(as, at, TIMESPEC);
        MemorySegment value = MemorySegment.ofArray(new long[] {-1L, -1L});
        ErrnoException e = assertErrno(Errno.EFAULT, () -> ts.set(value));
        if (profile == Profile.LUDICROUS) {
            assertEquals(8, e.done(), "no permission walk: the copy writes up to the fault");
            assertBytes(filled(8, -1), as, at);
        } else {
            assertEquals(0, e.done(), "the grants are checked before any byte moves");
            assertBytes(new byte[8], as, at);
        }
        assertEquals(0, ts.field("tv_nsec").getLong(), "reading is allowed");
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void populateFaultsThePagesInNow(Profile profile) {
        start(profile);
        long lazy = as.mmap(0, 4 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        UserPtr p = UserPtr.of(as, lazy + PAGE - 8, TIMESPEC);
        p.populate(false);
        assertEquals(AddressSpace.PageState.ZEROED, as.pageState(lazy));
        assertEquals(AddressSpace.PageState.ZEROED, as.pageState(lazy + PAGE));
        p.populate(true);
        assertEquals(AddressSpace.PageState.PRIVATE, as.pageState(lazy));
        assertEquals(AddressSpace.PageState.PRIVATE, as.pageState(lazy + PAGE));
        as.mprotect(lazy + 2 * PAGE, PAGE, Prot.READ);
        assertErrno(Errno.EFAULT, () -> UserPtr.of(as, lazy + 3 * PAGE - 8, TIMESPEC).populate(true));
        check();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void nullTerminatedArraysAreReadAcrossPagesUpToTheTerminator(Profile profile) {
        start(profile);
        long argv = buf + PAGE - 3 * 8; // 3 entries on the first page, the rest on the second
        long[] entries = {0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0};
        for (int i = 0; i < entries.length; i++) {
            UserPtr.of(as, argv + 8L * i, JAVA_LONG).setLong(entries[i]);
        }
        MemorySegment got = UserConstPtr.of(as, argv, JAVA_LONG).getAsNullTerminated(100);
        assertArrayEquals(new long[] {0x1000, 0x2000, 0x3000, 0x4000, 0x5000}, got.toArray(JAVA_LONG));
        ErrnoException e = assertErrno(Errno.E2BIG, () -> UserConstPtr.of(as, argv, JAVA_LONG).getAsNullTerminated(5));
        assertEquals(argv, e.address());
        // No terminator before the unmapped page.
        long last = buf + 2 * PAGE - 16;
        UserPtr.of(as, last, JAVA_LONG).setLong(1);
        UserPtr.of(as, last + 8, JAVA_LONG).setLong(2);
        assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, last, JAVA_LONG).getAsNullTerminated(100));
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void stringsAreUtf8UpToTheNul(Profile profile) {
        start(profile);
        long s = buf + PAGE - 4;
        write(as, s, "héllo\0".getBytes(StandardCharsets.UTF_8));
        assertEquals("héllo", UserConstPtr.of(as, s, JAVA_BYTE).getAsString(64));
        assertErrno(Errno.ENAMETOOLONG, () -> UserConstPtr.of(as, s, JAVA_BYTE).getAsString(6));
        assertEquals("héllo", UserConstPtr.of(as, s, JAVA_BYTE).getAsString(7));
        write(as, s, new byte[] {'a', (byte) 0xE2, (byte) 0x82, 0});
        assertErrno(Errno.EILSEQ, () -> UserConstPtr.of(as, s, JAVA_BYTE).getAsString(64));
        long tail = buf + 2 * PAGE - 3;
        write(as, tail, "abc".getBytes(StandardCharsets.UTF_8));
        assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, tail, JAVA_BYTE).getAsString(64));
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void slicesOfValuesAreCopiedWhole(Profile profile) {
        start(profile);
        for (int i = 0; i < 10; i++) {
            UserPtr.of(as, buf + 4L * i, JAVA_INT).setInt(i * i);
        }
        assertArrayEquals(new int[] {0, 1, 4, 9, 16, 25, 36, 49, 64, 81}, UserConstPtr.of(as, buf, JAVA_INT).getAsSlice(10).toArray(JAVA_INT));
        assertEquals(0, UserConstPtr.of(as, 0, JAVA_INT).getAsSlice(0).byteSize(), "no elements: no access, not even the null check");
        UserPtr.of(as, buf, JAVA_INT).setAsSlice(MemorySegment.ofArray(new int[] {7, 8}));
        assertEquals(8, UserPtr.of(as, buf, JAVA_INT).element(1).getInt());
        assertErrno(Errno.EINVAL, () -> UserPtr.of(as, buf, JAVA_INT).setAsSlice(MemorySegment.ofArray(new byte[6])));
        assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, buf + 2 * PAGE - 8, JAVA_INT).getAsSlice(3));
    }

    @ParameterizedTest
    @EnumSource(value = Profile.class, names = {"FORTRESS", "PERFORMANCE"})
    void checkedProfilesRefuseRangesOutsideUserSpace(Profile profile) {
        start(profile);
        assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, as.size() - 8, TIMESPEC).get());
        assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, -16, TIMESPEC).get());
        assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, Long.MAX_VALUE - 7, ValueLayout.JAVA_LONG).get());
    }

    @org.junit.jupiter.api.Test
    void aGuestSizedCountThatOverflowsIsEinvalNamingThePointer() {
        start(Profile.PERFORMANCE);
        ErrnoException e = assertErrno(Errno.EINVAL, () -> UserConstPtr.of(as, buf, JAVA_LONG).getAsSlice(Long.MAX_VALUE / 4));
        assertEquals(buf, e.address());
        e = assertErrno(Errno.EINVAL, () -> UserConstPtr.of(as, buf, JAVA_LONG).getAsSlice(1L << 40));
        assertEquals(buf, e.address());
        assertErrno(Errno.EINVAL, () -> UserPtr.of(as, buf, JAVA_LONG).element(Long.MAX_VALUE / 2));
    }

    @org.junit.jupiter.api.Test
    void enomemWhilePopulatingNamesThePointerAndTheBytesDone() {
        machine(small().withProfile(Profile.PERFORMANCE).withFrames(512 + 16 + 8).withFaultAround(1)); // 8 frames to allocate
        AddressSpace as = space();
        long at = as.mmap(BASE, 64 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        ErrnoException e = assertErrno(Errno.ENOMEM,
                () -> UserPtr.of(as, at, JAVA_LONG).setAsSlice(MemorySegment.ofArray(new long[64 * 512])));
        assertEquals(at, e.address());
        assertEquals(64 * PAGE, e.length());
        assertEquals(8 * PAGE, e.done(), "8 pages got frames");
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aStringsErrorNamesTheStringAndTheBytesBeforeTheFault(Profile profile) {
        start(profile);
        long s = buf + 2 * PAGE - 4;
        write(as, s, "abcd".getBytes(StandardCharsets.UTF_8));
        ErrnoException e = assertErrno(Errno.EFAULT, () -> UserConstPtr.of(as, s, JAVA_BYTE).getAsString(100));
        assertEquals(s, e.address());
        assertEquals(100, e.length());
        assertEquals(4, e.done());
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void pointerArithmeticThatWrapsIsAnErrnoNotAnotherAddress(Profile profile) {
        start(profile);
        assertErrno(Errno.EFAULT, () -> UserPtr.of(as, Long.MAX_VALUE - 7, JAVA_LONG).element(1));
        assertErrno(Errno.EFAULT, () -> UserPtr.of(as, -8, JAVA_LONG).element(Long.MIN_VALUE / 8));
        assertErrno(Errno.EINVAL, () -> UserPtr.of(as, buf, JAVA_LONG).element(Long.MAX_VALUE / 4));
        assertEquals(buf - 8, UserPtr.of(as, buf, JAVA_LONG).element(-1).address(), "C's p - 1 is fine");
    }
}
