package dev.usercopy.arch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's Layout table and the source tree agree: every package has a
 * row, and every class a row names is a file in that row's folder, so a
 * newcomer finds each file where the table says.
 */
class LayoutTest {
    private static final Path SOURCES = Path.of("src/main/java");

    /** The Layout rows: path, then what. */
    private static List<String[]> rows() throws IOException {
        List<String> readme = Files.readAllLines(Path.of("README.md"));
        int start = readme.indexOf("## Layout");
        assertTrue(start >= 0, "README has a Layout section");
        List<String[]> rows = new ArrayList<>();
        for (String line : readme.subList(start + 1, readme.size())) {
            if (line.startsWith("## ")) {
                break;
            }
            if (line.startsWith("| `")) {
                String[] cells = line.split(" \\| ", 2);
                rows.add(new String[] {cells[0].substring(2).replace("`", ""), cells[1]});
            }
        }
        return rows;
    }

    @Test
    void everyPackageHasALayoutRow() throws IOException {
        List<String> paths = rows().stream().map(r -> r[0]).toList();
        try (Stream<Path> dirs = Files.walk(SOURCES)) {
            for (Path dir : dirs.filter(Files::isDirectory).toList()) {
                boolean hasClasses;
                try (Stream<Path> files = Files.list(dir)) {
                    hasClasses = files.anyMatch(f -> f.toString().endsWith(".java") && !f.endsWith("package-info.java"));
                }
                if (hasClasses) {
                    assertTrue(paths.contains(dir.toString()), "README's Layout has no row for " + dir);
                }
            }
        }
    }

    @Test
    void everyClassARowNamesIsInThatRowsFolder() throws IOException {
        Pattern className = Pattern.compile("`([A-Z][A-Za-z0-9]*|[a-z]+_h)`");
        int checked = 0;
        for (String[] row : rows()) {
            if (!row[0].startsWith(SOURCES.toString())) {
                continue;
            }
            Matcher m = className.matcher(row[1]);
            while (m.find()) {
                Path file = Path.of(row[0], m.group(1) + ".java");
                assertTrue(Files.isRegularFile(file), "README's Layout names " + m.group(1) + " in " + row[0] + ", but there is no " + file);
                checked++;
            }
        }
        assertTrue(checked > 20, "the rows name classes: " + checked);
    }

    @Test
    void theRowsAreReadAsTheyAreWritten() throws IOException {
        assertEquals("native/", rows().getFirst()[0]);
    }
}
