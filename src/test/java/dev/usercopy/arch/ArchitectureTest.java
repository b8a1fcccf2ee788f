package dev.usercopy.arch;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;

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

/**
 * The house's shape, as Asterinas keeps all {@code unsafe} in OSTD: only
 * {@code dev.usercopy.platform} holds raw addresses or makes restricted FFM
 * calls, and the packages depend downwards only (cli, then uaccess, then
 * mm, then platform).
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
                .layer("cli").definedBy("dev.usercopy.cli..")
                .layer("uaccess").definedBy("dev.usercopy.uaccess..")
                .layer("mm").definedBy("dev.usercopy.mm..")
                .layer("platform").definedBy("dev.usercopy.platform..")
                .whereLayer("cli").mayNotBeAccessedByAnyLayer()
                .whereLayer("uaccess").mayOnlyBeAccessedByLayers("cli")
                .whereLayer("mm").mayOnlyBeAccessedByLayers("uaccess", "cli")
                .whereLayer("platform").mayOnlyBeAccessedByLayers("mm", "uaccess", "cli")
                .check(production);
    }

    @Test
    void theRulesSeeTheWholeProject() {
        // A rule over no classes passes whatever it says: make sure the import found every layer.
        for (String pkg : new String[] {"dev.usercopy.platform", "dev.usercopy.mm", "dev.usercopy.uaccess", "dev.usercopy.cli"}) {
            if (production.stream().noneMatch(c -> c.getPackageName().equals(pkg))) {
                throw new AssertionError("no classes imported from " + pkg);
            }
        }
    }
}
