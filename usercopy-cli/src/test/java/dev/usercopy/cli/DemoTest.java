package dev.usercopy.cli;

import java.util.List;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.usercopy.cli.demo.Demo;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo's output, plain, coloured and as JSON. */
class DemoTest {
    static final List<String> SECTIONS = List.of("demand-paging", "fork-cow", "efault", "strncpy", "race", "real-program", "processes", "profiles", "jvm");

    @Test
    void plainDemoTellsEverySectionHoldsEveryClaimAndHasNoEscapes() {
        Cli r = Cli.run("demo");
        assertEquals(0, r.exit(), r::toString);
        assertEquals("", r.err());
        assertFalse(r.out().contains("\u001b["), "no colour when not on a terminal");
        assertFalse(r.out().contains("FAILED"), r::toString);
        for (String title : List.of("== A lazy mapping and its demand faults", "== fork and copy-on-write, with the refcounts",
                "== Bad pointers give EFAULT", "== A string running into an unmapped page", "== A writer racing a string copy",
                "== The JVM did not notice")) {
            assertTrue(r.out().contains(title), title + "\n" + r);
        }
        // A page map before and after the read fault: the window of 16 zeroed frames.
        assertTrue(r.out().contains("    0x00100000  " + "-".repeat(64) + "\n"), r::toString);
        assertTrue(r.out().contains("    0x00100000  " + "0".repeat(16) + "-".repeat(48) + "\n"), r::toString);
        assertTrue(r.out().contains("  ok  strncpy_from_user(max 256) returns -EFAULT: -14"), r::toString);
        assertTrue(r.out().contains("  ok  copies with a byte that was neither the old nor the new byte at its place: 0\n"), r::toString);
        assertTrue(r.out().matches("(?s).*\nfortress +file paging [\\d.]+ us/page \\[1\\.74], 64-byte UserSlice copy [\\d.]+ ns \\[26\\.9], .*"),
                "each profile's times with the README's beside them\n" + r);
        assertTrue(r.out().matches("(?s).*\nall \\d+ claims held\n"), r::toString);
    }

    @Test
    void colourWhenAskedFor() {
        Cli r = Cli.run("demo", "--color=always");
        assertEquals(0, r.exit(), r::toString);
        assertTrue(r.out().contains("\u001b[32mok\u001b[0m"), r::toString);
    }

    @Test
    void jsonIsOneDocumentWithEverySectionItsValuesAndItsChecks() {
        Cli r = Cli.run("demo", "--json");
        assertEquals(0, r.exit(), r::toString);
        JsonObject doc = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals("demo", doc.get("command").getAsString());
        assertTrue(doc.get("ok").getAsBoolean());
        assertEquals(0, doc.get("failures").getAsInt());
        JsonArray sections = doc.getAsJsonArray("sections");
        assertEquals(SECTIONS, sections.asList().stream().map(s -> s.getAsJsonObject().get("id").getAsString()).toList());
        int checks = 0;
        for (JsonElement s : sections) {
            JsonArray cs = s.getAsJsonObject().getAsJsonArray("checks");
            assertFalse(cs.isEmpty(), s.toString());
            for (JsonElement c : cs) {
                assertTrue(c.getAsJsonObject().get("ok").getAsBoolean(), c.toString());
                checks++;
            }
        }
        assertEquals(doc.get("checks").getAsInt(), checks);
        JsonObject race = sections.get(SECTIONS.indexOf("race")).getAsJsonObject().getAsJsonObject("values");
        long copies = 0;
        for (String k : List.of("old", "new", "valid_mix", "eilseq")) {
            copies += race.get(k).getAsLong();
        }
        assertEquals(Demo.RACE_COPIES, copies, "every copy was counted once: " + race);
        assertEquals(0, race.get("impossible").getAsLong());
        JsonObject profiles = sections.get(SECTIONS.indexOf("profiles")).getAsJsonObject().getAsJsonObject("values");
        assertEquals("EFAULT", profiles.get("fortressWildPointer").getAsString());
        assertEquals("EFAULT", profiles.get("performanceWildPointer").getAsString());
        assertTrue(profiles.get("ludicrousWildPointer").getAsString().startsWith("read the guest's own bytes"), profiles.toString());
        assertTrue(profiles.get("fortressFilePageMicros").getAsDouble() > 0, profiles.toString());
        JsonObject demand = sections.get(0).getAsJsonObject().getAsJsonObject("values");
        assertEquals(64, demand.get("firstTouchFaults").getAsLong(), "1024 pages, a fault a 16-page window");
    }
}
