package dev.usercopy.uaccess;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.Lend;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MmScenario;
import dev.usercopy.mm.Prot;
import dev.usercopy.platform.Errno;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Lending a guest buffer to another address space (Redox's head/tail buffers): the borrower sees the buffer and nothing else. */
class LendTest extends MmScenario {
    private AddressSpace lender;
    private AddressSpace borrower;
    /** Six pages of the lender, every byte non-zero. */
    private long region;
    private byte[] secret;

    @BeforeEach
    void map() {
        machine();
        lender = space();
        borrower = space();
        region = lender.mmap(BASE, 6 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        secret = pattern((int) (6 * PAGE), 7);
        for (int i = 0; i < secret.length; i++) {
            secret[i] |= 1; // no zero byte, so a zero in the borrower is never the lender's
        }
        write(lender, region, secret);
    }

    /**
     * Reads every byte of every borrowed page: inside the buffer, the
     * lender's bytes; outside it, zeros only.
     */
    private void assertBorrowerSeesOnlyTheBuffer(Lend lend, long offset, int length) {
        byte[] seen = read(borrower, lend.borrowerBase(), (int) (lend.borrowerPages() * PAGE));
        long start = lend.address() - lend.borrowerBase();
        assertEquals(offset % PAGE, start);
        for (int i = 0; i < seen.length; i++) {
            boolean inside = i >= start && i < start + length;
            byte want = inside ? secret[(int) (offset + i - start)] : 0;
            if (seen[i] != want) {
                throw new AssertionError("borrowed page byte " + i + " is " + seen[i] + ", want " + want + (inside ? " (buffer)" : " (beyond the buffer)"));
            }
        }
    }

    @ParameterizedTest(name = "offset {0}, length {1}")
    @CsvSource({
        "100, 10",         // inside one page
        "100, 8000",       // two partial pages
        "100, 16000",      // head, two whole pages, tail
        "4096, 8192",      // whole pages only
        "4096, 9000",      // whole pages and a tail
        "5000, 7288",      // a head and whole pages
        "0, 24576",        // the whole region
    })
    void theBorrowerReadsTheBufferAndZerosBeyondIt(long offset, int length) {
        try (Lend lend = lender.lend(region + offset, length, borrower, false)) {
            assertEquals(length, lend.length());
            assertBorrowerSeesOnlyTheBuffer(lend, offset, length);
            check();
        }
        check();
    }

    @Test
    void wholePagesAreSharedLiveAndPartialPagesAreCopies() {
        long offset = 100;
        int length = 16000;
        try (Lend lend = UserSlice.rw(lender, region + offset, length).lendTo(borrower)) {
            long wholePage = region + PAGE; // the lender's second page is lent whole
            readByte(borrower, lend.borrowerBase() + PAGE);
            assertEquals(AddressSpace.PageState.SHARED, borrower.pageState(lend.borrowerBase() + PAGE));
            assertEquals(AddressSpace.PageState.PRIVATE, borrower.pageState(lend.borrowerBase()));
            writeByte(lender, wholePage + 5, 0);
            assertEquals(0, readByte(borrower, lend.borrowerBase() + PAGE + 5), "the lender's write is seen at once");
            writeByte(borrower, lend.borrowerBase() + 2 * PAGE + 9, 0x7f);
            assertEquals(0x7f, readByte(lender, region + 2 * PAGE + 9), "the borrower's write is seen at once");
            // The head copy: the borrower's write reaches the lender only when the lend ends.
            writeByte(borrower, lend.address(), 0x11);
            assertEquals(secret[(int) offset], (byte) readByte(lender, region + offset));
            writeByte(borrower, lend.address() + length - 1, 0x22);
            check();
        }
        assertEquals(0x11, readByte(lender, region + offset));
        assertEquals(0x22, readByte(lender, region + offset + length - 1));
        assertEquals(secret[(int) offset - 1], (byte) readByte(lender, region + offset - 1), "nothing before the buffer changes");
        assertEquals(secret[(int) offset + length], (byte) readByte(lender, region + offset + length), "nothing after the buffer changes");
        assertEquals(AddressSpace.PageState.UNMAPPED, borrower.pageState(BASE));
        check();
    }

    @Test
    void aReadOnlyLendRefusesTheBorrowersWrites() {
        try (Lend lend = UserSlice.ro(lender, region + 100, 16000).lendTo(borrower)) {
            assertEquals(1, borrower.copyToUser(lend.address(), new byte[1], 0, 1), "head copy is read-only");
            assertEquals(1, borrower.copyToUser(lend.borrowerBase() + PAGE, new byte[1], 0, 1), "lent whole page is read-only");
            assertEquals(1, borrower.copyToUser(lend.address() + 16000 - 1, new byte[1], 0, 1), "tail copy is read-only");
        }
        assertBytes(secret, lender, region);
        check();
    }

    @Test
    void aBufferTheLenderDoesNotGrantIsEfault() {
        lender.mprotect(region + 2 * PAGE, PAGE, Prot.READ);
        assertErrno(Errno.EFAULT, () -> lender.lend(region + 100, 3 * (int) PAGE, borrower, true));
        lender.munmap(region + 4 * PAGE, PAGE);
        assertErrno(Errno.EFAULT, () -> lender.lend(region + 3 * PAGE, 2 * PAGE, borrower, false));
        assertErrno(Errno.EINVAL, () -> lender.lend(region, 0, borrower, false));
        assertEquals(0, borrower.grants().size(), "a refused lend maps nothing");
        check();
    }

    @Test
    void aReadOnlyLendStaysReadOnlyWhateverTheBorrowerMprotects() {
        try (Lend lend = UserSlice.ro(lender, region, 4 * PAGE).lendTo(borrower)) {
            ErrnoException e = assertErrno(Errno.EACCES, () -> borrower.mprotect(lend.borrowerBase(), 4 * PAGE, Prot.READ | Prot.WRITE));
            assertEquals(lend.borrowerBase(), e.address());
            assertEquals(1, borrower.copyToUser(lend.address(), new byte[] {0x11}, 0, 1));
        }
        assertBytes(secret, lender, region);
        check();
    }

    /** Linux's mprotect changes the mappings before the one it refuses: here the head copy, not the tail after the lent page. */
    @Test
    void mprotectOverAReadOnlyLendChangesWhatComesBeforeItThenIsEacces() {
        try (Lend lend = UserSlice.ro(lender, region + 100, 2 * PAGE).lendTo(borrower)) {
            long base = lend.borrowerBase();
            assertEquals(3, lend.borrowerPages());
            assertErrno(Errno.EACCES, () -> borrower.mprotect(base, 3 * PAGE, Prot.READ | Prot.WRITE));
            assertEquals(0, borrower.copyToUser(base + 99, new byte[] {0x11}, 0, 1), "the head copy before the lent page became writable");
            assertEquals(1, borrower.copyToUser(base + PAGE, new byte[1], 0, 1), "the lent page stays read-only");
            assertEquals(1, borrower.copyToUser(base + 2 * PAGE, new byte[1], 0, 1), "the tail copy after it was not reached");
        }
        assertBytes(secret, lender, region);
        check();
    }

    @Test
    void aRefusedMprotectInsideOneMappingLeavesItWhole() {
        try (Lend lend = UserSlice.ro(lender, region, 4 * PAGE).lendTo(borrower)) {
            int before = borrower.grants().size();
            assertErrno(Errno.EACCES, () -> borrower.mprotect(lend.borrowerBase() + PAGE, PAGE, Prot.READ | Prot.WRITE));
            assertEquals(before, borrower.grants().size(), "nothing changed, so nothing was split");
        }
        check();
    }

    @Test
    void aForkOfTheBorrowerDoesNotInheritTheLentPages() {
        AddressSpace child;
        long whole;
        try (Lend lend = lender.lend(region + 100, 3 * (int) PAGE, borrower, true)) {
            whole = lend.borrowerBase() + PAGE; // lent whole: the lender's frame
            writeByte(borrower, whole + 1, 0x22);
            child = fork(borrower);
            assertEquals(AddressSpace.PageState.UNMAPPED, child.pageState(whole), "the lent pages stay with the borrower");
            assertEquals(AddressSpace.PageState.COW_SHARED, child.pageState(lend.borrowerBase()), "its own head copy goes with the fork");
            check();
        }
        assertEquals(1, child.copyToUser(whole + 1, new byte[] {0x11}, 0, 1), "the fork cannot reach the lender");
        assertEquals(0x22, readByte(lender, region + PAGE + 1));
        check();
    }

    @ParameterizedTest(name = "offset {0}, length {1}")
    @CsvSource({"100, 16000", "4096, 9000", "5000, 10"})
    void aWritableLendAlsoShowsOnlyTheBuffer(long offset, int length) {
        try (Lend lend = lender.lend(region + offset, length, borrower, true)) {
            assertBorrowerSeesOnlyTheBuffer(lend, offset, length);
        }
        assertBytes(secret, lender, region);
        check();
    }
}
