package dev.usercopy.sys;

/** exit and exit_group: one thread a process here, so both end the task. */
final class Exit {
    private Exit() {}

    static void register(Syscalls.Registry r) {
        r.add(60, "exit", "d", Exit::exit);
        r.add(231, "exit_group", "d", Exit::exit);
    }

    private static long exit(Task t) {
        t.exit(t.intArg(0));
        return 0;
    }
}
