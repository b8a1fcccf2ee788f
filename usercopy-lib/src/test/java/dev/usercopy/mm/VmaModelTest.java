package dev.usercopy.mm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.usercopy.mm.MemoryManager.ForkMode;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The VMA model (what the budget counts) against the kernel: after every
 * step of a varied sequence, each address space's {@code vmas()} equals the
 * lines /proc/self/maps has for its reservation.
 */
class VmaModelTest extends MmScenario {
    private static final int RW = Prot.READ | Prot.WRITE;

    @TempDir
    Path dir;

    private final List<AddressSpace> live = new ArrayList<>();
    private final List<String> steps = new ArrayList<>();

    /** Checks every live space after a step and names the steps so far on a mismatch. */
    private void step(String what) {
        steps.add(what);
        mm.checkInvariants();
        for (int i = 0; i < live.size(); i++) {
            AddressSpace s = live.get(i);
            assertEquals(s.vmas(), s.hostVmasMeasured(), "space " + i + " after steps " + steps);
        }
    }

    @Test
    void aFreshAddressSpaceIsOneHostMapping() {
        machine();
        live.add(space());
        step("new space");
        assertEquals(1, live.get(0).vmas());
    }

    @Test
    void twoAddressSpacesEachMeasureTheirOwnMappings() {
        machine();
        live.add(space());
        live.add(space());
        step("two new spaces");
        long a = live.get(1).mmap(BASE, 4 * PAGE, RW, MapFlags.PRIVATE);
        writeByte(live.get(1), a, 1);
        writeByte(live.get(0), live.get(0).mmap(BASE, 4 * PAGE, RW, MapFlags.PRIVATE), 1);
        step("a mapping in each");
    }

    @Test
    void aVariedSequenceInOneAddressSpaceMatchesTheKernel() throws IOException {
        machine();
        AddressSpace as = space();
        live.add(as);
        runSequence(as);
    }

    @ParameterizedTest
    @EnumSource(ForkMode.class)
    void aVariedSequenceWithForksMatchesTheKernelInEverySpace(ForkMode mode) throws IOException {
        machine(small().withForkMode(mode));
        AddressSpace parent = space();
        live.add(parent);
        long[] m = runSequence(parent);
        long a = m[0];
        long s = m[1];

        AddressSpace child = fork(parent);
        live.add(child);
        step("fork");
        write(child, a + 2 * PAGE, filled(3 * (int) PAGE, 1));
        step("child breaks copy-on-write on 3 pages");
        writeByte(parent, a + 40 * PAGE, 2);
        step("parent breaks copy-on-write on one page");
        writeByte(child, a + 40 * PAGE, 3);
        step("child writes the page the parent copied: in place");
        child.munmap(a + 20 * PAGE, 4 * PAGE);
        step("child unmaps a middle");
        parent.munmap(s + 2 * PAGE, PAGE);
        step("parent unmaps a page of the shared mapping");
        writeByte(child, s + 3 * PAGE, 4);
        step("child writes the shared mapping");
        child.mprotect(a + 16 * PAGE, 4 * PAGE, RW);
        step("child makes part of the read-only middle writable");

        AddressSpace grandchild = fork(child);
        live.add(grandchild);
        step("fork of the child");
        write(grandchild, a + 8 * PAGE, filled(8 * (int) PAGE, 5));
        step("grandchild writes 8 pages");
        child.madviseDontNeed(a + 8 * PAGE, 4 * PAGE);
        step("child drops 4 pages");
        write(child, a + 8 * PAGE, filled(4 * (int) PAGE, 6));
        step("child refills them");

        parent.close();
        live.remove(parent);
        step("parent closes");
        write(child, a, filled(20 * (int) PAGE, 7));
        step("child writes its mapping after the parent left");
        child.close();
        live.remove(child);
        step("child closes");
    }

    /** Mappings with different protections, partial mprotect, holes, MAP_FIXED, a file mapping, msync. Returns {private, shared}. */
    private long[] runSequence(AddressSpace as) throws IOException {
        long a = as.mmap(BASE, 64 * PAGE, RW, MapFlags.PRIVATE);
        step("mmap private rw");
        write(as, a, pattern(64 * (int) PAGE, 1));
        step("fill it");
        long r = as.mmap(BASE + 80 * PAGE, 16 * PAGE, Prot.READ, MapFlags.PRIVATE);
        read(as, r, 16 * (int) PAGE);
        step("read-only mapping read: zeroed frames");
        long n = as.mmap(BASE + 100 * PAGE, 4 * PAGE, Prot.NONE, MapFlags.PRIVATE | MapFlags.POPULATE);
        step("PROT_NONE populated");
        as.mprotect(a + 16 * PAGE, 16 * PAGE, Prot.READ);
        step("mprotect the middle read-only");
        as.mprotect(a + 24 * PAGE, 4 * PAGE, RW);
        step("mprotect a middle of the middle back");
        as.munmap(a + 50 * PAGE, 3 * PAGE);
        step("munmap a middle");
        as.mmap(r + 4 * PAGE, 4 * PAGE, RW, MapFlags.PRIVATE | MapFlags.FIXED);
        step("MAP_FIXED over part of the read-only mapping");
        write(as, r + 4 * PAGE, filled(4 * (int) PAGE, 2));
        step("write the replacement");
        assertEquals(1, as.copyToUser(r + 9 * PAGE, new byte[1], 0, 1));
        step("a write to a read-only page fails");
        as.mprotect(r, 16 * PAGE, RW);
        step("make the whole read-only mapping writable");
        writeByte(as, r + 9 * PAGE, 3);
        step("write a zeroed page: a frame of its own");
        long s = as.mmap(BASE + 120 * PAGE, 8 * PAGE, RW, MapFlags.SHARED);
        writeByte(as, s, 1);
        step("shared mapping written");
        Path file = dir.resolve("vma.bin");
        Files.write(file, pattern(3 * (int) PAGE, 3));
        long f = as.mmapFile(BASE + 140 * PAGE, 3 * PAGE, RW, MapFlags.SHARED, file, 0);
        read(as, f, 3 * (int) PAGE);
        step("shared file mapping read");
        writeByte(as, f + PAGE, 9);
        step("one page of it dirtied");
        as.msync(f, 3 * PAGE);
        step("msync cleans it");
        as.madviseDontNeed(a + 4 * PAGE, 2 * PAGE);
        step("madvise two private pages");
        as.munmap(n, 4 * PAGE);
        step("unmap the PROT_NONE mapping");
        as.mprotect(a, 16 * PAGE, RW);
        step("mprotect to what it was");
        return new long[] {a, s};
    }
}
