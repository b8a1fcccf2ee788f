package dev.usercopy.mm;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Defects a code review found, each kept as the behaviour Linux has. */
class ReviewFindingsTest extends MmScenario {
    static final int RW = Prot.READ | Prot.WRITE;

    @TempDir
    Path dir;

    @Test
    void mapFixedPopulateOverTheOnlyMappingOfAFilePageKeepsRefcountsRight() throws Exception {
        Path f = dir.resolve("f");
        Files.write(f, new byte[(int) PAGE * 2]);
        machine();
        AddressSpace a = space();
        long x = a.mmapFile(BASE, PAGE, RW, MapFlags.SHARED, f, 0);
        writeByte(a, x, 7);
        a.mmapFile(BASE, PAGE, RW, MapFlags.SHARED | MapFlags.FIXED | MapFlags.POPULATE, f, 0);
        check();
        assertEquals(7, readByte(a, x), "the page written through the old mapping, seen through the new one");
    }

    @Test
    void aBorrowerCannotWriteWhatTheLenderMayOnlyRead() {
        machine();
        AddressSpace lender = space();
        AddressSpace borrower = space();
        long l = lender.mmap(0, 2 * PAGE, Prot.READ, MapFlags.PRIVATE);
        long b = borrower.mmapExternal(0, 2 * PAGE, RW, MapFlags.SHARED, lender, l);
        assertEquals(1, borrower.copyToUser(b, new byte[] {7}, 0, 1), "a write first");
        assertEquals(0, readByte(borrower, b + PAGE));
        assertEquals(1, borrower.copyToUser(b + PAGE, new byte[] {9}, 0, 1), "a write after a read");
        assertEquals(0, readByte(lender, l + PAGE));
        check();
    }

    @Test
    void writesThroughABorrowedSharedFilePageReachTheFile() throws Exception {
        Path f = dir.resolve("g");
        Files.write(f, new byte[(int) PAGE]);
        machine();
        AddressSpace lender = space();
        AddressSpace borrower = space();
        long fl = lender.mmapFile(0, PAGE, RW, MapFlags.SHARED, f, 0);
        long fb = borrower.mmapExternal(0, PAGE, RW, MapFlags.SHARED, lender, fl);
        assertEquals(0, readByte(borrower, fb));
        writeByte(borrower, fb, 0x5a);
        lender.msync(fl, PAGE);
        assertEquals(0x5a, Files.readAllBytes(f)[0]);
        check();
    }

    @Test
    void aPageNoLongerLentIsCopyOnWriteAgainAtFork() {
        machine();
        AddressSpace a = space();
        AddressSpace c = space();
        long x = a.mmap(0, PAGE, RW, MapFlags.PRIVATE);
        writeByte(a, x, 1);
        long y = c.mmapExternal(0, PAGE, RW, MapFlags.SHARED, a, x);
        assertEquals(1, readByte(c, y));
        c.munmap(y, PAGE);
        AddressSpace child = fork(a);
        writeByte(a, x, 2);
        assertEquals(1, readByte(child, x), "the child keeps its snapshot");
        writeByte(child, x, 3);
        assertEquals(2, readByte(a, x), "the parent keeps its own write");
        check();
    }

    @Test
    void mapFixedPunchingHolesStaysInsideTheVmaBudget() {
        machine(small().withVmaBudget(40));
        AddressSpace a = space();
        long x = a.mmap(BASE, 200 * PAGE, RW, MapFlags.PRIVATE | MapFlags.POPULATE);
        boolean refused = false;
        for (int i = 1; i < 200 && !refused; i += 2) {
            try {
                a.mmap(x + i * PAGE, PAGE, Prot.READ, MapFlags.PRIVATE | MapFlags.FIXED);
            } catch (ErrnoException e) {
                assertEquals(dev.usercopy.uapi.Errno.ENOMEM, e.errno());
                refused = true;
            }
            check();
        }
        assertEquals(true, refused, "100 holes in one mapping cannot fit a budget of 40");
        assertEquals(true, mm.stats().vmas() <= 40, mm.stats().vmas() + " host mappings with a budget of 40");
        a.munmap(x, 200 * PAGE);
        check();
    }

    @Test
    void aPrivateFileMappingReadsWhatTheSharedMappingsWrote() throws Exception {
        Path f = dir.resolve("h");
        Files.write(f, new byte[(int) PAGE]);
        machine();
        AddressSpace a = space();
        long s = a.mmapFile(0, PAGE, RW, MapFlags.SHARED, f, 0);
        writeByte(a, s, 0x77);
        long p = a.mmapFile(0, PAGE, RW, MapFlags.PRIVATE, f, 0);
        assertEquals(0x77, readByte(a, p));
        check();
    }

    @Test
    void borrowingFromYourselfIsEfaultNotARunawayRecursion() {
        machine();
        AddressSpace a = space();
        long x = BASE;
        a.mmapExternal(x, PAGE, RW, MapFlags.SHARED | MapFlags.FIXED, a, x);
        assertEquals(1, a.copyFromUser(new byte[1], 0, x, 1));
        check();
    }

    @Test
    void faultAroundOverScatteredPageCacheFramesStaysInsideTheVmaBudget() throws Exception {
        Path f = dir.resolve("scattered");
        Files.write(f, new byte[(int) PAGE * 16]);
        machine(small().withVmaBudget(12));
        AddressSpace a = space();
        // Cache the file's pages in reverse order, one single-page mapping each (kept mapped, so
        // they stay cached), so their frames run backwards: no two neighbouring file pages sit in
        // neighbouring frames.
        AddressSpace keeper = space();
        for (int i = 15; i >= 0; i--) {
            long one = keeper.mmapFile(0, PAGE, Prot.READ, MapFlags.SHARED, f, i * PAGE);
            assertEquals(0, readByte(keeper, one));
        }
        check();
        long budgetLeft = 12 - mm.stats().vmas();
        long x = a.mmapFile(0, 16 * PAGE, RW, MapFlags.SHARED, f, 0);
        try {
            readByte(a, x); // fault-around over 16 cached, scattered frames
        } catch (ErrnoException e) {
            assertEquals(dev.usercopy.uapi.Errno.ENOMEM, e.errno());
        }
        check();
        assertEquals(true, mm.stats().vmas() <= 12, mm.stats().vmas() + " host mappings with a budget of 12 (" + budgetLeft + " were left)");
    }
}
