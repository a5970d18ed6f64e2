package dev.gpuact.robust;

import static org.junit.jupiter.api.Assertions.fail;

import dev.gpuact.Backend;
import dev.gpuact.Backends;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * Every backend the build knows, for tests parameterised by backend: an unusable one is skipped with its reason,
 * unless {@code -Dgpuact.requireBackends=a,b} names it, and then it fails.
 */
final class TestBackends {
    private TestBackends() {
    }

    /** Names of every backend found, usable or not (a @MethodSource). */
    static Stream<String> names() {
        return Backends.statuses().stream().map(Backends.Status::name);
    }

    /**
     * {@link #names()} without cuda-emu, whose CUDA threads are fibers on the CPU, each launch run five times: for
     * workloads sized for real backends (its own concurrency check is CudaEmulatorTest's threadsShareOneBackend).
     */
    static Stream<String> namesAtDeviceSpeed() {
        return names().filter(name -> !name.equals("cuda-emu"));
    }

    /** A new instance of the named backend, or an aborted (or, when required, failed) test saying why not. */
    static Backend open(String name) {
        Backends.Status status = Backends.statuses().stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no backend named " + name));
        if (!status.usable()) {
            String reason = "backend '" + name + "' is not usable here: " + status.probe().reason();
            if (required().contains(name)) {
                fail(reason + " (and -Dgpuact.requireBackends requires it)");
            }
            Assumptions.abort(reason);
        }
        return Backends.get(name);
    }

    private static Set<String> required() {
        return Arrays.stream(System.getProperty("gpuact.requireBackends", "").split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toSet());
    }

    /** The pure-Java backend, where large iteration counts are cheap; device backends get fewer. */
    static boolean isJava(Backend backend) {
        return backend.name().equals("cpu");
    }
}
