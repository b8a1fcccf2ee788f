package dev.usercopy.mm;

import org.junit.jupiter.api.Test;

import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** PhysBorrowed (device frames) and External (another address space's pages) grants. */
class BorrowedMemoryTest extends MmScenario {

    @Test
    void deviceFramesAreSharedByEveryMapperAndNeverAllocated() {
        machine();
        AddressSpace a = space();
        AddressSpace b = space();
        long device = mm.config().frames() - mm.config().deviceFrames();
        long used = used();
        long pa = a.mmapPhysical(0, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.SHARED, device);
        long pb = b.mmapPhysical(0, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.SHARED, device);
        writeByte(a, pa + PAGE + 5, 77);
        check();
        assertEquals(77, readByte(b, pb + PAGE + 5), "b sees a's write to the device frame");
        assertEquals(device + 1, frame(a, pa + PAGE));
        assertEquals(used, used(), "device frames do not come from the allocator");
        AddressSpace child = fork(a);
        writeByte(child, pa, 9);
        check();
        assertEquals(9, readByte(a, pa), "device memory stays shared across fork");
    }

    @Test
    void onlyDeviceFramesCanBeMappedPhysically() {
        machine();
        AddressSpace a = space();
        ErrnoException e = assertThrows(ErrnoException.class, () -> a.mmapPhysical(0, PAGE, Prot.READ, MapFlags.SHARED, MemoryManager.ZERO_RUN));
        assertEquals(Errno.EINVAL, e.errno());
        long last = mm.config().frames() - 1;
        assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> a.mmapPhysical(0, 2 * PAGE, Prot.READ, MapFlags.SHARED, last)).errno());
        check();
    }

    @Test
    void aBorrowerAndItsLenderSeeEachOthersWrites() {
        machine();
        AddressSpace lender = space();
        AddressSpace borrower = space();
        long l = lender.mmap(0, 4 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        write(lender, l + PAGE, pattern(100, 3));
        long b = borrower.mmapExternal(0, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.SHARED, lender, l + PAGE);
        assertBytes(pattern(100, 3), borrower, b);
        writeByte(borrower, b + 10, 100);
        assertEquals(100, readByte(lender, l + PAGE + 10), "the borrower's write reaches the lender");
        writeByte(lender, l + 2 * PAGE + 1, 55);
        assertEquals(55, readByte(borrower, b + PAGE + 1), "the lender's write reaches the borrower, on a page it had only read as zeros");
        assertEquals(frame(lender, l + PAGE), frame(borrower, b));
        check();
        assertEquals(PAGE, borrower.copyToUser(b + PAGE, new byte[(int) (2 * PAGE)], 0, (int) (2 * PAGE)), "the borrow ends where the lent range ends");
    }

    @Test
    void lendingACopyOnWritePageGivesTheLenderItsOwnFrameFirst() {
        machine();
        AddressSpace lender = space();
        long l = lender.mmap(0, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        writeByte(lender, l, 1);
        AddressSpace child = fork(lender);
        AddressSpace borrower = space();
        long b = borrower.mmapExternal(0, PAGE, Prot.READ | Prot.WRITE, MapFlags.SHARED, lender, l);
        assertEquals(1, readByte(borrower, b), "a read borrows the page first");
        writeByte(borrower, b, 2);
        check();
        assertEquals(2, readByte(lender, l), "the lender sees the borrower's write");
        assertEquals(1, readByte(child, l), "the forked child keeps its copy-on-write snapshot");
        assertNotEquals(frame(child, l), frame(lender, l));
        writeByte(child, l, 3);
        assertEquals(2, readByte(lender, l), "the child's later write stays in the child");
        assertEquals(2, readByte(borrower, b));
        check();
    }

    @Test
    void aReadOnlyBorrowRefusesWrites() {
        machine();
        AddressSpace lender = space();
        AddressSpace borrower = space();
        long l = lender.mmap(0, PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        writeByte(lender, l, 4);
        long b = borrower.mmapExternal(0, PAGE, Prot.READ, MapFlags.SHARED, lender, l);
        assertEquals(4, readByte(borrower, b));
        assertEquals(1, borrower.copyToUser(b, new byte[] {9}, 0, 1));
        assertEquals(4, readByte(lender, l));
        check();
    }
}
