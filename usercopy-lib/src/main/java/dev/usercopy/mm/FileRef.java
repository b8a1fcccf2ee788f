package dev.usercopy.mm;

import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A host file range behind a file mapping.
 *
 * @param cache the file's page cache, shared by every mapping of the file in the machine
 * @param offset the file offset in bytes of the grant's first page, a multiple of {@link AddressSpace#PAGE}
 */
public record FileRef(PageCache cache, long offset) {
    /** {@return the host path the file was opened by, for /proc/self/maps-style listings and messages} */
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
