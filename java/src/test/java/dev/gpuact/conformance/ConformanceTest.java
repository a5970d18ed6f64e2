package dev.gpuact.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DType;
import dev.gpuact.Op;
import dev.gpuact.RequiredBackends;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The conformance suite: every backend found on the class path (of those the module tests, see
 * {@link RequiredBackends}) times every op, each a test named like "cpu / gelu", softmax and log_softmax under masks
 * ("cpu / softmax+mask") and bias and activation for every elementwise op ("cpu / gelu+bias"). A backend that
 * cannot run here is skipped with its reason, unless the system property
 * {@link RequiredBackends} names it: then it fails.
 */
class ConformanceTest {
    private static final Map<String, Backend> OPEN = new ConcurrentHashMap<>();

    @TestFactory
    Stream<DynamicNode> everyOpOnEveryBackend() {
        List<Backends.Status> statuses = Backends.statuses().stream()
                .filter(status -> RequiredBackends.tested(status.name())).toList();
        Set<String> found = statuses.stream().map(Backends.Status::name).collect(Collectors.toSet());
        Stream<DynamicNode> missing = RequiredBackends.names().stream().filter(name -> !found.contains(name))
                .map(name -> DynamicTest.dynamicTest(name + " (required)", () -> fail("backend '" + name
                        + "' is required by -D" + RequiredBackends.PROPERTY
                        + " but no provider of that name is on the class path; found " + found)));
        Stream<DynamicNode> perBackend = statuses.stream().map(status -> DynamicContainer.dynamicContainer(status.name(),
                Stream.concat(Stream.concat(Arrays.stream(Op.values()).map(op -> DynamicTest.dynamicTest(
                                status.name() + " / " + op.id(), () -> checkOp(status, Conformance::check, op))),
                        Conformance.MASKABLE.stream().map(op -> DynamicTest.dynamicTest(status.name() + " / " + op.id()
                                + "+mask", () -> checkOp(status, Conformance::checkMasked, op)))),
                        Stream.concat(Op.ELEMENTWISE.stream().map(op -> DynamicTest.dynamicTest(status.name() + " / "
                                + op.id() + "+bias", () -> checkOp(status, Conformance::checkBias, op))),
                                Stream.of(DType.FLOAT16, DType.BFLOAT16).flatMap(type -> Arrays.stream(Op.values())
                                        .map(op -> DynamicTest.dynamicTest(status.name() + " / " + op.id() + "@"
                                                + type.name().toLowerCase(Locale.ROOT), () -> checkOp(status,
                                                (b, o) -> Conformance.checkStorage(b, o, type), op))))))));
        return Stream.concat(missing, perBackend);
    }

    private static void checkOp(Backends.Status status, BiFunction<Backend, Op, OpReport> check, Op op) {
        Backend backend = open(status);
        OpReport report = check.apply(backend, op);
        assertThat(report.failures())
                .as("%s / %s on %s: %d points, max forward %s ULP, max backward %s ULP; failures:%n%s", status.name(),
                        report.name(), backend.device(), report.points(), Conformance.formatUlps(report.maxUlpForward()),
                        Conformance.formatUlps(report.maxUlpBackward()), String.join("\n", report.failures()))
                .isEmpty();
        assertThat(backend.memory().liveBuffers()).as("buffers the checks left open").isZero();
    }

    /** The backend, opened once for all its tests; unusable ones are skipped, or failed when required. */
    static Backend open(Backends.Status status) {
        RequiredBackends.requireOrSkip(status.name(), status.usable(),
                "backend '" + status.name() + "' is not usable here: " + status.probe().reason());
        return OPEN.computeIfAbsent(status.name(), Backends::get);
    }

    @AfterAll
    static void closeBackends() {
        OPEN.values().forEach(Backend::close);
        OPEN.clear();
    }
}
