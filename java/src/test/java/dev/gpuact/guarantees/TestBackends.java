package dev.gpuact.guarantees;

import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.RequiredBackends;
import java.util.stream.Stream;

/**
 * Every backend the build knows, for tests parameterised by backend: an unusable one is skipped with its reason,
 * unless {@link RequiredBackends} requires it, and then it fails.
 */
final class TestBackends {
    private TestBackends() {
    }

    /** Names of every backend found that this module tests, usable or not (a @MethodSource). */
    static Stream<String> names() {
        return Backends.statuses().stream().map(Backends.Status::name).filter(RequiredBackends::tested);
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
        RequiredBackends.requireOrSkip(name, status.usable(),
                "backend '" + name + "' is not usable here: " + status.probe().reason());
        return Backends.get(name);
    }

    /** The pure-Java backend, where large iteration counts are cheap; device backends get fewer. */
    static boolean isJava(Backend backend) {
        return backend.name().equals("cpu");
    }
}
