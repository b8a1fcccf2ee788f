package dev.usercopy.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The host's limit on mappings per process and how many this process has. */
public final class HostVmas {
    private HostVmas() {}

    /** {@code vm.max_map_count}; 65530 (the kernel default) if it cannot be read. */
    public static long limit() {
        try {
            return Long.parseLong(Files.readString(Path.of("/proc/sys/vm/max_map_count")).trim());
        } catch (IOException | NumberFormatException e) {
            return 65530;
        }
    }

    /** The number of mappings this process has now (lines of /proc/self/maps). */
    public static long inUse() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.count();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self/maps", e);
        }
    }
}
