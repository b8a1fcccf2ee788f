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
    /** The fake CPU's registers (user_regs_struct indices) and XSAVE area: what a signal frame saves and sigreturn restores. */
    final long[] regs = new long[27];
    byte[] xstate = freshXstate(832, 7);

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

            @Override
            public long reg(int i) {
                return regs[i];
            }

            @Override
            public void setReg(int i, long value) {
                regs[i] = value;
            }

            @Override
            public byte[] xstate() {
                return xstate.clone();
            }

            @Override
            public void setXstate(byte[] area) {
                if (area.length != xstate.length) {
                    throw new IllegalArgumentException("an XSAVE area of " + area.length + " bytes for one of " + xstate.length);
                }
                xstate = area.clone();
            }
        }, "/test", BRK_START);
        regs[dev.usercopy.platform.user_regs_struct.CS] = 0x33;
        regs[dev.usercopy.platform.user_regs_struct.SS] = 0x2b;
        regs[dev.usercopy.platform.user_regs_struct.EFLAGS] = 0x202;
        regs[dev.usercopy.platform.user_regs_struct.ORIG_RAX] = -1;
    }

    /**
     * An XSAVE area as PTRACE_GETREGSET gives a fresh process's: {@code size}
     * bytes, x87 and MXCSR at their initial values, the host's XCR0
     * {@code features} in the first software-reserved word, nothing in use.
     */
    static byte[] freshXstate(int size, long features) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(size).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putShort(0, (short) 0x37f).putInt(24, 0x1f80).putInt(28, 0xffff).putLong(464, features);
        return b.array();
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
