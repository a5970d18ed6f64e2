package dev.gpuact.cuda;

import java.util.Locale;

/** What the probe learns about one CUDA device. */
record CudaDeviceInfo(int ordinal, String name, int major, int minor, int multiprocessors, long totalBytes,
                      int driverApi) {
    /** {@code cuda:0 NVIDIA H100 80GB HBM3 (compute 9.0, 132 SMs, 79.1 GiB, driver CUDA 12.4)}. */
    String describe() {
        return String.format(Locale.ROOT, "cuda:%d %s (compute %d.%d, %d SMs, %.1f GiB, driver CUDA %s)", ordinal, name,
                major, minor, multiprocessors, totalBytes / (double) (1L << 30), Fatbin.cudaVersion(driverApi));
    }
}
