package dev.usercopy.mm;

/**
 * A mapped guest range: pages [start, start + pages), its protection and its provider.
 *
 * @param start the first guest page number (a guest address divided by {@link AddressSpace#PAGE})
 * @param pages the number of pages, at least 1
 * @param prot the protection granted, {@link Prot} bits
 * @param provider where the frames come from and what fork does with them
 */
public record Grant(long start, long pages, int prot, Provider provider) {
    /** {@return the guest page number just past the grant (exclusive)} */
    public long end() {
        return start + pages;
    }

    boolean contains(long page) {
        return page >= start && page < start + pages;
    }

    /** The part of this grant within [from, to). */
    Grant slice(long from, long to) {
        long s = Math.max(start, from);
        long e = Math.min(end(), to);
        return new Grant(s, e - s, prot, provider.skip(s - start));
    }

    Grant withProt(int newProt) {
        return new Grant(start, pages, newProt, provider);
    }
}
