package dev.usercopy.platform;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * One physical frame, reached by copying: bytes go in and out through
 * buffers the caller owns, never through a view of the frame. No reference
 * to frame memory leaves this class, so no kernel object can outlive the
 * frame's reuse or alias a guest mapping of it (the Fortress profile's
 * "copy-semantic frames").
 *
 * <p>Every access is bounds-checked against the frame:
 * {@link IndexOutOfBoundsException} before anything is touched.
 */
public final class PageFrame {
    public static final int SIZE = (int) PhysicalMemory.FRAME_SIZE;

    private final PhysicalMemory memory;
    private final long number;

    PageFrame(PhysicalMemory memory, long number) {
        this.memory = memory;
        this.number = number;
    }

    /** The frame number in its physical memory. */
    public long number() {
        return number;
    }

    private MemorySegment view() {
        return memory.kernelView(number, 1);
    }

    private static void checkInFrame(int offset, int length) {
        if (offset < 0 || length < 0 || offset > SIZE - length) {
            throw new IndexOutOfBoundsException("[" + offset + ", +" + length + ") outside a frame of " + SIZE + " bytes");
        }
    }

    /** Copies {@code length} bytes at {@code offset} of the frame into {@code dst[dstOffset..]}. */
    public void read(int offset, byte[] dst, int dstOffset, int length) {
        checkInFrame(offset, length);
        MemorySegment.copy(view(), ValueLayout.JAVA_BYTE, offset, dst, dstOffset, length);
    }

    /** Copies {@code src[srcOffset..srcOffset+length)} into the frame at {@code offset}. */
    public void write(int offset, byte[] src, int srcOffset, int length) {
        checkInFrame(offset, length);
        MemorySegment.copy(src, srcOffset, view(), ValueLayout.JAVA_BYTE, offset, length);
    }

    /** Copies this whole frame over {@code to}. */
    public void copyTo(PageFrame to) {
        MemorySegment.copy(view(), 0, to.view(), 0, SIZE);
    }

    /** Zeroes the frame. */
    public void zero() {
        view().fill((byte) 0);
    }

    /**
     * Reads file bytes from {@code position} straight into the frame (the
     * Performance profile's zero-copy demand paging); bytes past the end of
     * the file become zero. Returns the file bytes read.
     *
     * <p>The only place a frame is lent out as a buffer: to the JDK's file
     * read, for the length of the call.
     */
    public int readFrom(FileChannel file, long position) throws IOException {
        ByteBuffer bb = view().asByteBuffer();
        while (bb.hasRemaining()) {
            if (file.read(bb, position + bb.position()) < 0) {
                break;
            }
        }
        int read = bb.position();
        view().asSlice(read).fill((byte) 0);
        return read;
    }
}
