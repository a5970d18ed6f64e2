package dev.gpuact;

import java.util.List;

/**
 * The answer of {@link BackendProvider#probe()}: usable or not, why, the devices seen, and a rank for automatic
 * selection (lower is preferred: CUDA 0, OpenCL GPU 10, OpenCL accelerator 15, OpenCL CPU 20, Java 100).
 */
public record Probe(boolean usable, String reason, int rank, List<String> devices, List<String> details) {
    public static final int RANK_CUDA = 0;
    public static final int RANK_OPENCL_GPU = 10;
    public static final int RANK_OPENCL_ACCELERATOR = 15;
    public static final int RANK_OPENCL_CPU = 20;
    public static final int RANK_JAVA = 100;
    /**
     * From this rank up a backend is opened only by name (an emulator, a test double): automatic selection never
     * picks it and {@code Backends.forWork} neither calibrates nor chooses it.
     */
    public static final int RANK_BY_NAME_ONLY = 1000;

    public Probe {
        devices = List.copyOf(devices);
        details = List.copyOf(details);
    }

    public static Probe usable(int rank, String reason, List<String> devices, List<String> details) {
        return new Probe(true, reason, rank, devices, details);
    }

    public static Probe unusable(String reason, List<String> details) {
        return new Probe(false, reason, Integer.MAX_VALUE, List.of(), details);
    }
}
