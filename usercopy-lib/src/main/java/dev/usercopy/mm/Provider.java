package dev.usercopy.mm;

/**
 * Where a grant's frames come from and what fork does with them (Redox's
 * grant providers).
 */
public sealed interface Provider {
    /** The provider of the part of a grant that starts {@code pages} pages in. */
    Provider skip(long pages);

    /** Whether writes through any mapping reach the one frame (no copy-on-write). */
    boolean shared();

    /**
     * Owned memory, private: lazily backed by the zeroed frames, or by the
     * file when {@code cowFile} is set (a private file mapping); copy-on-write
     * after fork.
     */
    record Allocated(FileRef cowFile) implements Provider {
        public static final Allocated ANONYMOUS = new Allocated(null);

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

    /** Frames outside the allocator, starting at {@code base} (device memory): not refcounted. */
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

    /** A shared mapping of a host file: writes reach the file on msync. */
    record FmapBorrowed(FileRef file) implements Provider {
        @Override
        public Provider skip(long pages) {
            return new FmapBorrowed(file.at(pages));
        }

        @Override
        public boolean shared() {
            return true;
        }
    }
}
