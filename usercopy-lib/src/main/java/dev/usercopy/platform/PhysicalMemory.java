package dev.usercopy.platform;

import java.lang.foreign.MemorySegment;

import static dev.usercopy.platform.Posix.MAP_FIXED;
import static dev.usercopy.platform.Posix.MAP_POPULATE;
import static dev.usercopy.platform.Posix.MAP_SHARED;

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

    /**
     * The memfd the frames are: frame {@code n} is at offset
     * {@code n * FRAME_SIZE}. For a mirror in another process (a guest's
     * child), which maps frames from its own copy of this descriptor.
     */
    public int fd() {
        return view.fd();
    }

    private void checkRun(long frame, long count) {
        if (frame < 0 || count < 0 || frame > frames - count) {
            throw new IndexOutOfBoundsException("frames [" + frame + ", +" + count + ") outside physical memory of " + frames + " frames");
        }
    }

    /** Frame {@code number}, to copy bytes in and out of. */
    public PageFrame frame(long number) {
        checkRun(number, 1);
        return new PageFrame(this, number);
    }

    /**
     * Reads file bytes from {@code position} into frames
     * {@code [frame, frame + count)} with one host read where it can, and
     * zeroes what lies past the end of the file; returns the bytes read.
     */
    public long readFrom(java.nio.channels.FileChannel file, long position, long frame, long count) throws java.io.IOException {
        checkRun(frame, count);
        MemorySegment view = kernelView(frame, count);
        java.nio.ByteBuffer bb = view.asByteBuffer();
        while (bb.hasRemaining()) {
            if (file.read(bb, position + bb.position()) < 0) {
                break;
            }
        }
        long read = bb.position();
        view.asSlice(read).fill((byte) 0);
        return read;
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
