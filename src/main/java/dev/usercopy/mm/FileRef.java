package dev.usercopy.mm;

import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A host file range behind a file mapping: the open channel and the file
 * offset of the grant's first page. The memory manager owns the channel.
 */
public record FileRef(Path path, FileChannel channel, long offset) {
    FileRef at(long pages) {
        return new FileRef(path, channel, offset + pages * AddressSpace.PAGE);
    }
}
