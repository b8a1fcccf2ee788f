package dev.usercopy.sys;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.uapi.Errno;

/**
 * fork, vfork and clone without threads: a new guest process. A host fork
 * would share the machine's frames, so the copy is this kernel's own: the
 * address space's copy-on-write fork (O(page-table leaves)), a copy of the
 * descriptor table sharing its open file descriptions, the signal actions
 * and mask with nothing pending, and a new host process started from the
 * caller's registers by its own tracer ({@link Task.Cpu#startChild}).
 *
 * <p>{@code CLONE_VM|CLONE_VFORK} (vfork, and glibc's posix_spawn) shares
 * the caller's address space, as Linux does, and the caller waits until the
 * child execs or ends. Threads ({@code CLONE_THREAD}) and the sharing this
 * kernel does not model (CLONE_FILES, CLONE_FS, CLONE_SIGHAND, CLONE_VM
 * without CLONE_VFORK, CLONE_PIDFD, CLONE_PARENT, namespaces) answer ENOSYS;
 * clone3 answers ENOSYS, so glibc falls back to clone.
 */
final class Clone {
    static final long CLONE_VM = 0x100;
    static final long CLONE_FS = 0x200;
    static final long CLONE_FILES = 0x400;
    static final long CLONE_SIGHAND = 0x800;
    static final long CLONE_PIDFD = 0x1000;
    static final long CLONE_PTRACE = 0x2000;
    static final long CLONE_VFORK = 0x4000;
    static final long CLONE_PARENT = 0x8000;
    static final long CLONE_THREAD = 0x10000;
    static final long CLONE_SYSVSEM = 0x40000;
    static final long CLONE_SETTLS = 0x80000;
    static final long CLONE_PARENT_SETTID = 0x100000;
    static final long CLONE_CHILD_CLEARTID = 0x200000;
    static final long CLONE_DETACHED = 0x400000;
    static final long CLONE_UNTRACED = 0x800000;
    static final long CLONE_CHILD_SETTID = 0x01000000;
    static final long CLONE_IO = 0x80000000L;
    /** What a child may ask for here: the ones served, and the ones with nothing to do (no tracing of guests, no SysV semaphores, one I/O context). */
    private static final long SERVED = 0xff | CLONE_VM | CLONE_VFORK | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID
            | CLONE_CHILD_SETTID | CLONE_PTRACE | CLONE_UNTRACED | CLONE_DETACHED | CLONE_SYSVSEM | CLONE_IO;

    private Clone() {}

    static void register(Syscalls.Registry r) {
        r.add(56, "clone", "d:xpppx", t -> clone(t, t.arg(0), t.arg(1), t.arg(2), t.arg(3), t.arg(4)));
        r.add(57, "fork", "", t -> clone(t, Signals.SIGCHLD, 0, 0, 0, 0));
        r.add(58, "vfork", "", t -> clone(t, CLONE_VM | CLONE_VFORK | Signals.SIGCHLD, 0, 0, 0, 0));
        r.add(435, "clone3", "pu", t -> -Errno.ENOSYS.number());
    }

    /**
     * Linux's copy_process checks first: CLONE_SIGHAND without CLONE_VM and
     * CLONE_THREAD without CLONE_SIGHAND are EINVAL, an exit signal over 64
     * EINVAL; then what is not served here is ENOSYS; a full tree EAGAIN.
     */
    static long clone(Task t, long flags, long stack, long parentTid, long childTid, long tls) {
        if ((flags & CLONE_THREAD) != 0 && (flags & CLONE_SIGHAND) == 0 || (flags & CLONE_SIGHAND) != 0 && (flags & CLONE_VM) == 0) {
            return -Errno.EINVAL.number();
        }
        int exitSignal = (int) (flags & 0xff);
        if (exitSignal > Signals.NSIG) {
            return -Errno.EINVAL.number();
        }
        if ((flags & ~SERVED) != 0 || (flags & CLONE_VM) != 0 && (flags & CLONE_VFORK) == 0) {
            return -Errno.ENOSYS.number();
        }
        boolean shareVm = (flags & CLONE_VM) != 0;
        Processes tree = t.processes();
        AddressSpace space = shareVm ? t.space() : t.space().fork();
        tree.retain(space);
        FileTable files = t.files().copy();
        Task child;
        try {
            child = t.forkChild(space, files);
        } catch (ErrnoException e) {
            files.closeAll();
            tree.release(space);
            throw e;
        }
        child.exitSignal = exitSignal;
        if ((flags & CLONE_CHILD_CLEARTID) != 0) {
            child.clearChildTid = childTid;
        }
        try {
            if ((flags & CLONE_CHILD_SETTID) != 0) {
                GuestMemory.putInt(child, childTid, child.pid()); // in the child's memory: a fork's copy
            }
            if ((flags & CLONE_PARENT_SETTID) != 0) {
                GuestMemory.putInt(t, parentTid, child.pid());
            }
        } catch (ErrnoException e) {
            tree.abandon(child);
            return -e.errno().number();
        }
        boolean vfork = (flags & CLONE_VFORK) != 0;
        if (vfork) {
            tree.setVforkPending(child);
        }
        long r = t.cpu().startChild(child, stack, (flags & CLONE_SETTLS) != 0 ? tls : -1);
        if (r < 0) {
            tree.abandon(child);
            return r;
        }
        if (vfork) {
            // Linux waits killable, not interruptible: a signal for the parent waits for the child's exec or end.
            t.block(() -> !tree.vforkPending(child), Long.MAX_VALUE, false);
        }
        return child.pid();
    }
}
