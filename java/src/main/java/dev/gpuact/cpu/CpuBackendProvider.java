package dev.gpuact.cpu;

import dev.gpuact.Backend;
import dev.gpuact.BackendProvider;
import dev.gpuact.Probe;
import java.util.List;

/** The pure-Java backend: always usable, chosen last by automatic selection. */
public final class CpuBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return CpuBackend.NAME;
    }

    @Override
    public Probe probe() {
        return Probe.usable(Probe.RANK_JAVA, "pure Java, needs no native library", List.of(CpuBackend.describeDevice()),
                List.of("threads: " + Runtime.getRuntime().availableProcessors()
                        + " (common ForkJoinPool, inputs of 64K elements and more)",
                        "largest buffer: " + CpuBackend.MAX_LENGTH + " floats (a Java array)"));
    }

    @Override
    public Backend open() {
        return new CpuBackend();
    }
}
