package dev.gpuact.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.Op;
import dev.gpuact.fallback.Vectorization;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The conformance suite on the cpu backend alone, for the test run that forces the scalar kernels
 * ({@code -Dgpuact.cpu.vector=false}, the {@code cpu-scalar} Surefire execution): {@link ConformanceTest} covers
 * the path the JVM picks by itself, the Vector API one in the default run.
 */
class CpuConformanceTest {
    private static Backend cpu;

    @BeforeAll
    static void open() {
        cpu = Backends.get("cpu");
    }

    @TestFactory
    Stream<DynamicTest> everyOpOnTheCpuBackend() {
        String path = Vectorization.description();
        Stream<DynamicTest> plain = Arrays.stream(Op.values()).map(op -> DynamicTest.dynamicTest(
                "cpu (" + path + ") / " + op.id(), () -> assertPassed(Conformance.check(cpu, op), path)));
        Stream<DynamicTest> masked = Conformance.MASKABLE.stream().map(op -> DynamicTest.dynamicTest(
                "cpu (" + path + ") / " + op.id() + "+mask", () -> assertPassed(Conformance.checkMasked(cpu, op), path)));
        Stream<DynamicTest> withBias = Op.ELEMENTWISE.stream().map(op -> DynamicTest.dynamicTest(
                "cpu (" + path + ") / " + op.id() + "+bias", () -> assertPassed(Conformance.checkBias(cpu, op), path)));
        return Stream.concat(Stream.concat(plain, masked), withBias);
    }

    private static void assertPassed(OpReport report, String path) {
        assertThat(report.failures()).as("%s on %s, %s", report.name(), path, String.join("\n", report.failures()))
                .isEmpty();
    }

    @AfterAll
    static void close() {
        cpu.close();
    }
}
