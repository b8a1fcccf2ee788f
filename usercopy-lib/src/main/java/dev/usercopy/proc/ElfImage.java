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
import dev.usercopy.sys.FsContext;
import dev.usercopy.uapi.Errno;

/**
 * An x86-64 ELF program ({@code ET_EXEC} or {@code ET_DYN}) and its loading
 * into an address space, as Linux's {@code load_elf_binary} does: each
 * {@code PT_LOAD} segment a private mapping of the file, the rest of its
 * last file page zeroed, and its bss anonymous pages; {@code PT_GNU_STACK}
 * says whether the stack may execute. A dynamically linked program names
 * its interpreter ({@code PT_INTERP}, the dynamic linker): the interpreter
 * is loaded too, top-down below {@code mmap_base} as Linux's first mmap
 * would place it, and the program starts there, told where the program is
 * by the auxiliary vector ({@code AT_PHDR}, {@code AT_ENTRY},
 * {@code AT_BASE}). Addresses are Linux's with randomization off
 * ({@code setarch -R}), scaled to the guest's user space.
 */
final class ElfImage {
    static final int PT_LOAD = 1;
    static final int PT_INTERP = 3;
    static final int PT_PHDR = 6;
    static final int PT_GNU_STACK = 0x6474e551;
    static final int PF_X = 1;
    static final int PF_W = 2;
    static final int PF_R = 4;
    /** Linux's PATH_MAX: the longest PT_INTERP it reads, its NUL included. */
    static final int PATH_MAX = 4096;
    /** Where a static-pie program is loaded: Linux picks at random; here a fixed place low in the space. */
    static final long PIE_BASE = 0x10000000L;
    private static final long PAGE = AddressSpace.PAGE;

    record Segment(int type, int flags, long offset, long vaddr, long filesz, long memsz, long align) {}

    final Path file;
    final int type;
    final long entry;
    final long phoff;
    final int phnum;
    final List<Segment> segments;
    /** The interpreter's path (PT_INTERP, without its NUL); null for a static program. */
    final byte[] interp;

    private ElfImage(Path file, int type, long entry, long phoff, int phnum, List<Segment> segments, byte[] interp) {
        this.file = file;
        this.interp = interp;
        this.type = type;
        this.entry = entry;
        this.phoff = phoff;
        this.phnum = phnum;
        this.segments = segments;
    }

    /** Reads the headers (and the interpreter's path); ENOEXEC for anything but an x86-64 executable, as execve answers. */
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
            byte[] interp = null;
            for (int i = 0; i < phnum; i++) {
                int o = 56 * i;
                Segment s = new Segment(ph.getInt(o), ph.getInt(o + 4), ph.getLong(o + 8), ph.getLong(o + 16), ph.getLong(o + 32),
                        ph.getLong(o + 40), ph.getLong(o + 48));
                if (s.type() == PT_INTERP && interp == null) {
                    interp = interpreterPath(file, ch, s);
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
            return new ElfImage(file, type, entry, phoff, phnum, segments, interp);
        }
    }

    /** PT_INTERP's path as load_elf_binary takes it: 2..PATH_MAX bytes ending in a NUL (ENOEXEC otherwise), up to its first NUL. */
    private static byte[] interpreterPath(Path file, FileChannel ch, Segment s) throws IOException {
        if (s.filesz() < 2 || s.filesz() > PATH_MAX || s.offset() < 0) {
            throw noexec(file, "bad PT_INTERP size " + s.filesz());
        }
        ByteBuffer b = ByteBuffer.allocate((int) s.filesz());
        if (ch.read(b, s.offset()) != b.capacity()) {
            throw noexec(file, "PT_INTERP past the end of the file");
        }
        byte[] bytes = b.array();
        if (bytes[bytes.length - 1] != 0) {
            throw noexec(file, "PT_INTERP's path is not NUL-terminated");
        }
        int n = 0;
        while (bytes[n] != 0) {
            n++;
        }
        return java.util.Arrays.copyOf(bytes, n);
    }

    private static ErrnoException noexec(Path file, String why) {
        return new ErrnoException(Errno.ENOEXEC, 0, 0, file + ": " + why);
    }

    /**
     * Where the program's addresses start: 0 for ET_EXEC; for ET_DYN with
     * an interpreter Linux's ELF_ET_DYN_BASE (two thirds of user space
     * ending at {@code top}), aligned to the largest PT_LOAD alignment; for
     * static-pie {@link #PIE_BASE}.
     */
    long base(long top) {
        if (type != 3) {
            return 0;
        }
        long first = segments.stream().filter(s -> s.type() == PT_LOAD).mapToLong(Segment::vaddr).findFirst().orElse(0);
        long start = interp == null ? PIE_BASE : (top / 3 * 2) & -Math.max(PAGE, maxAlign());
        return (start - first) & -PAGE; // Linux: load_bias = ELF_PAGESTART(base - the first PT_LOAD's vaddr)
    }

    /** The largest power-of-two p_align among the PT_LOAD segments (Linux's maximum_alignment). */
    private long maxAlign() {
        long align = PAGE;
        for (Segment s : segments) {
            long a = s.align();
            if (s.type() == PT_LOAD && a > align && Long.bitCount(a) == 1 && a <= 1L << 30) {
                align = a;
            }
        }
        return align;
    }

    /** The bytes from the first PT_LOAD's page to the end of the last, as Linux's total_mapping_size. */
    long span() {
        long lo = Long.MAX_VALUE;
        long hi = 0;
        for (Segment s : segments) {
            if (s.type() == PT_LOAD) {
                lo = Math.min(lo, s.vaddr() & -PAGE);
                hi = Math.max(hi, pageUp(s.vaddr() + s.memsz()));
            }
        }
        return hi - lo;
    }

    /** The lowest PT_LOAD page's address in the file's own numbering. */
    private long firstPage() {
        return segments.stream().filter(s -> s.type() == PT_LOAD).mapToLong(s -> s.vaddr() & -PAGE).min().orElse(0);
    }

    /**
     * What {@link #load} made: where the program starts (its interpreter's
     * entry when it has one), the program's own entry and headers (for
     * AT_ENTRY and AT_PHDR), the interpreter's base (AT_BASE; 0 for none),
     * the first page past the program, and the file-backed ranges to read in.
     */
    record Loaded(long start, long entry, long phdr, int phnum, long interpBase, long brk, boolean execStack, List<long[]> fileRanges) {}

    /**
     * Maps the program into {@code space}, which must be empty where it
     * goes; a dynamically linked one with its interpreter, which
     * {@code interpreters} finds (a guest path to a host file, with
     * execve's errnos) and which goes where {@code place} says for its
     * span (where mmap would put that many bytes). ELIBBAD when the
     * interpreter is no x86-64 ELF, as Linux answers.
     */
    Loaded load(AddressSpace space, long top, java.util.function.LongUnaryOperator place,
            java.util.function.Function<byte[], FsContext.Executable> interpreters) {
        Mapped program = map(space, base(top));
        if (interp == null) {
            return new Loaded(program.entry, program.entry, program.phdr, phnum, 0, program.end, program.execStack, program.fileRanges);
        }
        try (FsContext.Executable opened = interpreters.apply(interp)) {
            return withInterpreter(space, top, place, program, opened.path());
        }
    }

    private Loaded withInterpreter(AddressSpace space, long top, java.util.function.LongUnaryOperator place, Mapped program, Path host) {
        ElfImage ld;
        try {
            ld = read(host);
        } catch (ErrnoException | IOException e) {
            throw new ErrnoException(Errno.ELIBBAD, 0, 0, new String(interp, java.nio.charset.StandardCharsets.UTF_8)
                    + ": not an interpreter this loader can run: " + e.getMessage());
        }
        long span = ld.span();
        long at = ld.type == 3 ? place.applyAsLong(span) : ld.firstPage();
        if (span <= 0 || at < AddressSpace.MIN_ADDRESS || at + span > top || at + span < at) {
            throw new ErrnoException(Errno.ENOMEM, at, span, host + ": no room for the interpreter");
        }
        long bias = ld.type == 3 ? at - ld.firstPage() : 0;
        Mapped linker = ld.map(space, bias);
        List<long[]> ranges = new ArrayList<>(program.fileRanges);
        ranges.addAll(linker.fileRanges);
        // AT_BASE is load_elf_interp's load address: the bias of a position-independent interpreter, 0 for an ET_EXEC one.
        return new Loaded(linker.entry, program.entry, program.phdr, phnum, bias, program.end, program.execStack, ranges);
    }

    /** One ELF file mapped: its entry, program headers, end and file-backed ranges. */
    private record Mapped(long entry, long phdr, long end, boolean execStack, List<long[]> fileRanges) {}

    /** Maps the segments at {@code base} plus their addresses. */
    private Mapped map(AddressSpace space, long base) {
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
        return new Mapped(base + entry, phdr, end, execStack, fileRanges);
    }

    private static long pageUp(long a) {
        return (a + PAGE - 1) & -PAGE;
    }
}
