package dev.usercopy.mm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.function.Executable;

import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Scaffolding for the memory-manager scenario tests: one small machine per
 * test, address spaces that are closed at the end, and the checks every
 * step ends with. After the test every address space is closed and the
 * machine must have no frame in use.
 */
public abstract class MmScenario {
    protected static final long PAGE = AddressSpace.PAGE;
    /** A 16-page-aligned guest address (page 256), so fault-around windows are easy to name. */
    protected static final long BASE = 0x100000;

    protected MemoryManager mm;
    private final List<AddressSpace> spaces = new ArrayList<>();

    protected static MemoryManager.Config small() {
        return MemoryManager.Config.defaults().withFrames(8192).withAddressSpaceSize(1L << 30);
    }

    /** Starts this test's machine. */
    protected MemoryManager machine(MemoryManager.Config config) {
        if (mm != null) {
            throw new IllegalStateException("one machine per test");
        }
        mm = new MemoryManager(config);
        return mm;
    }

    protected MemoryManager machine() {
        return machine(small());
    }

    protected AddressSpace space() {
        AddressSpace s = mm.newAddressSpace();
        spaces.add(s);
        return s;
    }

    protected AddressSpace fork(AddressSpace parent) {
        AddressSpace c = parent.fork();
        spaces.add(c);
        return c;
    }

    @AfterEach
    protected void closeEverything() {
        if (mm == null) {
            return;
        }
        try {
            for (AddressSpace s : spaces) {
                s.close();
            }
            mm.checkInvariants();
            assertEquals(0, mm.stats().usedFrames(), "frames still in use after every address space closed");
            assertEquals(0, mm.stats().addressSpaces(), "address spaces still registered");
            assertEquals(0, mm.stats().vmas(), "host mappings still counted after every address space closed");
        } finally {
            mm.close();
        }
    }

    /** The end of every step: the manager's invariants (refcounts against page tables, host mappings against page tables). */
    protected void check() {
        mm.checkInvariants();
    }

    /** {@link #check}, and the VMA model of each space against what /proc/self/maps says for it. */
    protected void checkMeasured(AddressSpace... measured) {
        mm.checkInvariants();
        for (int i = 0; i < measured.length; i++) {
            assertEquals(measured[i].vmas(), measured[i].hostVmasMeasured(), "host mappings of space " + i + ": model vs /proc/self/maps");
        }
    }

    protected long used() {
        return mm.stats().usedFrames();
    }

    protected static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed * 17 + (i >>> 12) * 7 + 1);
        }
        return b;
    }

    protected static byte[] filled(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }

    /** Writes all of {@code data} at {@code addr}, failing the test on a short copy. */
    protected static void write(AddressSpace s, long addr, byte[] data) {
        assertEquals(0, s.copyToUser(addr, data, 0, data.length), "bytes not written at 0x" + Long.toHexString(addr));
    }

    protected static void writeByte(AddressSpace s, long addr, int value) {
        write(s, addr, new byte[] {(byte) value});
    }

    /** Reads {@code length} bytes at {@code addr}, failing the test on a short copy. */
    protected static byte[] read(AddressSpace s, long addr, int length) {
        byte[] b = new byte[length];
        assertEquals(0, s.copyFromUser(b, 0, addr, length), "bytes not read at 0x" + Long.toHexString(addr));
        return b;
    }

    protected static int readByte(AddressSpace s, long addr) {
        return read(s, addr, 1)[0];
    }

    protected static void assertBytes(byte[] expected, AddressSpace s, long addr) {
        assertArrayEquals(expected, read(s, addr, expected.length), "guest bytes at 0x" + Long.toHexString(addr));
    }

    protected static long frame(AddressSpace s, long addr) {
        long[] f = s.frameOf(addr);
        if (f == null) {
            throw new AssertionError("page 0x" + Long.toHexString(addr) + " is not present");
        }
        return f[0];
    }

    protected static long refcount(AddressSpace s, long addr) {
        long[] f = s.frameOf(addr);
        if (f == null) {
            throw new AssertionError("page 0x" + Long.toHexString(addr) + " is not present");
        }
        return f[1];
    }

    protected static ErrnoException assertErrno(Errno errno, Executable op) {
        ErrnoException e = assertThrows(ErrnoException.class, op);
        assertEquals(errno, e.errno(), e.getMessage());
        return e;
    }

    protected static byte[] slice(byte[] b, int from, int length) {
        return Arrays.copyOfRange(b, from, from + length);
    }
}
