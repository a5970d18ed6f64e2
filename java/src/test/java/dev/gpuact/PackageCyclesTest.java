package dev.gpuact;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Dependencies between the packages of gpuact-core's main code point one way: no package is part of a cycle, and
 * the API uses none of the packages that implement it, so a backend is written against the API and spi alone. Core
 * uses no native binding and no device backend: those are artifacts of their own (gpuact-opencl, gpuact-cuda).
 */
class PackageCyclesTest {
    /** Every package its own slice, the root package dev.gpuact included. */
    private static final SliceAssignment EACH_PACKAGE = new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
            return SliceIdentifier.of(javaClass.getPackageName());
        }

        @Override
        public String getDescription() {
            return "each package";
        }
    };

    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() throws URISyntaxException {
        main = new ClassFileImporter()
                .importPath(Path.of(Backends.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
    }

    @Test
    void mainCodeHasNoPackageCycle() {
        slices().assignedFrom(EACH_PACKAGE).should().beFreeOfCycles().check(main);
    }

    @Test
    void theApiDependsOnNoPackageThatImplementsIt() {
        noClasses().that().resideInAPackage("dev.gpuact").should().dependOnClassesThat()
                .resideInAnyPackage("dev.gpuact.spi..", "dev.gpuact.cpu..", "dev.gpuact.opencl..",
                        "dev.gpuact.cuda..", "dev.gpuact.measure..", "dev.gpuact.conformance..")
                .check(main);
    }

    @Test
    void coreUsesNoNativeBindingAndNoDeviceBackend() {
        assertThat(main.containPackage("dev.gpuact.cpu")).as("core's classes imported").isTrue();
        noClasses().should().dependOnClassesThat()
                .resideInAnyPackage("org.jocl..", "jcuda..", "dev.gpuact.opencl..", "dev.gpuact.cuda..")
                .check(main);
    }
}
