package dev.gpuact.cli;

import dev.gpuact.Backend;
import dev.gpuact.BackendUnavailableException;
import dev.gpuact.Backends;
import picocli.CommandLine.Option;

/** The {@code --backend} option of every command that computes. */
final class BackendOption {
    @Option(names = "--backend", paramLabel = "NAME",
            description = "auto, cpu, opencl or cuda (default: -Dgpuact.backend, else GPUACT_BACKEND, else auto).")
    String name;

    /** The named backend, or the default choice when none was named. */
    Backend open() {
        return open(name);
    }

    /** Opens a backend; an unknown or unusable one is bad input, never a silent fallback. */
    static Backend open(String name) {
        try {
            return name == null ? Backends.best() : Backends.get(name);
        } catch (BackendUnavailableException | IllegalArgumentException e) {
            throw new BadInputException("--backend: " + e.getMessage());
        }
    }
}
