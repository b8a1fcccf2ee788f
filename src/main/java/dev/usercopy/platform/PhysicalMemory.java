package dev.usercopy.platform;

import java.lang.foreign.MemorySegment;

import static dev.usercopy.platform.libc_h.MADV_REMOVE;
import static dev.usercopy.platform.libc_h.MAP_FIXED;
import static dev.usercopy.platform.libc_h.MAP_NORESERVE;
import static dev.usercopy.platform.libc_h.MAP_POPULATE;
import static dev.usercopy.platform.libc_h.MAP_SHARED;
import static dev.usercopy.platform.libc_h.MFD_CLOEXEC;
import static dev.usercopy.platform.libc_h.PROT_READ;
import static dev.usercopy.platform.libc_h.PROT_WRITE;

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

    private final int fd;
    private final long frames;
    private final long view;
    private boolean closed;

    private PhysicalMemory(int fd, long frames, long view) {
        this.fd = fd;
        this.frames = frames;
        this.view = view;
    }

    /** A new, all-zero physical memory of {@code frames} frames. */
    public static PhysicalMemory create(long frames) {
        if (Posix.PAGE_SIZE != FRAME_SIZE) {
            throw new UnsupportedOperationException("host page size " + Posix.PAGE_SIZE + " is not " + FRAME_SIZE);
        }
        if (frames <= 0 || frames > (1L << 40) / FRAME_SIZE) {
            throw new IllegalArgumentException("frame count " + frames + " out of range 1.." + (1L << 40) / FRAME_SIZE);
        }
        int fd = Posix.memfdCreate("usercopy-physical-memory", MFD_CLOEXEC);
        try {
            Posix.ftruncate(fd, frames * FRAME_SIZE);
            long view = Posix.mmap(0, frames * FRAME_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
            return new PhysicalMemory(fd, frames, view);
        } catch (RuntimeException e) {
            Posix.close(fd);
            throw e;
        }
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

    /**
     * Gives the frames' memory back to the host; they read as zeros after.
     * Callers discard only frames nothing maps any more.
     */
    public void discard(long frame, long count) {
        checkRun(frame, count);
        if (count > 0) {
            Posix.madvise(view + frame * FRAME_SIZE, count * FRAME_SIZE, MADV_REMOVE);
        }
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
        return Posix.segment(view + frame * FRAME_SIZE, count * FRAME_SIZE);
    }

    /**
     * Maps {@code count} frames from {@code frame} at host address {@code host},
     * replacing what was there. With {@code populate} the host fills in its own
     * page tables (and its memory for frames not yet touched) in this one call
     * rather than fault by fault on first access.
     */
    void mapInto(long host, long frame, long count, int prot, boolean populate) {
        checkRun(frame, count);
        Posix.mmap(host, count * FRAME_SIZE, prot, MAP_SHARED | MAP_FIXED | (populate ? MAP_POPULATE : 0), fd, frame * FRAME_SIZE);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Posix.munmap(view, frames * FRAME_SIZE);
        Posix.close(fd);
    }
}
