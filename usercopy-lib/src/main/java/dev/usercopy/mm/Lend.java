package dev.usercopy.mm;

import dev.usercopy.uapi.Errno;

/**
 * A guest buffer of one address space lent to another (Redox's head/tail
 * buffers). The borrower sees the buffer at {@link #address()} in a range of
 * its own: the pages the buffer covers whole are the lender's own frames
 * (an External grant, so writes go both ways at once); the partial first
 * and last pages are private copies that hold only the buffer's bytes, zero
 * elsewhere, so the borrower can read nothing of the lender beyond the
 * buffer.
 *
 * <p>{@link #close} ends the lend: for a writable lend it first copies the
 * buffer's bytes of the head and tail pages back to the lender, then unmaps
 * the borrower's range.
 */
public final class Lend implements AutoCloseable {
    private static final long PAGE = AddressSpace.PAGE;

    private final AddressSpace lender;
    private final AddressSpace borrower;
    private final long lenderAddress;
    private final long length;
    private final long base;
    private final long pages;
    private final boolean writable;
    /** The buffer's bytes that live in private copies: [start, end) in lender addresses, head then tail; empty ranges allowed. */
    private final long[] copied;
    private boolean closed;

    private Lend(AddressSpace lender, AddressSpace borrower, long lenderAddress, long length, long base, long pages,
            boolean writable, long[] copied) {
        this.lender = lender;
        this.borrower = borrower;
        this.lenderAddress = lenderAddress;
        this.length = length;
        this.base = base;
        this.pages = pages;
        this.writable = writable;
        this.copied = copied;
    }

    static Lend create(AddressSpace lender, long addr, long length, AddressSpace borrower, boolean writable) {
        if (length <= 0) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "a lent buffer needs a positive length");
        }
        if (!lender.checkAccess(addr, length, writable)) {
            throw new ErrnoException(Errno.EFAULT, addr, length, "the lender does not grant the whole buffer for "
                    + (writable ? "reading and writing" : "reading"));
        }
        long end = addr + length;
        long first = addr / PAGE;
        long last = (end - 1) / PAGE;
        long pages = last - first + 1;
        // Pages the buffer covers whole: [wholeFrom, wholeTo).
        long wholeFrom = addr % PAGE == 0 ? first : first + 1;
        long wholeTo = end % PAGE == 0 ? last + 1 : last;

        long base = borrower.mmap(0, pages * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        try {
            long[] copied;
            if (wholeFrom >= wholeTo) {
                copied = new long[] {addr, end, end, end}; // within one or two partial pages: all copied
            } else {
                borrower.mapLent(base + (wholeFrom - first) * PAGE, (wholeTo - wholeFrom) * PAGE, lender, wholeFrom * PAGE, writable);
                copied = new long[] {addr, wholeFrom * PAGE, wholeTo * PAGE, end};
            }
            for (int i = 0; i < copied.length; i += 2) {
                move(lender, copied[i], borrower, base + (copied[i] - first * PAGE), copied[i + 1] - copied[i]);
            }
            if (!writable) {
                protectCopies(borrower, base, first, wholeFrom, wholeTo, last);
            }
            return new Lend(lender, borrower, addr, length, base, pages, writable, copied);
        } catch (RuntimeException e) {
            borrower.munmap(base, pages * PAGE);
            throw e;
        }
    }

    private static void protectCopies(AddressSpace borrower, long base, long first, long wholeFrom, long wholeTo, long last) {
        if (wholeFrom >= wholeTo) {
            borrower.mprotect(base, (last - first + 1) * PAGE, Prot.READ);
            return;
        }
        if (wholeFrom > first) {
            borrower.mprotect(base, PAGE, Prot.READ);
        }
        if (wholeTo <= last) {
            borrower.mprotect(base + (last - first) * PAGE, PAGE, Prot.READ);
        }
    }

    /** Copies {@code n} guest bytes from one space to another through a kernel buffer; EFAULT if either side refuses. */
    private static void move(AddressSpace from, long fromAddr, AddressSpace to, long toAddr, long n) {
        if (n == 0) {
            return;
        }
        byte[] buf = new byte[(int) n]; // at most a page
        long left = from.copyFromUser(buf, 0, fromAddr, buf.length);
        if (left != 0) {
            throw new ErrnoException(Errno.EFAULT, fromAddr, n, n - left, "cannot read the lent bytes");
        }
        left = to.copyToUser(toAddr, buf, 0, buf.length);
        if (left != 0) {
            throw new ErrnoException(Errno.EFAULT, toAddr, n, n - left, "cannot write the lent bytes");
        }
    }

    /**
     * {@return the buffer's guest address in the borrower: its offset in its
     * first page is the same as in the lender}
     */
    public long address() {
        return base + lenderAddress % PAGE;
    }

    /** {@return the buffer's length in bytes, the same in lender and borrower} */
    public long length() {
        return length;
    }

    /**
     * {@return whether the borrower may write the buffer (its whole pages are
     * mapped read-write, and {@link #close} copies head and tail back)}
     */
    public boolean writable() {
        return writable;
    }

    /**
     * {@return the guest address of the borrower's range that holds the
     * buffer: whole pages, from {@link #address()} rounded down to a page}
     */
    public long borrowerBase() {
        return base;
    }

    /** {@return the number of pages in the borrower's range, from {@link #borrowerBase()}; {@link #close} unmaps them all} */
    public long borrowerPages() {
        return pages;
    }

    /**
     * Ends the lend: a writable one first copies the borrower's head and tail
     * bytes of the buffer back to the lender; then the borrower's range is
     * unmapped. If the borrower unmapped or protected its copies, or the
     * lender its buffer, the bytes that could not move are reported as EFAULT
     * after the range is gone. Closing twice does nothing.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        ErrnoException lost = null;
        if (writable) {
            for (int i = 0; i < copied.length; i += 2) {
                try {
                    move(borrower, base + (copied[i] - lenderAddress / PAGE * PAGE), lender, copied[i], copied[i + 1] - copied[i]);
                } catch (ErrnoException e) {
                    lost = lost == null ? e : lost;
                }
            }
        }
        borrower.munmap(base, pages * PAGE);
        if (lost != null) {
            throw new ErrnoException(Errno.EFAULT, lenderAddress, length, "ending the lend lost head or tail bytes: " + lost.getMessage());
        }
    }
}
