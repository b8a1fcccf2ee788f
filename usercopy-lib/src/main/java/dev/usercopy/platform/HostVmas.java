package dev.usercopy.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The host's limit on mappings per process and how many this process has. */
public final class HostVmas {
    private HostVmas() {}

    /**
     * {@code vm.max_map_count}; 65530 (the kernel default) if it cannot be read.
     * Read as a stream: procfs reports a size of 0, and Files.readString reads
     * "6" of "65530" here.
     */
    public static long limit() {
        try (var reader = Files.newBufferedReader(Path.of("/proc/sys/vm/max_map_count"))) {
            return Long.parseLong(reader.readLine().trim());
        } catch (IOException | NumberFormatException | NullPointerException e) {
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
