package dev.usercopy.cli.demo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import dev.usercopy.mm.Profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo's parts: how a report counts a claim that does not hold, how a raced string is classified, the JSON writer, the published figures. */
class DemoPartsTest {
    @Test
    void aClaimThatDoesNotHoldIsPrintedAsFailedAndCounted() {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        Report report = new Report(new PrintStream(text, true, StandardCharsets.UTF_8), false);
        report.section("s", "a section");
        assertTrue(report.check("two and two", 4L, 4L));
        assertFalse(report.check("bytes not copied", 0L, 60L));
        assertEquals(1, report.failures());
        assertEquals(2, report.checks());
        assertTrue(text.toString(StandardCharsets.UTF_8).contains("  FAILED bytes not copied: expected 0, got 60\n"), text::toString);
        JsonObject doc = JsonParser.parseString(report.json()).getAsJsonObject();
        assertFalse(doc.get("ok").getAsBoolean());
        assertEquals(60, doc.getAsJsonArray("sections").get(0).getAsJsonObject().getAsJsonArray("checks").get(1)
                .getAsJsonObject().get("actual").getAsLong());
    }

    @Test
    void aRacedStringIsOldNewAValidMixEilseqOrImpossible() {
        byte[] old = "€€".getBytes(StandardCharsets.UTF_8);      // e2 82 ac e2 82 ac
        byte[] young = "abcabc".getBytes(StandardCharsets.UTF_8);
        assertEquals(Demo.RaceOutcome.OLD, Demo.classify(old, old, young));
        assertEquals(Demo.RaceOutcome.NEW, Demo.classify(young, old, young));
        assertEquals(Demo.RaceOutcome.VALID_MIX, Demo.classify("abc€".getBytes(StandardCharsets.UTF_8), old, young));
        assertEquals(Demo.RaceOutcome.EILSEQ, Demo.classify(new byte[] {'a', (byte) 0x82, (byte) 0xac, (byte) 0xe2, (byte) 0x82, (byte) 0xac}, old, young));
        assertEquals(Demo.RaceOutcome.IMPOSSIBLE, Demo.classify("abcabd".getBytes(StandardCharsets.UTF_8), old, young));
        assertEquals(Demo.RaceOutcome.IMPOSSIBLE, Demo.classify("abc".getBytes(StandardCharsets.UTF_8), old, young));
    }

    @Test
    void jsonWriterEscapesWhatJsonMust() {
        String s = Json.write(java.util.Map.of("k", List.of("a\"b\\c\n\u0001", 1.5, true)));
        JsonObject o = JsonParser.parseString(s).getAsJsonObject();
        assertEquals("a\"b\\c\n\u0001", o.getAsJsonArray("k").get(0).getAsString());
        assertEquals(1.5, o.getAsJsonArray("k").get(1).getAsDouble());
    }

    /** The profiles section prints the README's JMH figures beside its own: they must be the README's. */
    @Test
    void theProfilesSectionsPublishedFiguresAreTheReadmes() throws IOException {
        List<String> readme = Files.readAllLines(Path.of("README.md"));
        List<String> paging = cells(readme, "| first read of a file page");
        List<String> slice = cells(readme, "| `UserSlice` read of 64 B");
        Profile[] order = {Profile.FORTRESS, Profile.PERFORMANCE, Profile.LUDICROUS};
        for (int i = 0; i < order.length; i++) {
            Demo.Published p = Demo.published(order[i]);
            assertEquals(Double.parseDouble(paging.get(i).split(" ")[0]), p.filePageMicros(), order[i] + " file paging, README: " + paging);
            assertEquals(Double.parseDouble(slice.get(i).split(" ")[0]), p.sliceCopyNanos(), order[i] + " 64-byte read, README: " + slice);
        }
    }

    /** The Fortress, Performance and Ludicrous cells of the README table row that starts with {@code start}. */
    private static List<String> cells(List<String> readme, String start) {
        String row = readme.stream().filter(l -> l.startsWith(start)).findFirst()
                .orElseThrow(() -> new AssertionError("README has no row starting " + start));
        String[] c = row.split("\\|");
        return List.of(c[2].strip(), c[3].strip(), c[4].strip());
    }
}
