package dev.usercopy.faultinjection;

/**
 * One API that copies between a kernel buffer and user memory, reduced to
 * Linux's convention so one reference model checks them all. Adding an API
 * to the suite is one implementation of this (see {@link CopyPaths}).
 *
 * @param <M> the user memory it reaches: {@link HostLayout} (host addresses)
 *            or {@link GuestLayout} (guest addresses in an address space)
 */
interface CopyPath<M extends UserMemory> {
    String name();

    Op op();

    /**
     * Runs the copy of {@code length} bytes between user {@code address} and
     * {@code kernel[kernelOffset..]} (ignored for {@link Op#CLEAR_USER}).
     * Returns bytes not copied, or for {@link Op#STRNCPY_FROM_USER} the
     * string length, {@code length}, or {@code -EFAULT}. An API that reports
     * EFAULT as an exception with a count converts it to this here.
     */
    long run(M memory, long address, byte[] kernel, int kernelOffset, int length);
}
