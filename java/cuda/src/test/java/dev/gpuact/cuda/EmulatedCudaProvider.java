package dev.gpuact.cuda;

import dev.gpuact.Backend;
import dev.gpuact.BackendProvider;
import dev.gpuact.BackendUnavailableException;
import dev.gpuact.Probe;
import java.util.List;

/**
 * {@code cuda-emu}: the real {@link CudaBackend} over the emulated driver, so the conformance suite judges the CUDA
 * kernels as the host launches them. Opened by name only: auto selection and forWork leave it out.
 */
public final class EmulatedCudaProvider implements BackendProvider {
    static final String NAME = "cuda-emu";
    /** An H100/H200 has 132 SMs: the launch shapes follow the count, so the tests try 1 as well. */
    static final int MULTIPROCESSORS = 132;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Probe probe() {
        String problem = EmulatorLibrary.load();
        if (problem != null) {
            return Probe.unusable(problem, List.of());
        }
        return Probe.usable(Probe.RANK_BY_NAME_ONLY, "the CUDA kernels emulated on the CPU", List.of(info(MULTIPROCESSORS).describe()),
                List.of("schedules: " + String.join(", ", EmulatorLibrary.schedules())));
    }

    @Override
    public Backend open() {
        String problem = EmulatorLibrary.load();
        if (problem != null) {
            throw new BackendUnavailableException("backend '" + NAME + "' is not usable: " + problem);
        }
        return open(MULTIPROCESSORS, new EmulatedDriver());
    }

    static CudaBackend open(int multiprocessors, EmulatedDriver driver) {
        return new CudaBackend(NAME, info(multiprocessors), Fatbin.load(), driver);
    }

    static CudaDeviceInfo info(int multiprocessors) {
        return new CudaDeviceInfo(0, "gpuact CUDA emulator", 9, 0, multiprocessors, 16L << 30, 13000);
    }
}
