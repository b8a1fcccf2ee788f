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

import dev.usercopy.mm.AddressSpace;

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
 * mm, then platform). Inside cli, the commands sit on top of three parts
 * that do not know each other, but for the demo's use of the guest
 * language's page maps.
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
                .layer("commands").definedBy("dev.usercopy.cli")
                .layer("demo").definedBy("dev.usercopy.cli.demo..")
                .layer("quick bench").definedBy("dev.usercopy.cli.bench..")
                .layer("guest language").definedBy("dev.usercopy.cli.guest..")
                .layer("uaccess").definedBy("dev.usercopy.uaccess..")
                .layer("mm").definedBy("dev.usercopy.mm..")
                .layer("platform").definedBy("dev.usercopy.platform..")
                .whereLayer("commands").mayNotBeAccessedByAnyLayer()
                .whereLayer("demo").mayOnlyBeAccessedByLayers("commands")
                .whereLayer("quick bench").mayOnlyBeAccessedByLayers("commands")
                // The demo draws its page maps with the guest language's PageMap; nothing else crosses between cli's parts.
                .whereLayer("guest language").mayOnlyBeAccessedByLayers("commands", "demo")
                .whereLayer("uaccess").mayOnlyBeAccessedByLayers("commands", "demo", "quick bench", "guest language")
                .whereLayer("mm").mayOnlyBeAccessedByLayers("uaccess", "commands", "demo", "quick bench", "guest language")
                .whereLayer("platform").mayOnlyBeAccessedByLayers("mm", "uaccess", "commands", "demo", "quick bench", "guest language")
                .check(production);
    }

    @Test
    void onlyTheCommandsUsePicocli() {
        noClasses().that().resideOutsideOfPackage("dev.usercopy.cli")
                .should().dependOnClassesThat().resideInAPackage("picocli..")
                .because("dev.usercopy.cli holds the commands; the guest language, the demo and the quick bench are plain code they call")
                .check(production);
    }

    @Test
    void theGuestLanguageCopiesThroughUserSliceAsASyscallWould() {
        noClasses().that().resideInAPackage("dev.usercopy.cli.guest..")
                .should().callMethodWhere(callTo(AddressSpace.class, "copyFromUser|copyToUser|clearUser"))
                .because("read, write and clear exercise UserSlice, the API the README gives syscall writers "
                        + "(readstr keeps strncpyFromUser: the language shows its raw count)")
                .check(production);
    }

    @Test
    void theRulesSeeTheWholeProject() {
        // A rule over no classes passes whatever it says: make sure the import found every layer.
        for (String pkg : new String[] {"dev.usercopy.platform", "dev.usercopy.mm", "dev.usercopy.uaccess", "dev.usercopy.cli",
                "dev.usercopy.cli.guest", "dev.usercopy.cli.demo", "dev.usercopy.cli.bench"}) {
            if (production.stream().noneMatch(c -> c.getPackageName().equals(pkg))) {
                throw new AssertionError("no classes imported from " + pkg);
            }
        }
    }
}
