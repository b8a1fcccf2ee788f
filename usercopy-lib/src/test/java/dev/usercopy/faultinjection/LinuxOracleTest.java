package dev.usercopy.faultinjection;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.usercopy.platform.KernelCopy;
import dev.usercopy.platform.Posix;

import static dev.usercopy.platform.Posix.O_NONBLOCK;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Linux as the oracle: for random host layouts, the count our copy returns
 * is held against what the host kernel's own user copy reports for the same
 * buffer, and the bytes the kernel moved are the bytes ours moved.
 *
 * <p>What the kernel reports, found by probing this kernel (6.18, x86-64) over
 * every fault position in 0..9000 and lengths 1..65536 with PROT_NONE,
 * read-only and past-EOF memfd pages, and asserted here exactly so:
 * <ul>
 * <li><b>Exact</b> (the same count as ours, {@code -EFAULT} when ours is 0):
 *   {@code pwrite} to a memfd (copy_from_user of the buffer),
 *   {@code pread} from a memfd (copy_to_user), {@code process_vm_readv} and
 *   {@code process_vm_writev} on this process with the layout as the remote
 *   side (the kernel pins remote pages one by one: a page that will not pin
 *   ends the copy at its first byte) or as the local side (copied by
 *   copy_to_user / copy_from_user, which stop at the faulting byte). A
 *   read-only page counts as not writable for process_vm_writev (no
 *   FOLL_FORCE) as for ours.
 * <li><b>Page granular</b>: {@code write} to an empty pipe and {@code read}
 *   from a pipe holding one write copy a pipe buffer (4096 bytes, counted
 *   from the start of the call, not from an address boundary) at a time and
 *   count a buffer only if all of it was copied. So the kernel reports
 *   {@code n} when ours copied all {@code n}, otherwise ours rounded down to a
 *   multiple of 4096, and {@code -EFAULT} when that is 0. (Lengths stay at
 *   or under the pipe's 65536 bytes, non-blocking.)
 * </ul>
 */
@ExtendWith(Summary.class)
class LinuxOracleTest {
    private static final long SEED = Long.getLong("usercopy.fi.seed", System.nanoTime());
    private static final int LAYOUTS = Integer.getInteger("usercopy.fi.oracle.layouts", 200);
    private static final int CASES_PER_LAYOUT = 100;
    private static final int PIPE_CAPACITY = 65536;
    private static final long PAGE = Layout.PAGE;

    /** How the kernel's count relates to ours for a call. */
    enum Relation { EXACT, PIPE_PAGES }

    /** A kernel call on the user buffer, and the direction of its copy from the buffer's point of view. */
    enum Oracle {
        PWRITE_MEMFD(Op.FROM_USER, Relation.EXACT, "pwrite(memfd)"),
        WRITE_PIPE(Op.FROM_USER, Relation.PIPE_PAGES, "write(pipe)"),
        VM_READV_REMOTE(Op.FROM_USER, Relation.EXACT, "process_vm_readv, layout remote"),
        VM_WRITEV_LOCAL(Op.FROM_USER, Relation.EXACT, "process_vm_writev, layout local"),
        PREAD_MEMFD(Op.TO_USER, Relation.EXACT, "pread(memfd)"),
        READ_PIPE(Op.TO_USER, Relation.PIPE_PAGES, "read(pipe)"),
        VM_WRITEV_REMOTE(Op.TO_USER, Relation.EXACT, "process_vm_writev, layout remote"),
        VM_READV_LOCAL(Op.TO_USER, Relation.EXACT, "process_vm_readv, layout local");

        final Op op;
        final Relation relation;
        final String call;

        Oracle(Op op, Relation relation, String call) {
            this.op = op;
            this.relation = relation;
            this.call = call;
        }
    }

    /** What the kernel must report for a call of {@code n} bytes when ours copied {@code copied}. */
    static long expectedKernel(Relation r, long copied, long n) {
        long counted = r == Relation.EXACT || copied == n ? copied : copied / PAGE * PAGE;
        return counted == 0 && n > 0 ? Reference.EFAULT : counted;
    }

    private static final List<String> FROM_PATHS = List.of(
            "UserCopy.copyFromUser FLAT byte[]", "UserCopy.copyFromUser ALIGNED byte[]",
            "UserCopy.copyFromUser FLAT native", "UserCopy.copyFromUser ALIGNED native");
    private static final List<String> TO_PATHS = List.of(
            "UserCopy.copyToUser FLAT byte[]", "UserCopy.copyToUser ALIGNED byte[]",
            "UserCopy.copyToUser FLAT native", "UserCopy.copyToUser ALIGNED native");

    @Test
    void theKernelsOwnUserCopiesReportTheCountOursReturns() {
        int memfd = KernelCopy.memfd("fi-oracle");
        long cases = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment scratch = arena.allocate(128 * PAGE, PAGE);
            long seed = SEED;
            for (int l = 0; l < LAYOUTS; l++, seed = RandomLayoutTest.nextSeed(seed)) {
                SplittableRandom rnd = new SplittableRandom(seed);
                Layout model = Layout.random(rnd, true, RandomLayoutTest.pages(rnd));
                try (HostLayout memory = new HostLayout(model)) {
                    for (int k = 0; k < CASES_PER_LAYOUT; k++, cases++) {
                        Oracle oracle = Oracle.values()[rnd.nextInt(Oracle.values().length)];
                        Checker.Case c = Checker.Case.random(rnd, model);
                        int n = oracle.relation == Relation.PIPE_PAGES ? Math.min(c.length(), PIPE_CAPACITY) : c.length();
                        c = new Checker.Case(c.offset(), n, c.kernelOffset(), c.kernelSeed());
                        String where = "seed " + seed + " (-Dusercopy.fi.seed=" + seed + " -Dusercopy.fi.oracle.layouts=1), layout "
                                + model.describe() + ", case #" + k + " " + c + ", " + oracle.call;
                        check(oracle, memory, model, c, rnd, memfd, scratch, where);
                    }
                }
            }
        } finally {
            Posix.close(memfd);
        }
        String line = String.format("Linux oracle: %,d cases in %,d layouts, seed %d", cases, LAYOUTS, SEED);
        System.out.println("[fault-injection] " + line);
        Summary.note(line);
    }

    private static void check(Oracle oracle, HostLayout memory, Layout model, Checker.Case c, SplittableRandom rnd,
                              int memfd, MemorySegment scratch, String where) {
        int n = c.length();
        long addr = memory.address(c.offset());
        // What ours moves in a to-user copy: the kernel's call moves the same bytes.
        byte[] kernelBuf = new byte[c.kernelOffset() + n + Checker.SLACK];
        new SplittableRandom(c.kernelSeed()).nextBytes(kernelBuf);
        byte[] source = Arrays.copyOfRange(kernelBuf, c.kernelOffset(), c.kernelOffset() + n);

        long kernel;
        byte[] kernelMoved = null; // for copies from the user buffer: what reached the file, pipe or scratch
        switch (oracle) {
            case PWRITE_MEMFD -> {
                kernel = KernelCopy.pwrite(memfd, addr, n, 0);
                kernelMoved = new byte[(int) Math.max(0, kernel)];
                KernelCopy.preadAll(memfd, kernelMoved, 0);
            }
            case WRITE_PIPE -> {
                int[] p = KernelCopy.pipe(O_NONBLOCK);
                try {
                    kernel = KernelCopy.write(p[1], addr, n);
                    kernelMoved = new byte[(int) Math.max(0, kernel)];
                    if (kernel > 0) {
                        assertEquals(kernel, KernelCopy.read(p[0], scratch.address(), kernel), "draining the pipe");
                        MemorySegment.copy(scratch, ValueLayout.JAVA_BYTE, 0, kernelMoved, 0, (int) kernel);
                    }
                } finally {
                    Posix.close(p[0]);
                    Posix.close(p[1]);
                }
            }
            case VM_READV_REMOTE, VM_WRITEV_LOCAL -> {
                kernel = oracle == Oracle.VM_READV_REMOTE
                        ? KernelCopy.processVmReadv(scratch.address(), addr, n)
                        : KernelCopy.processVmWritev(addr, scratch.address(), n);
                kernelMoved = new byte[(int) Math.max(0, kernel)];
                MemorySegment.copy(scratch, ValueLayout.JAVA_BYTE, 0, kernelMoved, 0, kernelMoved.length);
            }
            case PREAD_MEMFD -> {
                KernelCopy.pwriteAll(memfd, source, 0);
                kernel = KernelCopy.pread(memfd, addr, n, 0);
            }
            case READ_PIPE -> {
                int[] p = KernelCopy.pipe(O_NONBLOCK);
                try {
                    if (n > 0) {
                        KernelCopy.writeAll(p[1], source);
                    }
                    kernel = KernelCopy.read(p[0], addr, n);
                } finally {
                    Posix.close(p[0]);
                    Posix.close(p[1]);
                }
            }
            case VM_WRITEV_REMOTE, VM_READV_LOCAL -> {
                MemorySegment.copy(source, 0, scratch, ValueLayout.JAVA_BYTE, 0, n);
                kernel = oracle == Oracle.VM_WRITEV_REMOTE
                        ? KernelCopy.processVmWritev(scratch.address(), addr, n)
                        : KernelCopy.processVmReadv(addr, scratch.address(), n);
            }
            default -> throw new AssertionError(oracle);
        }

        // Ours, on the same memory (a to-user copy writes the same bytes the kernel's did), checked against the model too.
        List<String> names = oracle.op == Op.FROM_USER ? FROM_PATHS : TO_PATHS;
        CopyPath<HostLayout> path = CopyPaths.host(names.get(rnd.nextInt(names.size())));
        if (oracle.op == Op.TO_USER && kernel > 0) {
            System.arraycopy(source, 0, model.content, (int) c.offset(), (int) kernel); // the kernel's writes, in the model
        }
        Checker.Verdict v = Checker.check(path, memory, model, c);
        assertNull(v.failure(), () -> v.failure() + "\n  at " + where);
        long ours = n - v.expected().result();
        long want = expectedKernel(oracle.relation, ours, n);
        if (kernel != want) {
            fail(oracle.call + " reported " + kernel + " where ours copied " + ours + " of " + n + ", so it should report " + want
                    + " (" + oracle.relation + ")\n  at " + where);
        }
        if (kernelMoved != null) {
            assertArrayEquals(Arrays.copyOfRange(model.content, (int) c.offset(), (int) c.offset() + kernelMoved.length), kernelMoved,
                    () -> oracle.call + " moved other bytes than the layout holds\n  at " + where);
        }
        String outcome = ours == n ? "full" : ours == 0 ? "EFAULT, nothing" : "partial";
        Summary.count("Linux oracle: kernel call x our outcome (every count agreed)", oracle.call + " [" + oracle.relation + "]",
                outcome);
    }
}
