package dev.usercopy.bench;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaMethod;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

import dev.usercopy.cli.bench.QuickBench;
import dev.usercopy.cli.bench.QuickBench.Side;
import dev.usercopy.cli.bench.Workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each side of a {@code ./usercopy bench --quick} row is its JMH
 * counterpart: the benchmark exists, its {@code @Param} fields are the
 * workload's parameters and their published defaults hold the quick value,
 * its trial setup builds the workload the quick look builds, its
 * {@code @OperationsPerInvocation} is the quick look's count, and its
 * method (and invocation setup and teardown) call the very workload
 * methods the quick look times.
 */
class QuickRowsMatchTheBenchmarksTest {
    static Stream<Side> sides() {
        return QuickBench.ROWS.stream().flatMap(r -> Stream.of(r.ours(), r.baseline()));
    }

    @Test
    void everyRowsBaselineIsABenchmarkOfTheSameClassSoJmhMeasuresItInTheSameRun() {
        for (QuickBench.Definition d : QuickBench.ROWS) {
            assertEquals(className(d.ours()), className(d.baseline()), d.what());
            assertEquals(d.ours().params(), d.baseline().params(), d.what());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sides")
    void theQuickSideIsItsBenchmark(Side side) throws Exception {
        Class<?> cls = Class.forName("dev.usercopy.bench." + className(side));
        String name = side.benchmark().substring(side.benchmark().indexOf('.') + 1);
        Method bench = Arrays.stream(cls.getMethods()).filter(m -> m.getName().equals(name) && m.isAnnotationPresent(Benchmark.class))
                .findFirst().orElseThrow(() -> new AssertionError("no @Benchmark " + side.benchmark()));
        OperationsPerInvocation ops = bench.getAnnotation(OperationsPerInvocation.class);
        assertEquals(side.opsPerCall(), ops == null ? 1 : ops.value(), "operations per call of " + side.benchmark());

        Object state = cls.getDeclaredConstructor().newInstance();
        Set<String> paramFields = Arrays.stream(cls.getFields()).filter(f -> f.isAnnotationPresent(Param.class))
                .map(Field::getName).collect(Collectors.toSet());
        Set<String> components = Arrays.stream(side.params().getClass().getRecordComponents())
                .map(RecordComponent::getName).collect(Collectors.toSet());
        assertEquals(paramFields, components, "the benchmark's @Param fields are the workload's parameters");
        for (RecordComponent c : side.params().getClass().getRecordComponents()) {
            Object value = c.getAccessor().invoke(side.params());
            Field f = cls.getField(c.getName());
            assertTrue(List.of(f.getAnnotation(Param.class).value()).contains(value.toString()),
                    side.benchmark() + ": " + c.getName() + "=" + value + " is not among the published values "
                            + List.of(f.getAnnotation(Param.class).value()));
            f.set(state, value);
        }

        run(state, Setup.class, Level.Trial);
        try {
            Field wf = cls.getDeclaredField("workload");
            Workload workload = (Workload) wf.get(state);
            assertNotNull(workload, "the trial setup builds the workload");
            assertEquals(side.params(), workload.params(), "the benchmark builds the quick look's workload");
            JavaClass bytecode = new ClassFileImporter().importClasses(cls, workload.getClass()).get(cls);
            assertCalls(bytecode, bench.getName(), workload.getClass(), side.operation());
            if (side.beforeEach() != null) {
                assertCalls(bytecode, annotated(cls, Setup.class, Level.Invocation).getName(), workload.getClass(), side.beforeEach());
                assertCalls(bytecode, annotated(cls, TearDown.class, Level.Invocation).getName(), workload.getClass(), side.afterEach());
            } else {
                assertEquals(List.of(), Arrays.stream(cls.getMethods()).filter(m -> level(m, Setup.class) == Level.Invocation).toList(),
                        side.benchmark() + " sets up each invocation, the quick look does not");
            }
        } finally {
            run(state, TearDown.class, Level.Trial);
        }
    }

    private static String className(Side side) {
        return side.benchmark().substring(0, side.benchmark().indexOf('.'));
    }

    private static void assertCalls(JavaClass bytecode, String method, Class<?> workload, String operation) {
        JavaMethod m = bytecode.getMethods().stream().filter(x -> x.getName().equals(method)).findFirst().orElseThrow();
        assertTrue(m.getMethodCallsFromSelf().stream().anyMatch(call -> call.getTargetOwner().isEquivalentTo(workload)
                        && call.getName().equals(operation)),
                bytecode.getSimpleName() + "." + method + " does not call " + workload.getSimpleName() + "." + operation);
    }

    private static Level level(Method m, Class<? extends java.lang.annotation.Annotation> kind) {
        if (kind == Setup.class && m.getAnnotation(Setup.class) != null) {
            return m.getAnnotation(Setup.class).value();
        }
        if (kind == TearDown.class && m.getAnnotation(TearDown.class) != null) {
            return m.getAnnotation(TearDown.class).value();
        }
        return null;
    }

    private static Method annotated(Class<?> cls, Class<? extends java.lang.annotation.Annotation> kind, Level level) {
        return Arrays.stream(cls.getMethods()).filter(m -> level(m, kind) == level).findFirst()
                .orElseThrow(() -> new AssertionError(cls.getSimpleName() + " has no " + kind.getSimpleName() + "(" + level + ")"));
    }

    private static void run(Object state, Class<? extends java.lang.annotation.Annotation> kind, Level level) throws Exception {
        for (Method m : state.getClass().getMethods()) {
            if (level(m, kind) == level) {
                m.invoke(state);
            }
        }
    }
}
