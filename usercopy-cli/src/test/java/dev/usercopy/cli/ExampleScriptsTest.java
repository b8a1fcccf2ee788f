package dev.usercopy.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every script in examples/ runs to the end with every expect holding; so does the built-in example. */
class ExampleScriptsTest {
    static final Path EXAMPLES = Path.of("examples");

    static List<Path> examples() throws IOException {
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            return files.filter(p -> p.toString().endsWith(".guest")).sorted().toList();
        }
    }

    @Test
    void theExamplesFolderHoldsScriptsThatUseExpect() throws IOException {
        List<Path> examples = examples();
        assertTrue(examples.size() >= 5, "examples: " + examples);
        for (Path p : examples) {
            assertTrue(Files.readString(p).contains("\nexpect "), p + " checks nothing");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void everyExampleRunsWithEveryExpectHolding(Path script) {
        Cli r = Cli.run("run", script.toString());
        assertEquals(0, r.exit(), r::toString);
        assertEquals("", r.err(), r::toString);
        long expects = r.out().lines().filter(l -> l.matches("\\[\\d+] expect .*")).count();
        long oks = r.out().lines().filter(l -> l.equals("    ok")).count();
        assertTrue(expects > 0, r::toString);
        assertEquals(expects, oks, "every expect line ran and held\n" + r);
    }
}
