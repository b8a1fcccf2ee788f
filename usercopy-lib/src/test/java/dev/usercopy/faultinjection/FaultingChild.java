package dev.usercopy.faultinjection;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

import dev.usercopy.platform.FaultHandler;

/**
 * The child JVM of {@link JvmUnderFaultsTest}: faulting copies on random host
 * layouts, each checked against the model, while other threads throw
 * NullPointerExceptions from implicit null checks, overflow their stacks and
 * make the collector run. Prints one summary line and exits 0 when every
 * check held, 1 otherwise.
 *
 * <p>Arguments: seed, cases.
 */
public final class FaultingChild {
    private FaultingChild() {}

    static final String OK = "fault-injection-child ok";

    static final class Box {
        final int value;

        Box(int value) {
            this.value = value;
        }
    }

    /** A field load the JIT guards with an implicit null check: a null faults and HotSpot makes it an NPE. */
    static int valueOf(Box b) {
        return b.value;
    }

    private static int depth;

    private static void descend() {
        depth++;
        descend();
    }

    public static void main(String[] args) throws Exception {
        long seed = Long.parseLong(args[0]);
        int cases = Integer.parseInt(args[1]);
        FaultHandler.install(); // before the other threads fault, so their faults go through ours to HotSpot's
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long[] npes = new long[1];
        long[] overflows = new long[1];
        long[] copies = new long[1];
        Thread copier = new Thread(() -> {
            SplittableRandom rnd = new SplittableRandom(seed);
            List<CopyPath<HostLayout>> paths = CopyPaths.host();
            int done = 0;
            while (done < cases) {
                Layout model = Layout.random(rnd, true, 1 + rnd.nextInt(16));
                try (HostLayout memory = new HostLayout(model)) {
                    for (int k = 0; k < 100 && done < cases; k++, done++) {
                        Checker.Case c = Checker.Case.random(rnd, model);
                        Checker.Verdict v = Checker.check(paths.get(rnd.nextInt(paths.size())), memory, model, c);
                        if (v.failure() != null) {
                            throw new AssertionError(v.failure() + " (layout " + model.describe() + ", case " + c + ")");
                        }
                    }
                }
            }
            copies[0] = done;
        }, "copier");
        Thread npeStorm = new Thread(() -> {
            Box box = new Box(3);
            long sum = 0;
            int iterations = 400_000;
            for (int i = 0; i < iterations; i++) {
                try {
                    sum += valueOf((i & 3) == 0 ? null : box);
                } catch (NullPointerException e) {
                    npes[0]++;
                }
            }
            if (npes[0] != iterations / 4 || sum != 3L * (iterations - iterations / 4)) {
                throw new AssertionError("NPE storm: " + npes[0] + " NPEs, sum " + sum);
            }
        }, "npe-storm");
        Thread overflower = new Thread(null, () -> {
            for (int i = 0; i < 5; i++) {
                depth = 0;
                try {
                    descend();
                    throw new AssertionError("no StackOverflowError");
                } catch (StackOverflowError expected) {
                    overflows[0]++;
                }
                if (depth < 1000) {
                    throw new AssertionError("overflowed after " + depth + " frames");
                }
            }
        }, "overflow", 512 * 1024);
        Thread collector = new Thread(() -> {
            for (int i = 0; i < 20; i++) {
                List<byte[]> garbage = new ArrayList<>();
                for (int j = 0; j < 200; j++) {
                    garbage.add(new byte[8192]);
                }
                garbage.clear();
                System.gc();
            }
        }, "collector");
        List<Thread> threads = List.of(copier, npeStorm, overflower, collector);
        for (Thread t : threads) {
            t.setUncaughtExceptionHandler((th, e) -> failure.compareAndSet(null, e));
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            System.out.println("fault-injection-child FAILED: " + failure.get());
            failure.get().printStackTrace(System.out);
            System.exit(1);
        }
        long gcs = ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
        FaultHandler.Stats stats = FaultHandler.stats();
        System.out.println(OK + " cases=" + copies[0] + " npes=" + npes[0] + " overflows=" + overflows[0] + " gcs=" + gcs
                + " fixups=" + stats.fixups() + " passedOn=" + stats.passedOn());
        System.exit(0);
    }
}
