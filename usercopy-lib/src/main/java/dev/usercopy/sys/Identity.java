package dev.usercopy.sys;

import java.nio.ByteBuffer;

import dev.usercopy.mm.ErrnoException;
import dev.usercopy.platform.HostSystem;
import dev.usercopy.uaccess.UserSlice;
import dev.usercopy.uapi.Errno;

/**
 * Who the guest is and what it runs on: its ids, the host's name and load,
 * its resource limits and random bytes.
 *
 * <p>The first guest process is pid 1 with parent 0, as the first process
 * of a PID namespace is (gVisor's sandboxes do the same); its children get
 * pids in the same tree ({@link Processes}). Its user and group ids are the user's
 * (the JVM's real ids), and {@code uname} is the host's, so
 * {@code busybox id} and {@code uname -a} print what they print natively.
 */
final class Identity {
    /** Linux's MAX_RW_COUNT: the most one read-like call moves. */
    static final long MAX_RW_COUNT = Integer.MAX_VALUE & ~4095L;
    static final int GRND_NONBLOCK = 0x1;
    static final int GRND_RANDOM = 0x2;
    static final int GRND_INSECURE = 0x4;

    private Identity() {}

    static void register(Syscalls.Registry r) {
        r.add(39, "getpid", "", Task::pid);
        r.add(204, "sched_getaffinity", "dup", Identity::schedGetaffinity);
        r.add(110, "getppid", "", Task::ppid);
        r.add(186, "gettid", "", Task::pid);
        r.add(102, "getuid", "", t -> ids(HostSystem.getresuid())[0]);
        r.add(107, "geteuid", "", t -> ids(HostSystem.getresuid())[1]);
        r.add(104, "getgid", "", t -> ids(HostSystem.getresgid())[0]);
        r.add(108, "getegid", "", t -> ids(HostSystem.getresgid())[1]);
        r.add(118, "getresuid", "ppp", t -> getres(t, HostSystem.getresuid()));
        r.add(120, "getresgid", "ppp", t -> getres(t, HostSystem.getresgid()));
        r.add(115, "getgroups", "dp", Identity::getgroups);
        r.add(63, "uname", "p", t -> {
            GuestMemory.write(t, t.arg(0), HostSystem.uname());
            return 0;
        });
        r.add(99, "sysinfo", "p", t -> {
            GuestMemory.write(t, t.arg(0), HostSystem.sysinfo());
            return 0;
        });
        r.add(97, "getrlimit", "dp", Identity::getrlimit);
        r.add(160, "setrlimit", "dp", Identity::setrlimit);
        r.add(302, "prlimit64", "ddpp", Identity::prlimit64);
        r.add(318, "getrandom", "pux", Identity::getrandom);
    }

    /** uid_t and gid_t are unsigned: a result, never an errno. */
    private static long[] ids(int[] ids) {
        return new long[] {Integer.toUnsignedLong(ids[0]), Integer.toUnsignedLong(ids[1]), Integer.toUnsignedLong(ids[2])};
    }

    /** getresuid/getresgid: three put_users in order, the first fault ends it. */
    private static long getres(Task t, int[] ids) {
        for (int i = 0; i < 3; i++) {
            GuestMemory.putInt(t, t.arg(i), ids[i]);
        }
        return 0;
    }

    /** EINVAL for a negative size, or one smaller than the list; size 0 asks for the count. */
    private static long getgroups(Task t) {
        int size = t.intArg(0);
        if (size < 0) {
            return -Errno.EINVAL.number();
        }
        int[] groups = HostSystem.getgroups();
        if (size == 0) {
            return groups.length;
        }
        if (groups.length > size) {
            return -Errno.EINVAL.number();
        }
        ByteBuffer b = GuestMemory.struct(4 * groups.length);
        for (int i = 0; i < groups.length; i++) {
            b.putInt(4 * i, groups[i]);
        }
        GuestMemory.write(t, t.arg(1), b);
        return groups.length;
    }

    /** The guest may raise a hard limit as the user may: as root (Linux asks for CAP_SYS_RESOURCE). */
    private static boolean privileged() {
        return HostSystem.getresuid()[1] == 0;
    }

    private static long getrlimit(Task t) {
        long[] old = new long[2];
        long r = t.limits().prlimit(Integer.toUnsignedLong(t.intArg(0)), null, old, false);
        if (r != 0) {
            return r;
        }
        GuestMemory.write(t, t.arg(1), GuestMemory.struct(16).putLong(0, old[0]).putLong(8, old[1]));
        return 0;
    }

    /** setrlimit: the new value is read first (EFAULT), then checked. */
    private static long setrlimit(Task t) {
        ByteBuffer b = GuestMemory.read(t, t.arg(1), 16);
        return t.limits().prlimit(Integer.toUnsignedLong(t.intArg(0)), new long[] {b.getLong(0), b.getLong(8)}, null, privileged());
    }

    /**
     * Linux's order: the new value is read (EFAULT), the pid looked up
     * (ESRCH unless 0 or the guest's own), the limit changed
     * ({@link ResourceLimits#prlimit}), then the old one written (EFAULT,
     * with the new one already in force).
     */
    private static long prlimit64(Task t) {
        long[] newLimit = null;
        if (t.arg(2) != 0) {
            ByteBuffer b = GuestMemory.read(t, t.arg(2), 16);
            newLimit = new long[] {b.getLong(0), b.getLong(8)};
        }
        int pid = t.intArg(0);
        Task target = pid == 0 ? t : t.processes().get(pid);
        if (target == null) {
            return -Errno.ESRCH.number();
        }
        long[] old = t.arg(3) != 0 ? new long[2] : null;
        long r = target.limits().prlimit(Integer.toUnsignedLong(t.intArg(1)), newLimit, old, privileged());
        if (r == 0 && old != null) {
            GuestMemory.write(t, t.arg(3), GuestMemory.struct(16).putLong(0, old[0]).putLong(8, old[1]));
        }
        return r;
    }

    /**
     * getrandom as Linux 6.x: EINVAL for unknown flags or INSECURE with
     * RANDOM; the length capped at MAX_RW_COUNT; EFAULT when the range is not
     * user space (even for length 0); then the host's random bytes copied in
     * pieces, a fault ending it with the count copied so far, or EFAULT when
     * that is none.
     */
    private static long getrandom(Task t) {
        int flags = t.intArg(2);
        if ((flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) != 0 || (flags & (GRND_INSECURE | GRND_RANDOM)) == (GRND_INSECURE | GRND_RANDOM)) {
            return -Errno.EINVAL.number();
        }
        long addr = t.arg(0);
        long length = Long.compareUnsigned(t.arg(1), MAX_RW_COUNT) > 0 ? MAX_RW_COUNT : t.arg(1);
        if (!GuestMemory.accessOk(addr, length)) {
            return GuestMemory.efault();
        }
        byte[] buf = new byte[512];
        long done = 0;
        while (done < length) {
            int n = (int) Math.min(buf.length, length - done);
            // The host's getrandom with the guest's flags: GRND_RANDOM is the same pool since Linux 5.6.
            long got = HostSystem.getrandom(buf, n, flags);
            if (got < 0) {
                return done > 0 ? done : got;
            }
            try {
                done += UserSlice.wo(t.space(), addr + done, got).copyCommonBytesFromSlice(java.util.Arrays.copyOf(buf, (int) got));
            } catch (ErrnoException e) {
                done += e.done();
                return done > 0 ? done : GuestMemory.efault();
            }
        }
        return done;
    }

    /**
     * sched_getaffinity: the CPUs the guest may run on are the user's (this
     * JVM's), not the one CPU its tracer binds the host child to. A pid of
     * the guest's tree (0: the caller) or ESRCH; the host's checks of the
     * length (EINVAL); the mask copied out (EFAULT); its length returned.
     */
    private static long schedGetaffinity(Task t) {
        int pid = t.intArg(0);
        if (pid < 0 || pid != 0 && t.processes().get(pid) == null) {
            return -Errno.ESRCH.number();
        }
        byte[] mask = new byte[4096];
        long r = HostSystem.schedGetaffinity(t.intArg(1), mask);
        if (r > 0) {
            UserSlice.wo(t.space(), t.arg(2), r).copyFromSlice(java.util.Arrays.copyOf(mask, (int) r));
        }
        return r;
    }
}
