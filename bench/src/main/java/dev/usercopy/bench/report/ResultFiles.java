package dev.usercopy.bench.report;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Reads the JSON files JMH writes with {@code -rf json}. */
final class ResultFiles {
    private ResultFiles() {}

    /** Every result in {@code path}: a JSON file, or every {@code *.json} in a folder. */
    static List<Result> read(Path path) throws IOException {
        List<Result> all = new ArrayList<>();
        if (Files.isDirectory(path)) {
            try (Stream<Path> files = Files.list(path)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                    all.addAll(readFile(f));
                }
            }
        } else {
            all.addAll(readFile(path));
        }
        return all;
    }

    private static List<Result> readFile(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Result> out = new ArrayList<>();
        if (text.isBlank()) {
            return out;
        }
        for (JsonElement e : JsonParser.parseString(text).getAsJsonArray()) {
            JsonObject o = e.getAsJsonObject();
            String full = o.get("benchmark").getAsString();
            int dot = full.lastIndexOf('.');
            String cls = full.substring(full.lastIndexOf('.', dot - 1) + 1, dot);
            Map<String, String> params = new TreeMap<>();
            if (o.has("params")) {
                for (Map.Entry<String, JsonElement> p : o.getAsJsonObject("params").entrySet()) {
                    params.put(p.getKey(), p.getValue().getAsString());
                }
            }
            JsonObject primary = o.getAsJsonObject("primaryMetric");
            double bytes = Double.NaN;
            if (o.has("secondaryMetrics") && o.getAsJsonObject("secondaryMetrics").has("bytes")) {
                bytes = o.getAsJsonObject("secondaryMetrics").getAsJsonObject("bytes").get("score").getAsDouble();
            }
            double allocated = Double.NaN;
            if (o.has("secondaryMetrics") && o.getAsJsonObject("secondaryMetrics").has("gc.alloc.rate.norm")) {
                allocated = o.getAsJsonObject("secondaryMetrics").getAsJsonObject("gc.alloc.rate.norm").get("score").getAsDouble();
            }
            double error = primary.get("scoreError").isJsonPrimitive()
                    && primary.get("scoreError").getAsJsonPrimitive().isNumber()
                    ? primary.get("scoreError").getAsDouble() : Double.NaN;
            out.add(new Result(cls, full.substring(dot + 1), params, primary.get("score").getAsDouble(),
                    error, primary.get("scoreUnit").getAsString(), bytes, allocated));
        }
        return out;
    }
}
