package dev.usercopy.sys;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.usercopy.mm.ErrnoException;
import dev.usercopy.uapi.Errno;

/**
 * One tree of guest processes, as a PID namespace of Linux: pids from 1
 * (the first process, the tree's init), the parent and children of each,
 * process groups and sessions, and the ends of processes until their parents
 * wait for them (zombies). An orphan is adopted by init; when init ends, the
 * rest of the tree is killed, as Linux does when a namespace's init exits.
 *
 * <p>Its monitor guards the tree's fields of every {@link Task} in it. A
 * task is woken ({@link Task#wake}) only after that monitor is released, so
 * a task that waits never holds it.
 */
public final class Processes {
    /** The processes a tree may have at once, zombies included: a fork past it is EAGAIN, as past RLIMIT_NPROC. */
    public static final int DEFAULT_LIMIT = 256;
    /** Linux's default pid_max: pids wrap below it. */
    static final int PID_MAX = 32768;

    private final int limit;
    private final Map<Integer, Task> tasks = new HashMap<>();
    /** The futex waiters of the tree's processes. */
    private final Futex.Table futexes = new Futex.Table();
    /** How many tasks use each address space (a vfork child shares its parent's); closed at 0. */
    private final Map<dev.usercopy.mm.AddressSpace, Integer> spaceUsers = new java.util.IdentityHashMap<>();
    private int lastPid;
    private Task init;

    /** The futex waiters of this tree (a waiter is woken only by a process of its own tree). */
    Futex.Table futexes() {
        return futexes;
    }

    public Processes(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("a tree needs room for one process, not " + limit);
        }
        this.limit = limit;
    }

    /** The processes a tree may have at once. */
    public int limit() {
        return limit;
    }

    /** Gives {@code t} the next free pid and a place under {@code parent} (null: it is init). EAGAIN when full. */
    synchronized int register(Task t, Task parent) {
        if (tasks.size() >= limit) {
            throw new ErrnoException(Errno.EAGAIN, tasks.size(), limit, "the guest tree has " + tasks.size() + " processes, its limit");
        }
        int pid = lastPid;
        do {
            pid = pid >= PID_MAX - 1 ? 1 : pid + 1;
        } while (tasks.containsKey(pid));
        lastPid = pid;
        tasks.put(pid, t);
        if (parent == null) {
            if (init != null) {
                throw new IllegalStateException("a tree has one init");
            }
            init = t;
            // Like the init of a new pid namespace, it stays in the group and session it was started in,
            // which lie outside its tree and show as 0: it is no group leader, so its setsid() works.
            t.pgid = 0;
            t.sid = 0;
        } else {
            t.parent = parent;
            parent.children.add(t);
            t.pgid = parent.pgid;
            t.sid = parent.sid;
        }
        return pid;
    }

    /** The task of {@code pid}, live or zombie; null when none. */
    public synchronized Task get(int pid) {
        return tasks.get(pid);
    }

    /** Every task in the tree, live or zombie. */
    public synchronized List<Task> all() {
        return new ArrayList<>(tasks.values());
    }

    /** How many processes the tree has, zombies included. */
    public synchronized int count() {
        return tasks.size();
    }

    /** The tree's init, pid 1. */
    public synchronized Task init() {
        return init;
    }

    synchronized int ppid(Task t) {
        return t.parent == null ? 0 : t.parent.pid();
    }

    synchronized int pgid(Task t) {
        return t.pgid;
    }

    synchronized int sid(Task t) {
        return t.sid;
    }

    /** An execve went through: a vfork parent waiting for it goes on. */
    void execed(Task t) {
        Task wake;
        synchronized (this) {
            t.didExec = true;
            wake = t.vforkPending ? t.parent : null;
            t.vforkPending = false;
        }
        if (wake != null) {
            wake.wake();
        }
    }

    /** Whether vfork child {@code t} still holds its parent (it has neither exec'd nor ended). */
    public synchronized boolean vforkPending(Task t) {
        return t.vforkPending;
    }

    /** Marks {@code t} as a vfork child: its parent waits until it execs or ends. */
    public synchronized void setVforkPending(Task t) {
        t.vforkPending = true;
    }

    /**
     * {@code t} ended with wait status {@code status}: it becomes a zombie
     * for its parent to wait for (or is reaped at once when the parent does
     * not want it: SIGCHLD ignored, SA_NOCLDWAIT), its children go to init
     * (or, when it is init, every other process is killed), its parent gets
     * its exit signal, and a vfork parent goes on. Returns the tasks to kill
     * (init's end), which the caller kills with SIGKILL.
     */
    public List<Task> exited(Task t, int status) {
        List<Task> wake = new ArrayList<>();
        List<Task> kill = new ArrayList<>();
        Task parent;
        boolean signalParent;
        synchronized (this) {
            if (t.zombie) {
                return List.of();
            }
            t.zombie = true;
            t.waitStatus = status;
            if (t.vforkPending) {
                t.vforkPending = false;
            }
            for (Task c : t.children) {
                if (t == init) {
                    if (!c.zombie) {
                        kill.add(c);
                    }
                    c.parent = null;
                    if (c.zombie) {
                        tasks.remove(c.pid());
                    }
                    continue;
                }
                c.parent = init;
                init.children.add(c);
                if (c.zombie) {
                    wake.add(init); // a zombie adopted: init may wait for it now
                }
            }
            t.children.clear();
            if (t == init) {
                for (Task o : tasks.values()) {
                    if (o != t && !o.zombie && !kill.contains(o)) {
                        kill.add(o);
                    }
                }
            }
            parent = t.parent;
            signalParent = parent != null && t.exitSignal != 0;
            if (parent == null) {
                tasks.remove(t.pid()); // init, or an orphan of a dead init: nobody waits
            } else {
                wake.add(parent);
                Signals.Action a = parent.signals().action(Signals.SIGCHLD);
                if (a.handler() == Signals.SIG_IGN || (a.flags() & SA_NOCLDWAIT) != 0) {
                    reap(t); // the parent does not want it: Linux reaps it at once
                }
            }
        }
        if (signalParent) {
            parent.post(Signals.SigInfo.child(t.exitSignal, t.pid(), status));
        }
        for (Task w : wake) {
            w.wake();
        }
        return kill;
    }

    static final long SA_NOCLDWAIT = 0x2;


    /** Removes zombie {@code child} from the tree: a wait took it. */
    synchronized void reap(Task child) {
        if (child.parent != null) {
            child.parent.children.remove(child);
        }
        child.parent = null;
        tasks.remove(child.pid());
    }

    /** One more task uses {@code space}. */
    public synchronized void retain(dev.usercopy.mm.AddressSpace space) {
        spaceUsers.merge(space, 1, Integer::sum);
    }

    /** A task stopped using {@code space}: the last one closes it, its frames back with the machine. */
    public void release(dev.usercopy.mm.AddressSpace space) {
        boolean last;
        synchronized (this) {
            Integer n = spaceUsers.get(space);
            if (n == null) {
                return;
            }
            last = n == 1;
            if (last) {
                spaceUsers.remove(space);
            } else {
                spaceUsers.put(space, n - 1);
            }
        }
        if (last) {
            space.close();
        }
    }

    /** A child whose process could not start: out of the tree, as if it had never been, what it held released. */
    public void abandon(Task child) {
        synchronized (this) {
            reap(child);
            child.vforkPending = false;
        }
        child.releaseResources();
    }

    /** The children of {@code t}, live and zombie. */
    synchronized List<Task> children(Task t) {
        return new ArrayList<>(t.children);
    }
}
