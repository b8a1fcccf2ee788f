package dev.usercopy.mm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The frames that hold one host file's pages for its shared mappings: every
 * MAP_SHARED mapping of the file, in any address space, maps the same frame
 * for the same file page, as Linux's page cache does. A page leaves the cache
 * when its frame's last mapping goes, written back first if it was written.
 */
public final class PageCache {
    private final Path path;
    private FileChannel channel;
    private boolean writable;
    private final Map<Long, Long> frames = new HashMap<>();

    PageCache(Path path, FileChannel channel, boolean writable) {
        this.path = path;
        this.channel = channel;
        this.writable = writable;
    }

    Path path() {
        return path;
    }

    FileChannel channel() {
        return channel;
    }

    /** Whether the channel was opened for writing back. */
    boolean writable() {
        return writable;
    }

    /** Replaces a read-only channel with {@code writableChannel}, of the same file. */
    void reopen(FileChannel writableChannel) throws IOException {
        FileChannel old = channel;
        channel = writableChannel;
        writable = true;
        old.close();
    }

    /** The frame caching file page {@code filePage}, or -1. */
    long frame(long filePage) {
        return frames.getOrDefault(filePage, -1L);
    }

    void put(long filePage, long frame) {
        frames.put(filePage, frame);
    }

    /** Whether no frame caches a page of this file. */
    boolean isEmpty() {
        return frames.isEmpty();
    }

    void remove(long filePage) {
        frames.remove(filePage);
    }

    /** Reads file page {@code filePage} into {@code buf}; bytes past the end of the file read as zero. */
    void read(long filePage, byte[] buf) throws IOException {
        java.util.Arrays.fill(buf, (byte) 0);
        ByteBuffer bb = ByteBuffer.wrap(buf);
        long at = filePage * AddressSpace.PAGE;
        while (bb.hasRemaining()) {
            int n = channel.read(bb, at + bb.position());
            if (n < 0) {
                break;
            }
        }
    }

    /** Writes {@code buf} back as file page {@code filePage}, never past the end of the file. */
    void write(long filePage, byte[] buf) throws IOException {
        long at = filePage * AddressSpace.PAGE;
        int n = (int) Math.max(0, Math.min(buf.length, channel.size() - at));
        ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
        while (bb.hasRemaining()) {
            channel.write(bb, at + bb.position());
        }
    }
}
