package dev.usercopy.mm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.usercopy.uapi.Errno;
import dev.usercopy.platform.HostKernel;
import dev.usercopy.platform.KernelCopy;
import dev.usercopy.platform.Posix;

import static dev.usercopy.platform.Posix.MAP_ANONYMOUS;
import static dev.usercopy.platform.Posix.MAP_PRIVATE;
import static dev.usercopy.platform.Posix.PROT_READ;
import static dev.usercopy.platform.Posix.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Where Linux defines what a memory call does, the address space does the
 * same. Each expectation here was first seen on the host kernel (6.18,
 * x86-64, run natively by a C probe); {@code MmOracleTest} holds random
 * sequences against the host as it runs.
 */
class LinuxFidelityTest extends MmScenario {
    static final int RW = Prot.READ | Prot.WRITE;

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- copy_from_user zero-fills

    @Test
    void copyFromUserZeroesTheBytesItCouldNotCopy() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
        write(as, a + PAGE - 10, filled(10, 7));
        byte[] buf = filled(40, 0x55);
        assertEquals(28, as.copyFromUser(buf, 1, a + PAGE - 10, 38));
        byte[] want = filled(40, 0x55);
        Arrays.fill(want, 1, 11, (byte) 7);
        Arrays.fill(want, 11, 39, (byte) 0);
        assertArrayEquals(want, buf, "copied bytes, then zeros up to the end of the copy, the byte after it untouched");

        byte[] raw = filled(40, 0x55);
        assertEquals(28, as.rawCopyFromUser(raw, 1, a + PAGE - 10, 38));
        Arrays.fill(want, 11, 39, (byte) 0x55);
        assertArrayEquals(want, raw, "the raw copy leaves what it did not copy");
    }

    @Test
    void aCopyThatIsRefusedWholeZeroesTheWholeBuffer() {
        machine();
        AddressSpace as = space();
        byte[] buf = filled(16, 0x55);
        assertEquals(16, as.copyFromUser(buf, 0, -8, 16));
        assertArrayEquals(new byte[16], buf);
    }

    // ---------------------------------------------------------------- access_ok on every copy

    @Test
    void aCopyThatRunsPastUserSpaceTouchesNothing() {
        machine(small().withAddressSpaceSize(1L << 32));
        AddressSpace as = space();
        long a = as.mmap(0xfffff000L, PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
        byte[] data = "0123456789abcdefXYZ".getBytes();
        assertEquals(19, as.copyToUser(0xfffffff0L, data, 0, data.length), "Linux's access_ok refuses the whole range");
        assertEquals(0, readByte(as, 0xfffffff0L), "nothing was written");
        write(as, a, filled((int) PAGE, 3));
        byte[] back = filled(19, 0x55);
        assertEquals(19, as.copyFromUser(back, 0, 0xfffffff0L, 19));
        assertArrayEquals(new byte[19], back);
        assertEquals(Long.MAX_VALUE, as.clearUser(a, Long.MAX_VALUE));
        assertEquals(PAGE + 1, as.clearUser(a, PAGE + 1));
        assertEquals(3, readByte(as, a), "nothing was cleared");
        assertEquals(0, as.clearUser(a, PAGE));
        check();
    }

    // ---------------------------------------------------------------- execute-only pages

    @Test
    void anExecuteOnlyPageIsReadableExactlyWhenTheHostsIs() {
        boolean host = hostReadsExecuteOnly();
        assertEquals(host, HostKernel.EXEC_ONLY_READABLE, "the probe agrees with a second look at the host");
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 2 * PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
        write(as, a, filled(2 * (int) PAGE, 9));
        as.mprotect(a, PAGE, Prot.EXEC);
        byte[] buf = new byte[16];
        assertEquals(host ? 0 : 16, as.copyFromUser(buf, 0, a + 8, 16));
        assertEquals(host ? 0 : 16, as.copyFromUser(buf, 0, a + PAGE - 8, 16));
        assertEquals(host ? 16 : -Errno.EFAULT.number(), as.strncpyFromUser(new byte[16], 0, a, 16));
        assertEquals(16, as.copyToUser(a, buf, 0, 16), "never writable");
        assertEquals(host, as.checkAccess(a, 1, false));
        as.mprotect(a, PAGE, Prot.READ | Prot.EXEC);
        assertEquals(0, as.copyFromUser(buf, 0, a + 8, 16));
        // Linux makes a mapping execute-only for PROT_EXEC exactly: with another bit it stays readable.
        as.mprotect(a, PAGE, Prot.EXEC | Prot.SEM);
        assertEquals(0, as.copyFromUser(buf, 0, a + 8, 16));
        long b = as.mmap(0, PAGE, Prot.EXEC | 0x100, MapFlags.PRIVATE);
        assertEquals(0, as.copyFromUser(buf, 0, b, 16));
        check();
    }

    /** A page of this process made PROT_EXEC alone, read by the kernel's own copy. */
    private static boolean hostReadsExecuteOnly() {
        long page = Posix.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        int fd = KernelCopy.memfd("exec-only");
        try {
            Posix.segment(page, 1).set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 1);
            Posix.mprotect(page, PAGE, Prot.EXEC);
            return KernelCopy.write(fd, page, 1) == 1;
        } finally {
            Posix.close(fd);
            Posix.munmap(page, PAGE);
        }
    }

    // ---------------------------------------------------------------- mmap's checks, in Linux's order

    @Test
    void anUnalignedHintIsRoundedDownAndUsedWhenFree() {
        machine(small().withAddressSpaceSize(1L << 34));
        AddressSpace as = space();
        assertEquals(0x200033000L, as.mmap(0x20003309bL, PAGE, RW, MapFlags.PRIVATE));
        long other = as.mmap(0x20003309bL, PAGE, RW, MapFlags.PRIVATE);
        assertEquals(0, other % PAGE);
        assertEquals(2, as.grants().size(), "a hint that is taken is only a hint");
        check();
    }

    @Test
    void mmapChecksInLinuxsOrder() throws Exception {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 4 * PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
        List<Grant> before = as.grants();
        // MAP_FIXED_NOREPLACE's overlap comes before the mapping type.
        assertErrno(Errno.EEXIST, () -> as.mmap(a, PAGE, RW, MapFlags.FIXED_NOREPLACE));
        assertErrno(Errno.EEXIST, () -> as.mmap(a, PAGE, RW, MapFlags.FIXED_NOREPLACE | MapFlags.SHARED | MapFlags.PRIVATE));
        assertErrno(Errno.EINVAL, () -> as.mmap(a + 8 * PAGE, PAGE, RW, MapFlags.FIXED_NOREPLACE));
        // The range of a fixed address before its alignment, its alignment before mmap_min_addr.
        assertErrno(Errno.ENOMEM, () -> as.mmap(as.size() - PAGE + 1, 2 * PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED));
        assertErrno(Errno.ENOMEM, () -> as.mmap(-PAGE, PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED));
        assertErrno(Errno.EINVAL, () -> as.mmap(0x1001, PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED));
        assertErrno(Errno.EPERM, () -> as.mmap(0x1000, PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED));
        // Length: 0 is EINVAL before anything, a huge or negative one ENOMEM, before the type.
        assertErrno(Errno.EINVAL, () -> as.mmap(0, 0, RW, 0));
        assertErrno(Errno.ENOMEM, () -> as.mmap(0, -PAGE, RW, 0));
        assertErrno(Errno.ENOMEM, () -> as.mmap(0, -1, RW, MapFlags.PRIVATE));
        assertEquals(before, as.grants(), "no failed call changed anything");
        // mmap ignores protection bits and flags it does not know.
        long b = as.mmap(0, PAGE, RW | 0x100, MapFlags.PRIVATE | 0x4000000 | MapFlags.NORESERVE | MapFlags.STACK);
        assertEquals(RW, as.grants().stream().filter(g -> g.start() * PAGE == b).findFirst().orElseThrow().prot());
        // MAP_GROWSDOWN is ignored, except that shared anonymous memory refuses it, after the overlap (host: 6.18).
        as.mmap(0, PAGE, RW, MapFlags.PRIVATE | MapFlags.GROWSDOWN);
        assertErrno(Errno.EINVAL, () -> as.mmap(0, PAGE, RW, MapFlags.SHARED | MapFlags.GROWSDOWN));
        assertErrno(Errno.EEXIST, () -> as.mmap(a, PAGE, RW, MapFlags.SHARED | MapFlags.GROWSDOWN | MapFlags.FIXED_NOREPLACE));
        // Anonymous memory has no MAP_SHARED_VALIDATE; a file mapping validates its flags with it.
        assertErrno(Errno.EINVAL, () -> as.mmap(0, PAGE, RW, MapFlags.SHARED_VALIDATE));
        Path f = dir.resolve("f");
        Files.write(f, new byte[(int) PAGE]);
        assertErrno(Errno.EOPNOTSUPP, () -> as.mmapFile(0, PAGE, Prot.READ, MapFlags.SHARED_VALIDATE | 0x80000, f, 0)); // MAP_SYNC: only for DAX files
        as.mmapFile(0, PAGE, Prot.READ, MapFlags.SHARED_VALIDATE | MapFlags.POPULATE, f, 0);
        as.mmapFile(0, PAGE, Prot.READ, MapFlags.SHARED | 0x4000000, f, 0);
        // The file offset: unaligned first (the syscall), past the largest file offset EOVERFLOW.
        assertErrno(Errno.EINVAL, () -> as.mmapFile(0, PAGE, Prot.READ, MapFlags.SHARED | MapFlags.PRIVATE, f, 1));
        assertErrno(Errno.EOVERFLOW, () -> as.mmapFile(0, PAGE, Prot.READ, MapFlags.PRIVATE, f, 0x7ffffffffffff000L));
        assertErrno(Errno.EOVERFLOW, () -> as.mmapFile(0, PAGE, Prot.READ, MapFlags.PRIVATE, f, -PAGE));
        check();
    }

    @Test
    void mprotectMadviseAndMsyncCheckInLinuxsOrder() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 4 * PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
        assertErrno(Errno.EINVAL, () -> as.mprotect(a + 1, 0, 0x100)); // "alignment before anything"
        as.mprotect(a, 0, 0x100); // length 0 before the protection's bits
        assertErrno(Errno.EINVAL, () -> as.mprotect(a, PAGE, 0x100));
        assertErrno(Errno.EINVAL, () -> as.mprotect(a + 8 * PAGE, PAGE, 0x100)); // "the bits before the walk"
        assertErrno(Errno.ENOMEM, () -> as.mprotect(a, -PAGE, Prot.READ)); // "a range that wraps"
        assertErrno(Errno.ENOMEM, () -> as.mprotect(as.size(), PAGE, Prot.READ)); // "past user space nothing is mapped"
        assertErrno(Errno.EINVAL, () -> as.mprotect(a, PAGE, Prot.READ | Prot.GROWSDOWN)); // "no mapping grows"
        // From a hole before the mapping: GROWSDOWN finds the mapping and refuses it, GROWSUP needs one at addr (host: 6.18).
        assertErrno(Errno.EINVAL, () -> as.mprotect(a - 2 * PAGE, 4 * PAGE, Prot.READ | Prot.GROWSDOWN));
        assertErrno(Errno.ENOMEM, () -> as.mprotect(a - 2 * PAGE, 4 * PAGE, Prot.READ | Prot.GROWSUP));
        assertErrno(Errno.EINVAL, () -> as.mprotect(a, 2 * PAGE, Prot.READ | Prot.GROWSUP));
        assertErrno(Errno.ENOMEM, () -> as.mprotect(a + 4 * PAGE, 2 * PAGE, Prot.READ | Prot.GROWSDOWN));
        as.mprotect(a, PAGE, Prot.READ | Prot.SEM);
        assertEquals(Prot.READ, as.grants().getFirst().prot());

        assertErrno(Errno.EINVAL, () -> as.madviseDontNeed(a, -PAGE));
        assertErrno(Errno.EINVAL, () -> as.madviseDontNeed(a + 1, 0));
        as.madviseDontNeed(a, 0);
        assertErrno(Errno.ENOMEM, () -> as.madviseDontNeed(a + 8 * PAGE, PAGE));

        assertErrno(Errno.EINVAL, () -> as.msync(a + 1, 0));
        as.msync(a, 0);
        assertErrno(Errno.ENOMEM, () -> as.msync(a, -PAGE));
        assertErrno(Errno.ENOMEM, () -> as.msync(a + 8 * PAGE, PAGE));
        assertErrno(Errno.EINVAL, () -> as.munmap(a, 0));
        assertErrno(Errno.EINVAL, () -> as.munmap(as.size(), PAGE));
        check();
    }

    // ---------------------------------------------------------------- holes

    @Test
    void madviseDropsEveryMappedPartOfTheRangeThenIsEnomem() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 5 * PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
        as.munmap(a + 2 * PAGE, PAGE);
        write(as, a, filled(2 * (int) PAGE, 1));
        write(as, a + 3 * PAGE, filled(2 * (int) PAGE, 2));
        assertErrno(Errno.ENOMEM, () -> as.madviseDontNeed(a, 5 * PAGE));
        assertEquals(0, readByte(as, a));
        assertEquals(0, readByte(as, a + 4 * PAGE + 17), "the part after the hole was dropped too");
        write(as, a + 3 * PAGE, filled(2 * (int) PAGE, 2));
        assertErrno(Errno.ENOMEM, () -> as.madviseDontNeed(a + 2 * PAGE, 3 * PAGE));
        assertEquals(0, readByte(as, a + 3 * PAGE), "a range that starts in a hole drops what follows it");
        check();
    }

    /** Linux's madvise_dontneed_free_valid_vma refuses VM_PFNMAP: EINVAL at once, after the mappings before it, holes or not. */
    @Test
    void madviseStopsAtDeviceFramesWithEinvalHavingDroppedWhatCameBefore() {
        machine();
        AddressSpace as = space();
        long device = mm.config().frames() - mm.config().deviceFrames();
        long a = as.mmap(BASE, PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
        as.mmapPhysical(a + 2 * PAGE, PAGE, RW, MapFlags.SHARED | MapFlags.FIXED, device);
        as.mmap(a + 3 * PAGE, PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
        writeByte(as, a, 1);
        writeByte(as, a + 2 * PAGE, 2);
        writeByte(as, a + 3 * PAGE, 3);
        assertErrno(Errno.EINVAL, () -> as.madviseDontNeed(a, 4 * PAGE));
        assertEquals(0, readByte(as, a), "the mapping before the hole and the device was dropped");
        assertEquals(2, readByte(as, a + 2 * PAGE), "device frames are never dropped");
        assertEquals(3, readByte(as, a + 3 * PAGE), "the mapping after the device was not reached");
        check();
    }

    @Test
    void msyncWritesBackEveryMappedPartOfTheRangeThenIsEnomem() throws Exception {
        Path f = dir.resolve("g");
        Files.write(f, new byte[(int) PAGE * 4]);
        machine();
        AddressSpace as = space();
        long a = as.mmapFile(BASE, 4 * PAGE, RW, MapFlags.SHARED | MapFlags.FIXED, f, 0);
        as.munmap(a + PAGE, PAGE);
        writeByte(as, a, 1);
        writeByte(as, a + 3 * PAGE, 3);
        assertErrno(Errno.ENOMEM, () -> as.msync(a, 4 * PAGE));
        byte[] file = Files.readAllBytes(f);
        assertEquals(1, file[0]);
        assertEquals(3, file[3 * (int) PAGE], "the part after the hole was written back too");
        check();
    }

    /** Past the end of user space nothing is mapped: the same as a hole at the end (host: a range past TASK_SIZE). */
    @Test
    void aRangeThatRunsPastUserSpaceDoesItsMappedPartThenIsEnomem() {
        machine();
        AddressSpace as = space();
        long top = as.size() - PAGE;
        as.mmap(top, PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
        writeByte(as, top, 5);
        assertErrno(Errno.ENOMEM, () -> as.madviseDontNeed(top, 2 * PAGE));
        assertEquals(0, readByte(as, top), "the mapped page was dropped");
        assertErrno(Errno.ENOMEM, () -> as.msync(top, 2 * PAGE));
        assertErrno(Errno.ENOMEM, () -> as.mprotect(top, 2 * PAGE, Prot.READ));
        assertEquals(List.of(Prot.READ), as.grants().stream().map(Grant::prot).toList(), "the mapped page was changed");
        as.madviseDontNeed(top, PAGE);
        as.msync(top, PAGE);
        as.mprotect(top, PAGE, RW);
        check();
    }

    @Test
    void mprotectStopsAtAFileThatMayNotBeWrittenHavingChangedWhatCameBefore() throws Exception {
        Path f = dir.resolve("ro");
        Files.write(f, new byte[(int) PAGE]);
        f.toFile().setWritable(false);
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, PAGE, Prot.READ, MapFlags.PRIVATE | MapFlags.FIXED);
        as.mmapFile(a + PAGE, PAGE, Prot.READ, MapFlags.SHARED | MapFlags.FIXED, f, 0);
        as.mmap(a + 2 * PAGE, PAGE, Prot.READ, MapFlags.PRIVATE | MapFlags.FIXED);
        if (Files.isWritable(f)) {
            return; // root writes anyway: then Linux has no EACCES to give either
        }
        assertErrno(Errno.EACCES, () -> as.mprotect(a, 3 * PAGE, RW));
        assertEquals(List.of(RW, Prot.READ, Prot.READ), as.grants().stream().map(Grant::prot).toList());
        check();
    }

    // ---------------------------------------------------------------- isolation

    @Test
    void deviceFramesThatWouldWrapAroundAreRefused() {
        machine(small().withFrames(8192));
        AddressSpace victim = space();
        long v = victim.mmap(BASE, 64 * PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
        write(victim, v, filled(64 * (int) PAGE, 0x5a));
        AddressSpace attacker = space();
        for (long base : new long[] {Long.MAX_VALUE, Long.MAX_VALUE - 1000, Long.MIN_VALUE, -1, 1L << 52, (1L << 52) + 600,
                8192 - 1, 8192, 0, 600}) {
            assertErrno(Errno.EINVAL, () -> attacker.mmapPhysical(0, 1024 * PAGE, RW, MapFlags.SHARED, base));
        }
        assertErrno(Errno.EINVAL, () -> attacker.mmapPhysical(0, 2 * PAGE, RW, MapFlags.SHARED, 8191));
        assertErrno(Errno.EINVAL, () -> attacker.mmapPhysical(0, -PAGE, RW, MapFlags.SHARED, 8190));
        assertEquals(List.of(), attacker.grants());
        assertArrayEquals(filled(64 * (int) PAGE, 0x5a), read(victim, v, 64 * (int) PAGE));
        check();
    }

    @Test
    void aLenderAddressOutsideTheLenderIsRefused() {
        machine();
        AddressSpace lender = space();
        long l = lender.mmap(BASE, PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
        AddressSpace as = space();
        for (long at : new long[] {-PAGE, Long.MIN_VALUE, lender.size(), lender.size() + PAGE, Long.MAX_VALUE & -PAGE}) {
            assertErrno(Errno.EINVAL, () -> as.mmapExternal(0, PAGE, Prot.READ, MapFlags.SHARED, lender, at));
        }
        assertEquals(List.of(), as.grants());
        long b = as.mmapExternal(0, PAGE, RW, MapFlags.SHARED, lender, l);
        writeByte(as, b, 4);
        assertEquals(4, readByte(lender, l));
        check();
    }

    @Test
    void noConfigOrPageTableEntryCanNameAFrameOutsideTheMachine() {
        MemoryManager.Config c = small();
        // Negative device frames would put the allocator's frames past the end of physical memory.
        assertThrows(IllegalArgumentException.class, () -> new MemoryManager.Config(c.frames(), c.faultAround(), c.vmaBudget(),
                c.addressSpaceSize(), -1, c.forkMode(), c.profile()));
        assertThrows(IllegalArgumentException.class, () -> c.withVmaBudget(-1));
        assertThrows(IllegalArgumentException.class, () -> c.withAddressSpaceSize(MemoryManager.MAX_ADDRESS_SPACE + PAGE));
        assertEquals(MemoryManager.MAX_ADDRESS_SPACE, c.withAddressSpaceSize(MemoryManager.MAX_ADDRESS_SPACE).addressSpaceSize());
        // An entry holds the frame it was given, or refuses it: never one whose high bits were shifted away.
        for (long frame : new long[] {PageTable.MAX_FRAME + 1, 1L << 52, Long.MAX_VALUE, -1, Long.MIN_VALUE}) {
            assertThrows(IllegalArgumentException.class, () -> PageTable.entry(frame, 0), "frame " + frame);
        }
        assertEquals(PageTable.MAX_FRAME, PageTable.frame(PageTable.entry(PageTable.MAX_FRAME, PageTable.ZERO)));
    }

    @Test
    void extremeArgumentsAreErrnosAndChangeNothing() {
        machine();
        AddressSpace victim = space();
        long v = victim.mmap(BASE, 16 * PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
        write(victim, v, filled(16 * (int) PAGE, 0x5a));
        AddressSpace as = space();
        as.mmap(BASE, 4 * PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
        long[] values = {Long.MIN_VALUE, Long.MIN_VALUE + PAGE, -PAGE, -1, 0, 1, PAGE, as.size() - PAGE, as.size(), as.size() + PAGE,
                1L << 47, 1L << 51, 1L << 52, 1L << 63 >>> 12, Long.MAX_VALUE - PAGE + 1, Long.MAX_VALUE};
        int calls = 0;
        for (long x : values) {
            for (long y : values) {
                calls += survives(() -> as.munmap(x, y));
                calls += survives(() -> as.mprotect(x, y, Prot.READ));
                calls += survives(() -> as.madviseDontNeed(x, y));
                calls += survives(() -> as.msync(x, y));
                calls += survives(() -> as.mmap(x, y, Prot.READ, MapFlags.PRIVATE | MapFlags.FIXED_NOREPLACE));
                calls += survives(() -> as.mmapPhysical(x, PAGE, Prot.READ, MapFlags.SHARED, y));
                calls += survives(() -> as.mmapExternal(x, PAGE, Prot.READ, MapFlags.SHARED, victim, y));
                calls += survives(() -> as.copyFromUser(new byte[8], 0, x, 8));
                calls += survives(() -> as.copyToUser(x, new byte[8], 0, 8));
                calls += survives(() -> as.clearUser(x, Math.max(0, y)));
                calls += survives(() -> as.strncpyFromUser(new byte[8], 0, x, 8));
                calls += survives(() -> as.checkAccess(x, y, false));
                calls += survives(() -> as.populate(x, y, false));
                calls += survives(() -> as.resolve(x, true));
                calls += survives(() -> as.pageState(x));
                calls += survives(() -> as.frameOf(x));
                calls += survives(() -> as.peekPage(x, new byte[(int) PAGE]));
            }
            mm.checkInvariants();
        }
        assertEquals(values.length * values.length * 17, calls);
        assertArrayEquals(filled(16 * (int) PAGE, 0x5a), read(victim, v, 16 * (int) PAGE), "the other space is untouched");
        assertNull(victim.grants().stream().filter(g -> g.start() != v / PAGE).findAny().orElse(null));
        check();
    }

    /** Runs {@code op}: it may succeed or fail with an errno, and nothing else. */
    private static int survives(org.junit.jupiter.api.function.Executable op) {
        try {
            op.execute();
        } catch (ErrnoException e) {
            // an errno is an answer
        } catch (Throwable t) {
            throw new AssertionError("an extreme argument escaped as " + t, t);
        }
        return 1;
    }

}
