package dev.usercopy.proc;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.uapi.Errno;

/**
 * A static x86-64 ELF program ({@code ET_EXEC}, or static-pie {@code ET_DYN})
 * and its loading into an address space, as Linux's {@code load_elf_binary}
 * does for a program without an interpreter: each {@code PT_LOAD} segment a
 * private mapping of the file, the rest of its last file page zeroed, and
 * its bss anonymous pages; {@code PT_GNU_STACK} says whether the stack may
 * execute.
 */
final class ElfImage {
    static final int PT_LOAD = 1;
    static final int PT_INTERP = 3;
    static final int PT_PHDR = 6;
    static final int PT_GNU_STACK = 0x6474e551;
    static final int PF_X = 1;
    static final int PF_W = 2;
    static final int PF_R = 4;
    /** Where a static-pie program is loaded: Linux picks at random; here a fixed place low in the space. */
    static final long PIE_BASE = 0x10000000L;
    private static final long PAGE = AddressSpace.PAGE;

    record Segment(int type, int flags, long offset, long vaddr, long filesz, long memsz) {}

    final Path file;
    final int type;
    final long entry;
    final long phoff;
    final int phnum;
    final List<Segment> segments;

    private ElfImage(Path file, int type, long entry, long phoff, int phnum, List<Segment> segments) {
        this.file = file;
        this.type = type;
        this.entry = entry;
        this.phoff = phoff;
        this.phnum = phnum;
        this.segments = segments;
    }

    /** Reads the headers; ENOEXEC for anything but a static x86-64 executable, as execve answers. */
    static ElfImage read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer h = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            if (ch.read(h, 0) < 64 || h.getInt(0) != 0x464c457f) {
                throw noexec(file, "not an ELF file");
            }
            if (h.get(4) != 2 || h.get(5) != 1 || h.getShort(18) != 0x3e) {
                throw noexec(file, "not a 64-bit little-endian x86-64 ELF");
            }
            int type = h.getShort(16);
            if (type != 2 && type != 3) {
                throw noexec(file, "ELF type " + type + " is neither an executable nor a position-independent one");
            }
            long entry = h.getLong(24);
            long phoff = h.getLong(32);
            int phentsize = h.getShort(54) & 0xffff;
            int phnum = h.getShort(56) & 0xffff;
            // Linux reads at most ELF_MIN_ALIGN bytes of them: 73 headers.
            if (phentsize != 56 || phnum == 0 || 56 * phnum > PAGE || phoff < 0 || phoff > ch.size()) {
                throw noexec(file, "bad program headers");
            }
            ByteBuffer ph = ByteBuffer.allocate(56 * phnum).order(ByteOrder.LITTLE_ENDIAN);
            if (ch.read(ph, phoff) != ph.capacity()) {
                throw noexec(file, "program headers past the end of the file");
            }
            List<Segment> segments = new ArrayList<>();
            for (int i = 0; i < phnum; i++) {
                int o = 56 * i;
                Segment s = new Segment(ph.getInt(o), ph.getInt(o + 4), ph.getLong(o + 8), ph.getLong(o + 16), ph.getLong(o + 32),
                        ph.getLong(o + 40));
                if (s.type() == PT_INTERP) {
                    throw noexec(file, "a dynamically linked program (it names an interpreter); only static programs run here");
                }
                if (s.type() == PT_LOAD && (s.filesz() > s.memsz() || s.vaddr() % PAGE != s.offset() % PAGE || s.offset() < 0
                        || s.vaddr() < 0 || s.memsz() < 0 || s.vaddr() + s.memsz() < s.vaddr())) {
                    throw noexec(file, "bad PT_LOAD segment " + i);
                }
                segments.add(s);
            }
            if (segments.stream().noneMatch(s -> s.type() == PT_LOAD)) {
                throw noexec(file, "no loadable segment");
            }
            return new ElfImage(file, type, entry, phoff, phnum, segments);
        }
    }

    private static ErrnoException noexec(Path file, String why) {
        return new ErrnoException(Errno.ENOEXEC, 0, 0, file + ": " + why);
    }

    /** Where the program's addresses start: 0 for ET_EXEC, {@link #PIE_BASE} for static-pie. */
    long base() {
        return type == 3 ? PIE_BASE : 0;
    }

    /** What {@link #load} made: where to start, the program headers, the first page past the program. */
    record Loaded(long entry, long phdr, int phnum, long brk, boolean execStack, List<long[]> fileRanges) {}

    /** Maps the segments into {@code space}, which must be empty where they go. */
    Loaded load(AddressSpace space) {
        long base = base();
        long end = 0;
        long phdr = 0;
        boolean execStack = false; // x86-64 without PT_GNU_STACK: only ia32 programs get an executable stack (Linux 5.8)
        List<long[]> fileRanges = new ArrayList<>();
        for (Segment s : segments) {
            if (s.type() == PT_GNU_STACK) {
                execStack = (s.flags() & PF_X) != 0;
            }
            if (s.type() == PT_PHDR) {
                phdr = base + s.vaddr();
            }
            if (s.type() != PT_LOAD || s.memsz() == 0) {
                continue;
            }
            int prot = ((s.flags() & PF_R) != 0 ? 1 : 0) | ((s.flags() & PF_W) != 0 ? 2 : 0) | ((s.flags() & PF_X) != 0 ? 4 : 0);
            long vaddr = base + s.vaddr();
            long start = vaddr - vaddr % PAGE;
            long fileEnd = vaddr + s.filesz();
            long memEnd = vaddr + s.memsz();
            long filePagesEnd = pageUp(fileEnd);
            if (s.filesz() > 0) {
                space.mmapFile(start, filePagesEnd - start, prot, MapFlags.PRIVATE | MapFlags.FIXED, file, s.offset() - (vaddr - start));
                fileRanges.add(new long[] {start, filePagesEnd});
                if (memEnd > fileEnd && fileEnd < filePagesEnd && (prot & 2) != 0) {
                    space.clearUser(fileEnd, filePagesEnd - fileEnd); // the bss's first bytes share the file's last page
                }
            } else {
                filePagesEnd = start;
            }
            if (pageUp(memEnd) > filePagesEnd) {
                // Linux maps these with vm_brk_flags: read-write whatever the segment's flags, executable if it is.
                space.mmap(filePagesEnd, pageUp(memEnd) - filePagesEnd, 3 | (prot & 4), MapFlags.PRIVATE | MapFlags.FIXED | MapFlags.ANONYMOUS);
            }
            if (phdr == 0 && phoff >= s.offset() && phoff + 56L * phnum <= s.offset() + s.filesz()) {
                phdr = vaddr + (phoff - s.offset());
            }
            end = Math.max(end, pageUp(memEnd));
        }
        return new Loaded(base + entry, phdr, phnum, end, execStack, fileRanges);
    }

    private static long pageUp(long a) {
        return (a + PAGE - 1) & -PAGE;
    }
}
