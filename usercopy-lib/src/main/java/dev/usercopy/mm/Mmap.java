package dev.usercopy.mm;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.function.Supplier;

import dev.usercopy.mm.Provider.Allocated;
import dev.usercopy.mm.Provider.AllocatedShared;
import dev.usercopy.mm.Provider.FmapBorrowed;
import dev.usercopy.uapi.Errno;

import static dev.usercopy.mm.PageTable.PAGE;

/** mmap, as Linux's do_mmap does it: the checks in its order, then the grant placed and installed. Under the manager's lock. */
final class Mmap {
    private Mmap() {}

    /**
     * An anonymous mapping ({@code file} null) or a file mapping. Under the
     * manager's lock from opening the file's cache to installing the grant:
     * unused caches are closed under it, and this one is unused until its
     * grant exists.
     */
    static long map(SpaceState s, long addr, long length, int prot, int flags, Path file, long offset, boolean writable) {
        if (file == null) {
            return mapGrant(s, addr, length, prot, flags, () -> switch (flags & MapFlags.TYPE) {
                case MapFlags.SHARED -> {
                    if ((flags & MapFlags.GROWSDOWN) != 0) { // Linux: shared anonymous memory cannot grow
                        throw new ErrnoException(Errno.EINVAL, addr, length, "MAP_GROWSDOWN with anonymous MAP_SHARED");
                    }
                    yield new AllocatedShared();
                }
                case MapFlags.PRIVATE -> Allocated.ANONYMOUS;
                default -> throw new ErrnoException(Errno.EINVAL, addr, length,
                        "flags 0x" + Integer.toHexString(flags) + " need exactly one of MAP_SHARED and MAP_PRIVATE");
            });
        }
        FileRef ref = open(s.mm(), file, offset, addr, length, writable && (flags & MapFlags.TYPE) != MapFlags.PRIVATE); // Linux: the fd is looked up first
        return mapGrant(s, addr, length, prot, flags, () -> fileProvider(ref, addr, length, prot, flags, writable));
    }

    private static FileRef open(MemoryManager mm, Path file, long offset, long addr, long length, boolean shared) {
        try {
            return new FileRef(mm.cache(file, shared), offset);
        } catch (IOException e) {
            // The JDK reports the open's errno only in its message.
            Errno errno = String.valueOf(e.getMessage()).contains("Too many open files") ? Errno.EMFILE
                    : e instanceof NoSuchFileException ? Errno.ENOENT : Errno.EACCES;
            throw new ErrnoException(errno, addr, length, "cannot open " + file + ": " + e.getMessage());
        }
    }

    /** The provider of a file mapping, with do_mmap's checks in its order: the offset's range, the type, the file's mode. */
    private static Provider fileProvider(FileRef ref, long addr, long length, int prot, int flags, boolean writable) {
        // file_mmap_ok: the mapping must end at or below the largest file offset (signed 64-bit).
        if (ref.offset() < 0 || pageCount(length) * PAGE > Long.MAX_VALUE - ref.offset()) {
            throw new ErrnoException(Errno.EOVERFLOW, addr, length, "file offset " + Long.toUnsignedString(ref.offset())
                    + " plus the length passes the largest file offset");
        }
        boolean shared = switch (flags & MapFlags.TYPE) {
            case MapFlags.SHARED -> true;
            case MapFlags.SHARED_VALIDATE -> {
                if ((flags & ~MapFlags.LEGACY) != 0) {
                    throw new ErrnoException(Errno.EOPNOTSUPP, addr, length, "MAP_SHARED_VALIDATE with flags 0x"
                            + Integer.toHexString(flags & ~MapFlags.LEGACY) + " it does not know");
                }
                yield true;
            }
            case MapFlags.PRIVATE -> false;
            default -> throw new ErrnoException(Errno.EINVAL, addr, length,
                    "flags 0x" + Integer.toHexString(flags) + " have no mapping type (MAP_SHARED, MAP_PRIVATE or MAP_SHARED_VALIDATE)");
        };
        if (shared && (prot & Prot.WRITE) != 0 && !writable) {
            throw new ErrnoException(Errno.EACCES, addr, length, ref.path() + " is not open for writing, as a shared writable mapping needs");
        }
        return shared ? new FmapBorrowed(ref, writable) : new Allocated(ref);
    }

    /** Pages of a length known to be in 1..size. */
    static long pageCount(long length) {
        return (length + PAGE - 1) / PAGE;
    }

    /**
     * Places and installs a grant, with do_mmap's checks in Linux's order:
     * the length, the address (range, alignment, mmap_min_addr),
     * MAP_FIXED_NOREPLACE's overlap, then {@code provider}'s own (the type,
     * the file), then the space a hint or a search finds. Protection bits
     * and flags Linux's mmap ignores are ignored.
     */
    static long mapGrant(SpaceState s, long addr, long length, int prot, int flags, Supplier<Provider> provider) {
        long size = s.size();
        if (length == 0) {
            throw new ErrnoException(Errno.EINVAL, addr, length, "length 0");
        }
        // A negative length is a size_t past the end of every address space.
        if (length < 0 || length > size) {
            throw new ErrnoException(Errno.ENOMEM, addr, length, "length is more than the address space (0x" + Long.toHexString(size) + ")");
        }
        long n = pageCount(length);
        boolean fixed = (flags & (MapFlags.FIXED | MapFlags.FIXED_NOREPLACE)) != 0;
        if (fixed) {
            // Unsigned, as Linux compares: a negative address is past the end.
            if (Long.compareUnsigned(addr, size - n * PAGE) > 0) {
                throw new ErrnoException(Errno.ENOMEM, addr, length, "range runs past the end of the address space (0x" + Long.toHexString(size) + ")");
            }
            if (addr % PAGE != 0) {
                throw new ErrnoException(Errno.EINVAL, addr, length, "MAP_FIXED address is not page-aligned");
            }
            if (addr < AddressSpace.MIN_ADDRESS) {
                throw new ErrnoException(Errno.EPERM, addr, length, "MAP_FIXED below the lowest mappable address 0x" + Long.toHexString(AddressSpace.MIN_ADDRESS));
            }
            if ((flags & MapFlags.FIXED_NOREPLACE) != 0 && s.grants().overlaps(addr / PAGE, addr / PAGE + n)) {
                throw new ErrnoException(Errno.EEXIST, addr, length, "MAP_FIXED_NOREPLACE over an existing mapping");
            }
        }
        long start = fixed ? addr / PAGE : findFree(s, addr, n);
        Provider p = provider.get();
        if (fixed) {
            s.host().jvm().reserveUnmap(start, start + n);
            s.unmap(start, start + n);
        }
        s.grants().put(new Grant(start, n, Prot.granted(prot), p));
        if ((flags & MapFlags.POPULATE) != 0) {
            try {
                s.faults().populateAll(start, start + n, (prot & Prot.WRITE) != 0);
            } catch (ErrnoException e) {
                s.unmap(start, start + n);
                s.mm().flushFreed();
                throw new ErrnoException(e.errno(), start * PAGE, length, "MAP_POPULATE failed, mapping undone: " + e.getMessage());
            }
        }
        return start * PAGE;
    }

    /**
     * The hint's page if [hint, +n) is free and inside, else the lowest free
     * range from MIN_ADDRESS; ENOMEM if none. An unaligned hint is rounded
     * down, as Linux x86 does.
     */
    private static long findFree(SpaceState s, long hint, long n) {
        long start = s.grants().findFree(hint < AddressSpace.MIN_ADDRESS ? -1 : hint / PAGE, n, AddressSpace.MIN_ADDRESS / PAGE, s.pages());
        if (start < 0) {
            throw new ErrnoException(Errno.ENOMEM, hint, n * PAGE, "no free range of " + n + " pages in the address space");
        }
        return start;
    }
}
