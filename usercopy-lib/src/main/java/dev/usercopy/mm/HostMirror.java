package dev.usercopy.mm;

/**
 * A host view of one address space's pages that follows its page table:
 * the JVM's own reservation (through which the kernel's copies run), or a
 * guest process whose mappings must map the same frames. The address space
 * tells each mirror, in runs of pages, what they should map now (gVisor's
 * platform {@code AddressSpace}: one page table, several ways to reach it).
 *
 * <p>A mirror never maps more than it is told: a protection is at most what
 * it was given, a frame only the one it was given. It may apply a change
 * late, but before anything it serves touches guest memory through it: a
 * guest process applies its changes before it resumes. Frames are freed
 * after the mirrors are told, so a mirror that lags must not let its guest
 * run until it has caught up. Calls come under the machine's lock.
 */
public interface HostMirror {
    /**
     * Guest pages [from, to) should map frames {@code frame, frame + 1, ...}
     * with {@code prot}.
     *
     * @param from the first guest page number
     * @param to the guest page number past the last (exclusive)
     * @param frame the frame number for page {@code from}
     * @param prot {@link Prot} bits, never more than the page table grants
     */
    void map(long from, long to, long frame, int prot);

    /**
     * Guest pages [from, to) should map nothing; a frame may be freed once this returns.
     *
     * @param from the first guest page number
     * @param to the guest page number past the last (exclusive)
     */
    void unmap(long from, long to);
}
