package dev.usercopy.mm;

/**
 * Where a grant's frames come from and what fork does with them (Redox's
 * grant providers).
 */
public sealed interface Provider {
    /**
     * The provider for the part of a grant that starts some pages in, when a
     * grant is split (munmap, mprotect of part of it).
     *
     * @param pages how many pages in the part starts, 0 or more
     * @return a provider whose first page is this one's page {@code pages}
     */
    Provider skip(long pages);

    /** {@return whether writes through any mapping reach the one frame (no copy-on-write, in this space or across fork)} */
    boolean shared();

    /**
     * Owned memory, private: lazily backed by the zeroed frames, or by the
     * file when {@code cowFile} is set (a private file mapping); copy-on-write
     * after fork.
     *
     * @param cowFile the file range a page is read from on its first touch, or
     *        {@code null} for anonymous memory
     */
    record Allocated(FileRef cowFile) implements Provider {
        /** Private anonymous memory (MAP_PRIVATE | MAP_ANONYMOUS): zero-filled on first touch. */
        static final Allocated ANONYMOUS = new Allocated(null);

        @Override
        public Provider skip(long pages) {
            return cowFile == null ? this : new Allocated(cowFile.at(pages));
        }

        @Override
        public boolean shared() {
            return false;
        }
    }

    /** Owned memory that stays shared across fork (MAP_SHARED | MAP_ANONYMOUS). */
    record AllocatedShared() implements Provider {
        @Override
        public Provider skip(long pages) {
            return this;
        }

        @Override
        public boolean shared() {
            return true;
        }
    }

    /**
     * Frames outside the allocator (device memory): not refcounted.
     *
     * @param base the frame number behind the grant's first page; page {@code i} is frame {@code base + i}
     */
    record PhysBorrowed(long base) implements Provider {
        @Override
        public Provider skip(long pages) {
            return new PhysBorrowed(base + pages);
        }

        @Override
        public boolean shared() {
            return true;
        }
    }

    /**
     * Pages borrowed from another address space, starting at its guest page
     * {@code page}. {@code mayWrite}: whether the borrower may ever write
     * them (Linux's VM_MAYWRITE: mprotect cannot add write beyond it).
     * {@code lent}: made by a {@link Lend}, which must be able to take it all
     * back, so a fork does not inherit it (VM_DONTCOPY).
     *
     * @param lender the address space whose pages these are
     * @param page the lender's guest page number behind the grant's first page
     * @param mayWrite whether the borrower may ever write the pages
     * @param lent whether a {@link Lend} made the grant
     */
    record External(AddressSpace lender, long page, boolean mayWrite, boolean lent) implements Provider {
        @Override
        public Provider skip(long pages) {
            return new External(lender, page + pages, mayWrite, lent);
        }

        @Override
        public boolean shared() {
            return true;
        }
    }

    /**
     * A shared mapping of a host file: writes reach the file on msync.
     *
     * @param file the file range behind the grant's first page
     * @param mayWrite whether the mapping may be writable, now or after an mprotect (Linux's VM_MAYWRITE: the file
     *     was opened for writing)
     */
    record FmapBorrowed(FileRef file, boolean mayWrite) implements Provider {
        @Override
        public Provider skip(long pages) {
            return new FmapBorrowed(file.at(pages), mayWrite);
        }

        @Override
        public boolean shared() {
            return true;
        }
    }
}
