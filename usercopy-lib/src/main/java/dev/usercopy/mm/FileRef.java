package dev.usercopy.mm;

import java.nio.channels.FileChannel;
import java.nio.file.Path;

/** A host file range behind a file mapping: the file's page cache and the file offset of the grant's first page. */
public record FileRef(PageCache cache, long offset) {
    public Path path() {
        return cache.path();
    }

    FileChannel channel() {
        return cache.channel();
    }

    /** The file page that holds the grant's page {@code index}. */
    long filePage(long index) {
        return offset / AddressSpace.PAGE + index;
    }

    FileRef at(long pages) {
        return new FileRef(cache, offset + pages * AddressSpace.PAGE);
    }
}
