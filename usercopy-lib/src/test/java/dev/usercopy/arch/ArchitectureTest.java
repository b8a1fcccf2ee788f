package dev.usercopy.arch;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;

import dev.usercopy.mm.AddressSpace;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.core.domain.JavaCall.Predicates.target;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.nameMatching;
import static com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.assignableTo;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The library's shape, as Asterinas keeps all {@code unsafe} in OSTD: only
 * {@code dev.usercopy.platform} holds raw addresses or makes restricted FFM
 * calls, the packages depend downwards only (uaccess, then mm, then platform,
 * with uapi's values beneath them all; the guest
 * runtime's syscall layer, sys, and its processes, proc, sit on top), and the module exports what a user
 * calls, never platform. The command line's rules are in usercopy-cli.
 */
class ArchitectureTest {
    private static JavaClasses production;

    @BeforeAll
    static void importClasses() {
        production = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.usercopy");
    }

    private static DescribedPredicate<JavaCall<?>> callTo(Class<?> owner, String methodRegex) {
        return target(owner(assignableTo(owner))).and(target(nameMatching(methodRegex)))
                .as("a call to " + owner.getSimpleName() + "." + methodRegex);
    }

    @Test
    void onlyPlatformMakesRestrictedOrRawAddressCalls() {
        noClasses().that().resideOutsideOfPackage("dev.usercopy.platform..")
                .should().callMethodWhere(callTo(MemorySegment.class, "reinterpret|ofAddress|address"))
                .orShould().callMethodWhere(callTo(Linker.class, "nativeLinker|downcallHandle|upcallStub"))
                .orShould().callMethodWhere(callTo(SymbolLookup.class, "libraryLookup|loaderLookup"))
                .orShould().callMethodWhere(callTo(AddressLayout.class, "withTargetLayout"))
                .orShould().callMethodWhere(callTo(System.class, "load|loadLibrary"))
                .orShould().callMethodWhere(callTo(Runtime.class, "load|loadLibrary"))
                .orShould().dependOnClassesThat().haveFullyQualifiedName("sun.misc.Unsafe")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("jdk.internal.misc.Unsafe")
                .because("raw addresses and restricted FFM calls live in platform, the one ring 0")
                .check(production);
    }

    @Test
    void packagesDependDownwardsOnly() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("proc").definedBy("dev.usercopy.proc..")
                .layer("sys").definedBy("dev.usercopy.sys..")
                .layer("uaccess").definedBy("dev.usercopy.uaccess..")
                .layer("mm").definedBy("dev.usercopy.mm..")
                .layer("platform").definedBy("dev.usercopy.platform..")
                .layer("uapi").definedBy("dev.usercopy.uapi..")
                .whereLayer("proc").mayNotBeAccessedByAnyLayer()
                .whereLayer("sys").mayOnlyBeAccessedByLayers("proc")
                .whereLayer("uaccess").mayOnlyBeAccessedByLayers("sys", "proc")
                .whereLayer("mm").mayOnlyBeAccessedByLayers("uaccess", "sys", "proc")
                .whereLayer("platform").mayOnlyBeAccessedByLayers("mm", "uaccess", "sys", "proc")
                .whereLayer("uapi").mayOnlyBeAccessedByLayers("platform", "mm", "uaccess", "sys", "proc")
                .check(production);
    }

    @Test
    void uapiHoldsValuesOnly() {
        noClasses().that().resideInAPackage("dev.usercopy.uapi..")
                .should().dependOnClassesThat().resideInAnyPackage("java.lang.foreign..", "dev.usercopy.platform..")
                .because("uapi is what Linux's uapi headers define, beneath everything and reaching nothing")
                .check(production);
    }

    @Test
    void theModuleExportsTheApiAndNeverPlatform() {
        ModuleDescriptor module = AddressSpace.class.getModule().getDescriptor() != null
                ? AddressSpace.class.getModule().getDescriptor()
                : moduleInfoOnDisk();
        assertEquals("dev.usercopy", module.name());
        Set<String> exported = module.exports().stream()
                .peek(e -> assertFalse(e.isQualified(), "a qualified export: " + e))
                .map(ModuleDescriptor.Exports::source).collect(Collectors.toSet());
        assertEquals(Set.of("dev.usercopy.mm", "dev.usercopy.proc", "dev.usercopy.uaccess", "dev.usercopy.uapi"), exported);
        assertEquals(Set.of("java.base"), module.requires().stream().map(ModuleDescriptor.Requires::name)
                .collect(Collectors.toSet()), "the library needs the JDK's java.base and nothing else");
    }

    /** The tests run on the classpath, so the descriptor is read where the library's classes are. */
    private static ModuleDescriptor moduleInfoOnDisk() {
        try {
            Path classes = Path.of(AddressSpace.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Set<ModuleReference> found = ModuleFinder.of(classes).findAll();
            assertEquals(1, found.size(), "modules in " + classes);
            return found.iterator().next().descriptor();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void theRulesSeeTheWholeProject() {
        // A rule over no classes passes whatever it says: make sure the import found every layer.
        for (String pkg : new String[] {"dev.usercopy.platform", "dev.usercopy.mm", "dev.usercopy.uaccess", "dev.usercopy.uapi"}) {
            if (production.stream().noneMatch(c -> c.getPackageName().equals(pkg))) {
                throw new AssertionError("no classes imported from " + pkg);
            }
        }
    }
}
