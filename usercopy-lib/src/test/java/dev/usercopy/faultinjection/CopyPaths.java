package dev.usercopy.faultinjection;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import dev.usercopy.mm.ErrnoException;
import dev.usercopy.uapi.Errno;
import dev.usercopy.platform.UserCopy;
import dev.usercopy.uaccess.UserSlice;
import dev.usercopy.platform.UserCopy.Form;

/**
 * Every copy API the suite drives, as {@link CopyPath}s. To add one (for
 * instance {@code uaccess.UserSlice}), write its adapter beside these and
 * list it in {@link #host} or {@link #guest}: every test of the suite then
 * runs it.
 */
final class CopyPaths {
    private CopyPaths() {}

    record Host(String name, Op op, Body<HostLayout> body) implements CopyPath<HostLayout> {
        @Override
        public long run(HostLayout memory, long address, byte[] kernel, int kernelOffset, int length) {
            return body.run(memory, address, kernel, kernelOffset, length);
        }
    }

    record Guest(String name, Op op, Body<GuestLayout> body) implements CopyPath<GuestLayout> {
        @Override
        public long run(GuestLayout memory, long address, byte[] kernel, int kernelOffset, int length) {
            return body.run(memory, address, kernel, kernelOffset, length);
        }
    }

    @FunctionalInterface
    interface Body<M> {
        long run(M memory, long address, byte[] kernel, int kernelOffset, int length);
    }

    /**
     * A kernel buffer in native memory rather than the heap: {@code UserCopy}
     * takes another route for those past {@link UserCopy#CRITICAL_CHUNK}
     * (plain downcalls, not critical chunks). It starts {@code off} bytes
     * into a 16-aligned block, so the kernel offset sets its alignment.
     */
    private static long viaNative(byte[] kernel, int off, int length, java.util.function.ToLongFunction<MemorySegment> copy) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(Math.max(1, off + length), 16).asSlice(off, length);
            MemorySegment.copy(kernel, off, seg, ValueLayout.JAVA_BYTE, 0, length);
            long r = copy.applyAsLong(seg);
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, 0, kernel, off, length);
            return r;
        }
    }

    /** The host path called {@code name}. */
    static CopyPath<HostLayout> host(String name) {
        return host().stream().filter(p -> p.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no host path " + name));
    }

    /** The guest path called {@code name}. */
    static CopyPath<GuestLayout> guest(String name) {
        return guest().stream().filter(p -> p.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no guest path " + name));
    }

    /** UserCopy on host memory: the three forms, heap and native kernel buffers, both directions; clear; strncpy. */
    static List<CopyPath<HostLayout>> host() {
        return List.of(
                new Host("UserCopy.copyFromUser FLAT byte[]", Op.FROM_USER,
                        (m, a, k, o, n) -> UserCopy.copyFromUser(Form.FLAT, k, o, a, n)),
                new Host("UserCopy.copyFromUser ALIGNED byte[]", Op.FROM_USER,
                        (m, a, k, o, n) -> UserCopy.copyFromUser(Form.ALIGNED, k, o, a, n)),
                new Host("UserCopy.copyFromUser FLAT native", Op.FROM_USER,
                        (m, a, k, o, n) -> viaNative(k, o, n, s -> UserCopy.copyFromUser(Form.FLAT, s, a))),
                new Host("UserCopy.copyFromUser ALIGNED native", Op.FROM_USER,
                        (m, a, k, o, n) -> viaNative(k, o, n, s -> UserCopy.copyFromUser(Form.ALIGNED, s, a))),
                new Host("UserCopy.copyToUser FLAT byte[]", Op.TO_USER,
                        (m, a, k, o, n) -> UserCopy.copyToUser(Form.FLAT, a, k, o, n)),
                new Host("UserCopy.copyToUser ALIGNED byte[]", Op.TO_USER,
                        (m, a, k, o, n) -> UserCopy.copyToUser(Form.ALIGNED, a, k, o, n)),
                new Host("UserCopy.copyToUser FLAT native", Op.TO_USER,
                        (m, a, k, o, n) -> viaNative(k, o, n, s -> UserCopy.copyToUser(Form.FLAT, a, s))),
                new Host("UserCopy.copyToUser ALIGNED native", Op.TO_USER,
                        (m, a, k, o, n) -> viaNative(k, o, n, s -> UserCopy.copyToUser(Form.ALIGNED, a, s))),
                new Host("UserCopy.copyFromUser ADAPTIVE byte[]", Op.FROM_USER,
                        (m, a, k, o, n) -> UserCopy.copyFromUser(Form.ADAPTIVE, k, o, a, n)),
                new Host("UserCopy.copyFromUser ADAPTIVE native", Op.FROM_USER,
                        (m, a, k, o, n) -> viaNative(k, o, n, s -> UserCopy.copyFromUser(Form.ADAPTIVE, s, a))),
                new Host("UserCopy.copyToUser ADAPTIVE byte[]", Op.TO_USER,
                        (m, a, k, o, n) -> UserCopy.copyToUser(Form.ADAPTIVE, a, k, o, n)),
                new Host("UserCopy.copyToUser ADAPTIVE native", Op.TO_USER,
                        (m, a, k, o, n) -> viaNative(k, o, n, s -> UserCopy.copyToUser(Form.ADAPTIVE, a, s))),
                new Host("UserCopy.clearUser", Op.CLEAR_USER,
                        (m, a, k, o, n) -> UserCopy.clearUser(a, n)),
                new Host("UserCopy.strncpyFromUser", Op.STRNCPY_FROM_USER,
                        (m, a, k, o, n) -> UserCopy.strncpyFromUser(k, o, a, n)));
    }

    /**
     * A {@code UserSlice} call on {@code kernel[off, off + n)}: the slice copies
     * from index 0 of its own array, so the call gets a copy of that range and
     * every byte of it comes back, whatever the call did to it. EFAULT with
     * {@code done()} becomes bytes not copied, as Linux counts them.
     */
    private static long viaSlice(byte[] kernel, int off, int n, java.util.function.ToLongFunction<byte[]> call) {
        byte[] k = java.util.Arrays.copyOfRange(kernel, off, off + n);
        try {
            long done = call.applyAsLong(k);
            return n - done;
        } catch (ErrnoException e) {
            if (e.errno() != Errno.EFAULT) {
                throw e;
            }
            return n - e.done();
        } finally {
            System.arraycopy(k, 0, kernel, off, n);
        }
    }

    /**
     * AddressSpace's copies on guest memory (demand paging, copy-on-write,
     * files), and UserSlice's over them. UserPtr is not here: it checks the
     * grants before it copies, so its copies are all or nothing (UserPtrTest).
     */
    static List<CopyPath<GuestLayout>> guest() {
        return List.of(
                new Guest("AddressSpace.copyFromUser", Op.FROM_USER,
                        (m, a, k, o, n) -> m.space().copyFromUser(k, o, a, n)),
                new Guest("AddressSpace.copyToUser", Op.TO_USER,
                        (m, a, k, o, n) -> m.space().copyToUser(a, k, o, n)),
                new Guest("AddressSpace.clearUser", Op.CLEAR_USER,
                        (m, a, k, o, n) -> m.space().clearUser(a, n)),
                new Guest("AddressSpace.strncpyFromUser", Op.STRNCPY_FROM_USER,
                        (m, a, k, o, n) -> m.space().strncpyFromUser(k, o, a, n)),
                new Guest("UserSlice.copyCommonBytesToSlice", Op.FROM_USER,
                        (m, a, k, o, n) -> viaSlice(k, o, n, b -> UserSlice.ro(m.space(), a, n).copyCommonBytesToSlice(b))),
                new Guest("UserSlice.copyFromSlice", Op.TO_USER,
                        (m, a, k, o, n) -> viaSlice(k, o, n, b -> {
                            UserSlice.wo(m.space(), a, n).copyFromSlice(b);
                            return n;
                        })),
                new Guest("UserSlice.zero", Op.CLEAR_USER,
                        (m, a, k, o, n) -> viaSlice(k, o, n, b -> {
                            UserSlice.rw(m.space(), a, n).zero();
                            return n;
                        })));
    }
}
