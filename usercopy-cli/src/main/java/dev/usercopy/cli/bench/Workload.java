package dev.usercopy.cli.bench;

/**
 * A benchmark's state: built from its parameters ({@link #params()}, a
 * record whose component names are the JMH class's {@code @Param} fields),
 * with operations that take no argument and return a value for JMH to
 * consume. Closing it frees what the setup made.
 */
public interface Workload extends AutoCloseable {
    /** The parameters it was built from. */
    Record params();

    @Override
    void close();
}
