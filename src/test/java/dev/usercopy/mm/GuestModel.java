package dev.usercopy.mm;

import java.util.Map;
import java.util.TreeMap;

import dev.usercopy.platform.HostKernel;

/**
 * A plain-Java model of guest memory for {@link RandomOpsTest}: what every
 * guest byte of an address space should read, and which bytes the guest may
 * read or write. No frames, no page tables, no laziness: a page is mapped or
 * not, with a protection, and holds 4096 bytes.
 *
 * <p>A {@link Page} is the memory object behind one guest page. A private
 * page belongs to one address space (fork copies its bytes); a shared page
 * (MAP_SHARED) is one object that every address space forked from the mapper
 * points at, so a write through any of them is seen by all. The protection is
 * per address space (mprotect in a child leaves the parent alone), so it sits
 * in the {@link Mapping}, not in the page.
 *
 * <p>Access rules follow Linux on x86, which is what {@link AddressSpace}
 * implements: a readable or writable page can be read (the hardware cannot
 * make a page writable but not readable), an execute-only one as the host
 * decides ({@link HostKernel#EXEC_ONLY_READABLE}: not with protection keys);
 * only PROT_WRITE can be written.
 */
final class GuestModel {
    static final int PAGE = (int) AddressSpace.PAGE;

    private GuestModel() {}

    /** The memory object behind a guest page: lazily all zeros. */
    static final class Page {
        final boolean shared;
        private byte[] data; // null: all zeros

        Page(boolean shared) {
            this.shared = shared;
        }

        byte get(int offset) {
            return data == null ? 0 : data[offset];
        }

        void set(int offset, byte b) {
            if (data == null) {
                if (b == 0) {
                    return;
                }
                data = new byte[PAGE];
            }
            data[offset] = b;
        }

        void zero() {
            data = null;
        }

        /** A private copy with the same bytes (what fork gives the child for a private page). */
        Page privateCopy() {
            Page p = new Page(false);
            p.data = data == null ? null : data.clone();
            return p;
        }

        /** The whole page's bytes (a copy). */
        byte[] bytes() {
            return data == null ? new byte[PAGE] : data.clone();
        }
    }

    /** One address space's view of one guest page. */
    record Mapping(int prot, Page page) {}

    /** One address space: guest page number -> mapping. */
    static final class Space {
        final int id;
        final TreeMap<Long, Mapping> pages = new TreeMap<>();

        Space(int id) {
            this.id = id;
        }

        Mapping at(long page) {
            return pages.get(page);
        }

        boolean readable(long page) {
            Mapping m = pages.get(page);
            return m != null && ((m.prot() & (Prot.READ | Prot.WRITE)) != 0 || (m.prot() & Prot.EXEC) != 0 && HostKernel.EXEC_ONLY_READABLE);
        }

        boolean writable(long page) {
            Mapping m = pages.get(page);
            return m != null && (m.prot() & Prot.WRITE) != 0;
        }

        /** mmap with MAP_FIXED: replaces whatever was in [start, start + n) with fresh zero pages. */
        void map(long start, long n, int prot, boolean shared) {
            for (long p = start; p < start + n; p++) {
                pages.put(p, new Mapping(prot, new Page(shared)));
            }
        }

        void unmap(long start, long n) {
            pages.subMap(start, true, start + n, false).clear();
        }

        boolean anyMapped(long start, long n) {
            return !pages.subMap(start, true, start + n, false).isEmpty();
        }

        boolean allMapped(long start, long n) {
            return pages.subMap(start, true, start + n, false).size() == n;
        }

        void protect(long start, long n, int prot) {
            for (long p = start; p < start + n; p++) {
                pages.put(p, new Mapping(prot, pages.get(p).page()));
            }
        }

        /** MADV_DONTNEED on the mapped pages of a range: private pages read as zeros after; shared pages keep their bytes. */
        void dontNeed(long start, long n) {
            for (Mapping m : pages.subMap(start, true, start + n, false).values()) {
                if (!m.page().shared) {
                    m.page().zero();
                }
            }
        }

        /** The first unmapped page of [start, start + n), or -1. */
        long firstHole(long start, long n) {
            for (long p = start; p < start + n; p++) {
                if (!pages.containsKey(p)) {
                    return p;
                }
            }
            return -1;
        }

        /** fork: private pages are copied, shared pages are the same objects; protections are kept. */
        Space fork(int childId) {
            Space child = new Space(childId);
            for (Map.Entry<Long, Mapping> e : pages.entrySet()) {
                Mapping m = e.getValue();
                child.pages.put(e.getKey(), m.page().shared ? m : new Mapping(m.prot(), m.page().privateCopy()));
            }
            return child;
        }

        /** Bytes from {@code addr} the guest may access (read or write) before the first it may not, at most {@code length}. */
        long accessible(long addr, long length, boolean write) {
            long done = 0;
            while (done < length) {
                long at = addr + done;
                long page = Math.floorDiv(at, PAGE);
                if (at < 0 || !(write ? writable(page) : readable(page))) {
                    return done;
                }
                done = Math.min(length, (page + 1) * PAGE - addr);
            }
            return length;
        }

        /** {@code length} bytes at {@code addr}, all on mapped pages (the caller checked). */
        byte[] read(long addr, int length) {
            byte[] out = new byte[length];
            int done = 0;
            while (done < length) {
                long at = addr + done;
                int off = Math.floorMod(at, PAGE);
                int piece = Math.min(length - done, PAGE - off);
                Page page = pages.get(Math.floorDiv(at, PAGE)).page();
                if (page.data != null) {
                    System.arraycopy(page.data, off, out, done, piece);
                }
                done += piece;
            }
            return out;
        }

        /** Writes {@code src[srcOffset, +length)} at {@code addr}, all on mapped pages (the caller checked). */
        void write(long addr, byte[] src, int srcOffset, int length) {
            for (int i = 0; i < length; i++) {
                write(addr + i, src[srcOffset + i]);
            }
        }

        /** A byte of a mapped page (the caller checked it is mapped). */
        byte read(long addr) {
            return pages.get(Math.floorDiv(addr, PAGE)).page().get(Math.floorMod(addr, PAGE));
        }

        void write(long addr, byte b) {
            pages.get(Math.floorDiv(addr, PAGE)).page().set(Math.floorMod(addr, PAGE), b);
        }

        /**
         * What strncpy_from_user returns: the length of the string at {@code addr}
         * if its NUL comes within {@code count} bytes, {@code count} if not, or
         * -EFAULT if an unreadable byte comes before either.
         */
        long strncpy(long addr, int count) {
            for (int i = 0; i < count; i++) {
                long at = addr + i;
                if (!readable(Math.floorDiv(at, PAGE))) {
                    return -14;
                }
                if (read(at) == 0) {
                    return i;
                }
            }
            return count;
        }
    }
}
