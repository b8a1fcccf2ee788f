package dev.usercopy.bench.report;

import java.util.Map;

/**
 * One row of a JMH JSON result file: which benchmark with which parameters,
 * and its score. For CopyBench, {@code bytesPerSecond} is the secondary
 * {@code bytes} counter; {@code allocatedPerOp} is {@code -prof gc}'s
 * {@code gc.alloc.rate.norm}, bytes allocated per operation (NaN where a
 * result has neither).
 */
record Result(String benchClass, String method, Map<String, String> params,
              double score, double error, String unit, double bytesPerSecond, double allocatedPerOp) {

    String param(String name) {
        return params.getOrDefault(name, "");
    }

    int intParam(String name) {
        return Integer.parseInt(param(name));
    }

    /** GB/s from the bytes counter. */
    double gbPerSecond() {
        return bytesPerSecond / 1e9;
    }
}
