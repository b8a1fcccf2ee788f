package dev.usercopy.uaccess;

import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.Arrays;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MmScenario;
import dev.usercopy.mm.Profile;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.Errno;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A guest's lengths cannot make the kernel allocate what the guest does not
 * have: a bad pointer is refused before any buffer exists, and a long copy's
 * buffer grows only as bytes arrive. And a failed copy from user hands back
 * zeros, never what the kernel buffer held before.
 */
class KernelAllocationTest extends MmScenario {
    /** Bytes this test lets the kernel allocate for a copy that reads almost nothing. */
    private static final long ALLOWANCE = 8L << 20;

    private AddressSpace as;
    private long buf;

    private void start(Profile profile) {
        machine(small().withAddressSpaceSize(1L << 32).withProfile(profile));
        as = space();
        buf = as.mmap(BASE, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        write(as, buf, filled(2 * (int) PAGE, 'a'));
    }

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    private static ErrnoException cheaply(Errno errno, org.junit.jupiter.api.function.Executable op) {
        long before = allocated();
        ErrnoException e = assertErrno(errno, op);
        long used = allocated() - before;
        assertTrue(used < ALLOWANCE, "the kernel allocated " + used + " bytes to refuse it: " + e.getMessage());
        return e;
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aNullPointerWithAHugeCountIsEfaultBeforeAnyAllocation(Profile profile) {
        start(profile);
        ErrnoException e = cheaply(Errno.EFAULT, () -> UserConstPtr.of(as, 0, ValueLayout.JAVA_BYTE).getAsSlice(Integer.MAX_VALUE - 16));
        assertTrue(e.getMessage().contains("null pointer"), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aHugeSliceOverUnmappedMemoryIsEfaultNotAHugeBuffer(Profile profile) {
        start(profile);
        long unmapped = BASE + 64 * PAGE;
        ErrnoException e = cheaply(Errno.EFAULT, () -> UserSlice.ro(as, unmapped, Integer.MAX_VALUE - 9).toByteArray());
        assertEquals(0, e.done());
        cheaply(Errno.EFAULT, () -> UserSlice.ro(as, unmapped, Integer.MAX_VALUE - 9).copyToString());
        ErrnoException f = cheaply(Errno.EFAULT, () -> UserSlice.ro(as, buf, Integer.MAX_VALUE - 9).toByteArray());
        assertEquals(2 * PAGE, f.done(), "the bytes the guest has are counted");
        if (profile.checksAccess()) {
            cheaply(Errno.EFAULT, () -> UserConstPtr.of(as, buf, ValueLayout.JAVA_BYTE).getAsSlice(Integer.MAX_VALUE - 16));
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aLongCopyStillComesBackWhole(Profile profile) {
        start(profile);
        long big = as.mmap(0, 3 * Faults.FIRST_BUFFER + 5, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        byte[] data = pattern(3 * Faults.FIRST_BUFFER + 5, 11);
        write(as, big, data);
        assertArrayEquals(data, UserSlice.ro(as, big, data.length).toByteArray());
        byte[] viaPtr = UserConstPtr.of(as, big, ValueLayout.JAVA_BYTE).getAsSlice(data.length).toArray(ValueLayout.JAVA_BYTE);
        assertArrayEquals(data, viaPtr);
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aFailedCopyFromUserLeavesZerosNotOldKernelBytes(Profile profile) {
        start(profile);
        byte[] kernel = filled(100, 0x77);
        ErrnoException e = assertErrno(Errno.EFAULT, () -> UserSlice.ro(as, buf + 2 * PAGE - 40, 100).copyToSlice(kernel));
        assertEquals(40, e.done());
        byte[] want = new byte[100];
        Arrays.fill(want, 0, 40, (byte) 'a');
        assertArrayEquals(want, kernel);
    }
}
