package dev.usercopy.faultinjection;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.mm.Prot;

/**
 * A {@link Layout} of guest kinds in a new address space of a machine, with
 * a fork taken after the pages were filled (so filled private pages are
 * copy-on-write shared with it until written) and host files behind the file
 * kinds.
 *
 * <p>Building it settles the model's bytes that are not free to choose: lazy
 * pages hold zeros, a file tail page holds the tail file's bytes then zeros.
 */
final class GuestLayout implements UserMemory {
    private static final int PAGE = Layout.PAGE;
    /** Bytes of the tail file: its one page is partial, and every page past it is past EOF. */
    static final int TAIL_BYTES = 1000;

    private final AddressSpace space;
    private final AddressSpace fork;
    private final long base;
    private final PageKind[] kinds;
    /** What a page that is not present yet would show on its first fault. */
    private final byte[] pristine;
    /** The model when the fork was taken: what the fork must still see in its private pages. */
    private final byte[] atFork;
    private final Path file;
    private final Path tail;

    GuestLayout(MemoryManager mm, Layout model, long base, Path dir, boolean pastEofShared) {
        this.base = base;
        this.kinds = model.kinds.clone();
        byte[] c = model.content;
        byte[] tailBytes = new byte[TAIL_BYTES];
        int firstTail = Arrays.asList(kinds).indexOf(PageKind.FILE_TAIL);
        if (firstTail >= 0) {
            System.arraycopy(c, firstTail * PAGE, tailBytes, 0, TAIL_BYTES);
        }
        for (int p = 0; p < kinds.length; p++) {
            switch (kinds[p]) {
                case LAZY, LAZY_RO -> Arrays.fill(c, p * PAGE, (p + 1) * PAGE, (byte) 0);
                case FILE_TAIL -> {
                    System.arraycopy(tailBytes, 0, c, p * PAGE, TAIL_BYTES);
                    Arrays.fill(c, p * PAGE + TAIL_BYTES, (p + 1) * PAGE, (byte) 0);
                }
                default -> { }
            }
        }
        pristine = c.clone();
        // The same two names for every layout in a directory: the manager keeps a file's channel open
        // until it closes, one per distinct file ever mapped, so fresh names would run it out of fds.
        // A layout's address spaces are closed before the next is built, so its page cache is empty.
        file = dir.resolve("layout.bin");
        tail = dir.resolve("tail.bin");
        try {
            Files.write(file, c); // page i of the layout is page i of the file
            Files.write(tail, tailBytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        space = mm.newAddressSpace();
        AddressSpace forked = null;
        try {
            int p = 0;
            while (p < kinds.length) {
                int q = p;
                while (q < kinds.length && kinds[q] == kinds[p]) {
                    q++;
                }
                map(kinds[p], p, q - p, c, pastEofShared);
                p = q;
            }
            atFork = c.clone();
            forked = space.fork();
            for (int r = 0; r < kinds.length; r++) {
                if (kinds[r] == PageKind.RW) { // written after the fork: private again
                    check(space.copyToUser(base + (long) r * PAGE, c, r * PAGE, PAGE), r, "rewrite");
                }
            }
        } catch (RuntimeException | Error e) {
            if (forked != null) {
                forked.close();
            }
            space.close();
            throw e;
        }
        fork = forked;
    }

    private static void check(long notCopied, int page, String what) {
        if (notCopied != 0) {
            throw new IllegalStateException("building the layout: " + what + " of page " + page + " left " + notCopied + " bytes");
        }
    }

    private void map(PageKind kind, int page, int count, byte[] c, boolean pastEofShared) {
        long at = base + (long) page * PAGE;
        long len = (long) count * PAGE;
        int rw = Prot.READ | Prot.WRITE;
        int fixed = MapFlags.FIXED;
        switch (kind) {
            case UNMAPPED -> { }
            case NONE -> space.mmap(at, len, Prot.NONE, MapFlags.PRIVATE | fixed);
            case LAZY -> space.mmap(at, len, rw, MapFlags.PRIVATE | fixed);
            case LAZY_RO -> space.mmap(at, len, Prot.READ, MapFlags.PRIVATE | fixed);
            case RO, RW, COW, SHARED -> {
                space.mmap(at, len, rw, (kind == PageKind.SHARED ? MapFlags.SHARED : MapFlags.PRIVATE) | fixed);
                check(space.copyToUser(at, c, page * PAGE, (int) len), page, "fill");
                if (kind == PageKind.RO) {
                    space.mprotect(at, len, Prot.READ);
                }
            }
            case FILE_PRIVATE -> space.mmapFile(at, len, rw, MapFlags.PRIVATE | fixed, file, (long) page * PAGE);
            case FILE_SHARED -> space.mmapFile(at, len, rw, MapFlags.SHARED | fixed, file, (long) page * PAGE);
            case FILE_TAIL -> {
                for (int i = 0; i < count; i++) {
                    space.mmapFile(at + (long) i * PAGE, PAGE, rw, MapFlags.PRIVATE | fixed, tail, 0);
                }
            }
            case PAST_EOF -> space.mmapFile(at, len, rw, (pastEofShared ? MapFlags.SHARED : MapFlags.PRIVATE) | fixed, tail, PAGE);
            default -> throw new IllegalArgumentException(kind + " is not a guest kind");
        }
    }

    AddressSpace space() {
        return space;
    }

    @Override
    public long address(long offset) {
        return base + offset;
    }

    @Override
    public boolean peekPage(int page, byte[] dst) {
        if (!kinds[page].readable) {
            return false;
        }
        if (!space.peekPage(base + (long) page * PAGE, dst)) {
            System.arraycopy(pristine, page * PAGE, dst, 0, PAGE);
        }
        return true;
    }

    /**
     * The fork's view: its private pages still hold what they held at the
     * fork, its shared pages what the model holds now. Checks the pages the
     * fork has present; returns a description of the first difference, or null.
     */
    String checkFork(Layout model) {
        byte[] page = new byte[PAGE];
        for (int p = 0; p < kinds.length; p++) {
            if (!kinds[p].readable || !fork.peekPage(base + (long) p * PAGE, page)) {
                continue;
            }
            byte[] want = kinds[p].sharedWithFork() ? model.content : atFork;
            int d = Arrays.mismatch(page, 0, PAGE, want, p * PAGE, (p + 1) * PAGE);
            if (d >= 0) {
                return "the fork's page " + p + " (" + kinds[p] + ") byte " + d + " is " + page[d] + ", want " + want[p * PAGE + d];
            }
        }
        return null;
    }

    /** After msync, the file holds the model's bytes in every shared file page; returns the first difference or null. */
    String checkFile(Layout model) {
        for (int p = 0; p < kinds.length; p++) {
            if (kinds[p] == PageKind.FILE_SHARED) {
                space.msync(base + (long) p * PAGE, PAGE);
            }
        }
        byte[] onDisk;
        try {
            onDisk = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (int p = 0; p < kinds.length; p++) {
            if (kinds[p] == PageKind.FILE_SHARED) {
                int d = Arrays.mismatch(onDisk, p * PAGE, (p + 1) * PAGE, model.content, p * PAGE, (p + 1) * PAGE);
                if (d >= 0) {
                    return "the file's page " + p + " byte " + d + " is " + onDisk[p * PAGE + d] + " after msync, want " + model.content[p * PAGE + d];
                }
            }
        }
        return null;
    }

    @Override
    public void close() {
        fork.close();
        space.close();
    }
}
