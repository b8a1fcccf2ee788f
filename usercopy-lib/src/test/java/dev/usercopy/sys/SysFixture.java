package dev.usercopy.sys;

import java.nio.file.Path;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.MemoryManager;

/**
 * A task served without a child process: a machine, one address space, a
 * task over it with its break at {@link #BRK_START}. Syscalls go through
 * {@link Syscalls#dispatch}, as a guest's do.
 */
final class SysFixture implements AutoCloseable {
    /** Where the test task's break starts: nothing is mapped near it. */
    static final long BRK_START = 0x10000000L;

    final MemoryManager mm;
    final AddressSpace space;
    final Task task;
    private long fsBase;

    SysFixture() {
        this(0);
    }

    /** A task whose CPU clocks are host process {@code hostPid}'s (0: none). */
    SysFixture(int hostPid) {
        this(MemoryManager.Config.defaults().withFrames(1L << 16), hostPid);
    }

    SysFixture(MemoryManager.Config config, int hostPid) {
        mm = new MemoryManager(config);
        space = mm.newAddressSpace();
        task = new Task(space, FileTable.withStdio(), new FsContext(Path.of("/"), null, Path.of("/")), new Task.Cpu() {
            @Override
            public long fsBase() {
                return fsBase;
            }

            @Override
            public void setFsBase(long base) {
                fsBase = base;
            }

            @Override
            public int hostPid() {
                return hostPid;
            }
        }, "/test", BRK_START);
    }

    long call(int nr, long... args) {
        long[] a = java.util.Arrays.copyOf(args, 6);
        return Syscalls.dispatch(task, nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }

    @Override
    public void close() {
        space.close();
        mm.close();
    }
}
