/**
 * The benchmarks' workloads and the quick look that runs them.
 *
 * <p>Each workload is one benchmark's setup and operations, built from a
 * record of its parameters: {@code ./usercopy bench --quick}
 * ({@link dev.usercopy.cli.bench.QuickBench}) times its operations in plain
 * loops, and the JMH classes in {@code bench/} are thin wrappers that call the
 * same methods, so a quick row and its JMH counterpart measure the same thing.
 * The JMH module depends on this jar, which is why the workloads live here.
 */
package dev.usercopy.cli.bench;
