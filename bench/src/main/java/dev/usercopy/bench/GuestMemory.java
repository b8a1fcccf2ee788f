package dev.usercopy.bench;

import dev.usercopy.platform.Posix;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.usercopy.platform.Posix.MAP_ANONYMOUS;
import static dev.usercopy.platform.Posix.MAP_PRIVATE;
import static dev.usercopy.platform.Posix.PROT_READ;
import static dev.usercopy.platform.Posix.PROT_WRITE;

/**
 * Host memory standing in for guest ("user") memory: a private anonymous
 * mapping, page aligned, with every byte written once so that copies hit real
 * pages rather than the shared zero page and take no page faults while
 * measured.
 */
final class GuestMemory implements AutoCloseable {
    /** The largest misalignment a benchmark may ask for; buffers carry this much slack. */
    static final int MAX_MISALIGN = 63;

    private final long base;
    private final long length;

    private GuestMemory(long base, long length) {
        this.base = base;
        this.length = length;
    }

    /** Maps at least {@code bytes} bytes, rounded up to whole pages, and fills them with {@link #pattern}. */
    static GuestMemory map(long bytes) {
        long page = Posix.PAGE_SIZE;
        long length = (bytes + page - 1) / page * page;
        long base = Posix.mmap(0, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        GuestMemory guest = new GuestMemory(base, length);
        MemorySegment all = guest.segment(0, length);
        for (long i = 0; i < length; i++) {
            all.set(ValueLayout.JAVA_BYTE, i, pattern(i));
        }
        return guest;
    }

    /** The byte {@link #map} writes at offset {@code i}: not constant, so a wrong offset shows in a check. */
    static byte pattern(long i) {
        return (byte) (i * 31 + 7 + (i >>> 12));
    }

    /** Host address of byte {@code offset} of the mapping. */
    long address(long offset) {
        return base + offset;
    }

    /** A view of {@code size} bytes at {@code offset}, for the copies that take segments. */
    MemorySegment segment(long offset, long size) {
        if (offset < 0 || size < 0 || offset + size > length) {
            throw new IndexOutOfBoundsException(offset + "+" + size + " outside a mapping of " + length);
        }
        return Posix.segment(base + offset, size);
    }

    static void checkMisalign(String name, int value) {
        if (value < 0 || value > MAX_MISALIGN) {
            throw new IllegalArgumentException(name + " must be in 0.." + MAX_MISALIGN + ", not " + value);
        }
    }

    /**
     * Fails unless a copy reported every byte copied and {@code actual} equals
     * {@code expected}: a benchmark that measures a broken copy measures nothing.
     */
    static void check(String what, long notCopied, MemorySegment expected, MemorySegment actual) {
        if (notCopied != 0) {
            throw new IllegalStateException(what + ": " + notCopied + " bytes not copied");
        }
        long at = expected.mismatch(actual);
        if (at != -1) {
            throw new IllegalStateException(what + ": copy differs at byte " + at);
        }
    }

    @Override
    public void close() {
        Posix.munmap(base, length);
    }
}
