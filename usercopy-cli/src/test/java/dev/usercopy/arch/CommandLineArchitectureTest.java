package dev.usercopy.arch;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;

import dev.usercopy.mm.AddressSpace;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.core.domain.JavaCall.Predicates.target;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.assignableTo;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.nameMatching;
import static com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

/**
 * The command line on top of the library: it makes no restricted FFM call
 * and holds no raw address (platform, inside the library, is the one ring 0),
 * nothing in the library reaches up to it, and of platform it uses only what
 * a user-facing command shows (CPU features, the copy forms, the handler's
 * counters), never the frames and reservations that hold raw addresses.
 * Inside cli, the commands sit on top of three parts that do not know each
 * other, but for the demo's use of the guest language's page maps. The
 * library's own rules are in usercopy-lib's ArchitectureTest.
 */
class CommandLineArchitectureTest {
    private static JavaClasses production;

    @BeforeAll
    static void importClasses() {
        // The library comes from its jar (or target/classes) on the test classpath.
        production = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.usercopy");
    }

    private static DescribedPredicate<JavaCall<?>> callTo(Class<?> owner, String methodRegex) {
        return target(owner(assignableTo(owner))).and(target(nameMatching(methodRegex)))
                .as("a call to " + owner.getSimpleName() + "." + methodRegex);
    }

    @Test
    void theCommandLineMakesNoRestrictedOrRawAddressCalls() {
        noClasses().that().resideInAPackage("dev.usercopy.cli..")
                .should().callMethodWhere(callTo(MemorySegment.class, "reinterpret|ofAddress|address"))
                .orShould().callMethodWhere(callTo(Linker.class, "nativeLinker|downcallHandle|upcallStub"))
                .orShould().callMethodWhere(callTo(SymbolLookup.class, "libraryLookup|loaderLookup"))
                .orShould().callMethodWhere(callTo(AddressLayout.class, "withTargetLayout"))
                .orShould().callMethodWhere(callTo(System.class, "load|loadLibrary"))
                .orShould().callMethodWhere(callTo(Runtime.class, "load|loadLibrary"))
                .orShould().dependOnClassesThat().haveFullyQualifiedName("sun.misc.Unsafe")
                .because("raw addresses and restricted FFM calls live in the library's platform package")
                .check(production);
    }

    @Test
    void theCommandLineLeavesPlatformsRawAddressTypesAlone() {
        noClasses().that().resideInAPackage("dev.usercopy.cli..")
                .should().dependOnClassesThat().haveNameMatching(
                        "dev\\.usercopy\\.platform\\.(Reservation|PageFrame|PhysicalMemory|LibUsercopy|sigaction|siginfo_t|ucontext_t)(\\$.*)?")
                .because("frames and reservations are the memory manager's; a command goes through mm and uaccess")
                .check(production);
    }

    @Test
    void packagesDependDownwardsOnly() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("commands").definedBy("dev.usercopy.cli")
                .layer("demo").definedBy("dev.usercopy.cli.demo..")
                .layer("quick bench").definedBy("dev.usercopy.cli.bench..")
                .layer("guest language").definedBy("dev.usercopy.cli.guest..")
                .layer("library").definedBy("dev.usercopy.uaccess..", "dev.usercopy.mm..",
                        "dev.usercopy.platform..", "dev.usercopy.uapi..")
                .whereLayer("commands").mayNotBeAccessedByAnyLayer()
                .whereLayer("demo").mayOnlyBeAccessedByLayers("commands")
                .whereLayer("quick bench").mayOnlyBeAccessedByLayers("commands")
                // The demo draws its page maps with the guest language's PageMap; nothing else crosses between cli's parts.
                .whereLayer("guest language").mayOnlyBeAccessedByLayers("commands", "demo")
                .whereLayer("library").mayOnlyBeAccessedByLayers("commands", "demo", "quick bench", "guest language")
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
    void theRulesSeeTheCommandLineAndTheLibrary() {
        // A rule over no classes passes whatever it says: make sure the import found both modules.
        for (String pkg : new String[] {"dev.usercopy.platform", "dev.usercopy.mm", "dev.usercopy.uaccess", "dev.usercopy.cli",
                "dev.usercopy.cli.guest", "dev.usercopy.cli.demo", "dev.usercopy.cli.bench"}) {
            if (production.stream().noneMatch(c -> c.getPackageName().equals(pkg))) {
                throw new AssertionError("no classes imported from " + pkg);
            }
        }
    }
}
