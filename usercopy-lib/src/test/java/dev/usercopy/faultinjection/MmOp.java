package dev.usercopy.faultinjection;

import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.Prot;

/**
 * One step of an {@link MmOracleTest} sequence, on address space (and host
 * process) number {@code space}: 0 is the first, each fork adds the next.
 * Addresses and lengths are the guest's, as the guest was asked.
 */
sealed interface MmOp {
    int space();

    /** The mmap of file number {@code file} (0 or 1) at {@code offset}, or anonymous when {@code file} is -1. */
    record Mmap(int space, long addr, long length, int prot, int flags, int file, long offset) implements MmOp {
        @Override
        public String toString() {
            return "mmap(" + hex(addr) + ", " + hex(length) + ", " + protName(prot) + ", " + flagsName(flags)
                    + (file < 0 ? "" : ", file " + file + " at " + hex(offset)) + ")";
        }
    }

    record Munmap(int space, long addr, long length) implements MmOp {
        @Override
        public String toString() {
            return "munmap(" + hex(addr) + ", " + hex(length) + ")";
        }
    }

    record Mprotect(int space, long addr, long length, int prot) implements MmOp {
        @Override
        public String toString() {
            return "mprotect(" + hex(addr) + ", " + hex(length) + ", " + protName(prot) + ")";
        }
    }

    record MadviseDontNeed(int space, long addr, long length) implements MmOp {
        @Override
        public String toString() {
            return "madvise(" + hex(addr) + ", " + hex(length) + ", MADV_DONTNEED)";
        }
    }

    record Msync(int space, long addr, long length) implements MmOp {
        @Override
        public String toString() {
            return "msync(" + hex(addr) + ", " + hex(length) + ", MS_SYNC)";
        }
    }

    /** copy_from_user of {@code length} bytes at {@code addr}. */
    record CopyFrom(int space, long addr, int length) implements MmOp {
        @Override
        public String toString() {
            return "copy_from_user(" + hex(addr) + ", " + length + ")";
        }
    }

    /** copy_to_user of {@code length} bytes made from {@code dataSeed} to {@code addr}. */
    record CopyTo(int space, long addr, int length, long dataSeed) implements MmOp {
        @Override
        public String toString() {
            return "copy_to_user(" + hex(addr) + ", " + length + " bytes of seed " + dataSeed + ")";
        }
    }

    record Clear(int space, long addr, long length) implements MmOp {
        @Override
        public String toString() {
            return "clear_user(" + hex(addr) + ", " + hex(length) + ")";
        }
    }

    /** strncpy_from_user of at most {@link MmOracleRun#STRNCPY_COUNT} bytes (the host's PR_SET_NAME). */
    record Strncpy(int space, long addr) implements MmOp {
        @Override
        public String toString() {
            return "strncpy_from_user(" + hex(addr) + ", " + MmOracleRun.STRNCPY_COUNT + ")";
        }
    }

    /** Forks space {@code space}; the child is the next number. */
    record Fork(int space) implements MmOp {
        @Override
        public String toString() {
            return "fork()";
        }
    }

    /** Ends space {@code space} (never 0): the guest closes it, the host process exits. */
    record Exit(int space) implements MmOp {
        @Override
        public String toString() {
            return "exit()";
        }
    }

    static String hex(long v) {
        return v < 0 ? "-0x" + Long.toHexString(-v) : "0x" + Long.toHexString(v);
    }

    static String protName(int prot) {
        String s = Prot.toString(prot & 7);
        return (prot & ~7) == 0 ? s : s + "|0x" + Integer.toHexString(prot & ~7);
    }

    static String flagsName(int flags) {
        StringBuilder s = new StringBuilder();
        if ((flags & 3) == 3) {
            s.append("|SHARED|PRIVATE");
        } else if ((flags & MapFlags.SHARED) != 0) {
            s.append("|SHARED");
        } else if ((flags & MapFlags.PRIVATE) != 0) {
            s.append("|PRIVATE");
        }
        if ((flags & MapFlags.FIXED) != 0) {
            s.append("|FIXED");
        }
        if ((flags & MapFlags.FIXED_NOREPLACE) != 0) {
            s.append("|FIXED_NOREPLACE");
        }
        if ((flags & MapFlags.POPULATE) != 0) {
            s.append("|POPULATE");
        }
        int other = flags & ~(3 | MapFlags.FIXED | MapFlags.FIXED_NOREPLACE | MapFlags.POPULATE);
        if (other != 0) {
            s.append("|0x").append(Integer.toHexString(other));
        }
        return s.isEmpty() ? "0" : s.substring(1);
    }
}
