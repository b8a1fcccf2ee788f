package dev.usercopy.platform;

import java.lang.foreign.MemorySegment;

import static dev.usercopy.platform.libc_h.MAP_FIXED;
import static dev.usercopy.platform.libc_h.MAP_POPULATE;
import static dev.usercopy.platform.libc_h.MAP_SHARED;

/**
 * A memfd playing physical memory: {@code frames} frames of {@link #FRAME_SIZE}
 * bytes, sparse until touched. The kernel reaches frames through one shared
 * view of the whole file (the "direct map"); guests reach them through
 * mappings of file ranges into their {@link Reservation}s.
 *
 * <p>Frame numbers are checked here; who owns a frame is the frame
 * allocator's business, above.
 */
public final class PhysicalMemory implements AutoCloseable {
    public static final long FRAME_SIZE = 4096;

    private final HostMapping view;
    private final long frames;

    private PhysicalMemory(HostMapping view, long frames) {
        this.view = view;
        this.frames = frames;
    }

    /** A new, all-zero physical memory of {@code frames} frames. */
    public static PhysicalMemory create(long frames) {
        if (Posix.PAGE_SIZE != FRAME_SIZE) {
            throw new UnsupportedOperationException("host page size " + Posix.PAGE_SIZE + " is not " + FRAME_SIZE);
        }
        if (frames <= 0 || frames > (1L << 40) / FRAME_SIZE) {
            throw new IllegalArgumentException("frame count " + frames + " out of range 1.." + (1L << 40) / FRAME_SIZE);
        }
        return new PhysicalMemory(HostMapping.memfd("usercopy-physical-memory", frames * FRAME_SIZE, frames * FRAME_SIZE), frames);
    }

    public long frames() {
        return frames;
    }

    private void checkRun(long frame, long count) {
        if (frame < 0 || count < 0 || frame > frames - count) {
            throw new IndexOutOfBoundsException("frames [" + frame + ", +" + count + ") outside physical memory of " + frames + " frames");
        }
    }

    /** Copies one whole frame to another through the kernel view. */
    public void copyFrame(long from, long to) {
        checkRun(from, 1);
        checkRun(to, 1);
        MemorySegment.copy(kernelView(from, 1), 0, kernelView(to, 1), 0, FRAME_SIZE);
    }

    /** Zeroes a run of frames through the kernel view. */
    public void zero(long frame, long count) {
        checkRun(frame, count);
        kernelView(frame, count).fill((byte) 0);
    }

    /** Reads {@code dst.length} bytes at {@code offset} of a frame. */
    public void read(long frame, int offset, byte[] dst, int dstOffset, int length) {
        checkRun(frame, 1);
        checkInFrame(offset, length);
        MemorySegment.copy(kernelView(frame, 1), java.lang.foreign.ValueLayout.JAVA_BYTE, offset, dst, dstOffset, length);
    }

    /** Writes {@code length} bytes at {@code offset} of a frame. */
    public void write(long frame, int offset, byte[] src, int srcOffset, int length) {
        checkRun(frame, 1);
        checkInFrame(offset, length);
        MemorySegment.copy(src, srcOffset, kernelView(frame, 1), java.lang.foreign.ValueLayout.JAVA_BYTE, offset, length);
    }

    private static void checkInFrame(int offset, int length) {
        if (offset < 0 || length < 0 || offset > FRAME_SIZE - length) {
            throw new IndexOutOfBoundsException("[" + offset + ", +" + length + ") outside a frame of " + FRAME_SIZE);
        }
    }

    /** The kernel's view of a run of frames; platform-private so no view escapes. */
    MemorySegment kernelView(long frame, long count) {
        return Posix.segment(view.address() + frame * FRAME_SIZE, count * FRAME_SIZE);
    }

    /**
     * Maps {@code count} frames from {@code frame} at host address {@code host},
     * replacing what was there. With {@code populate} the host fills in its own
     * page tables (and its memory for frames not yet touched) in this one call
     * rather than fault by fault on first access.
     */
    void mapInto(long host, long frame, long count, int prot, boolean populate) {
        checkRun(frame, count);
        Posix.mmap(host, count * FRAME_SIZE, prot, MAP_SHARED | MAP_FIXED | (populate ? MAP_POPULATE : 0), view.fd(), frame * FRAME_SIZE);
    }

    @Override
    public void close() {
        view.close();
    }
}
