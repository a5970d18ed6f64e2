package dev.gpuact.opencl;

import static org.jocl.CL.CL_DEVICE_TYPE_ACCELERATOR;
import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;

import dev.gpuact.Probe;
import java.util.Locale;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * One OpenCL device as the platform lists it, with what a user needs to tell devices apart.
 *
 * @param index position in the listing over all platforms, the number {@code -Dgpuact.opencl.device=N} takes
 * @param type the {@code CL_DEVICE_TYPE_*} bits
 */
public record OpenClDevice(int index, cl_platform_id platform, cl_device_id id, String platformName,
                           String platformVersion, String name, String vendor, String version, String driver,
                           long type, int computeUnits, long globalMemoryBytes, long maxWorkGroupSize,
                           boolean fp64) {

    public boolean isGpu() {
        return (type & CL_DEVICE_TYPE_GPU) != 0;
    }

    public boolean isAccelerator() {
        return (type & CL_DEVICE_TYPE_ACCELERATOR) != 0;
    }

    public boolean isCpu() {
        return (type & CL_DEVICE_TYPE_CPU) != 0;
    }

    public String typeName() {
        return isGpu() ? "GPU" : isAccelerator() ? "accelerator" : isCpu() ? "CPU" : "other";
    }

    /** Preference for automatic selection, lower first: GPU, accelerator, CPU, anything else. */
    public int rank() {
        return isGpu() ? Probe.RANK_OPENCL_GPU
                : isAccelerator() ? Probe.RANK_OPENCL_ACCELERATOR
                : isCpu() ? Probe.RANK_OPENCL_CPU : Probe.RANK_OPENCL_CPU + 1;
    }

    /** {@code pthread-skylake-avx512 (CPU, OpenCL 3.0 PoCL 3.1, driver 3.1+debian)}. */
    public String shortName() {
        return name + " (" + typeName() + ", " + version + ", driver " + driver + ")";
    }

    /** Everything known about the device, on one line. */
    public String describe() {
        return String.format(Locale.ROOT, "#%d %s: %s, vendor %s, %s, driver %s, %d compute units, %.1f GiB, "
                        + "max work-group %d, %s; platform %s (%s)",
                index, name, typeName(), vendor, version, driver, computeUnits,
                globalMemoryBytes / (double) (1L << 30), maxWorkGroupSize, fp64 ? "fp64" : "no fp64",
                platformName, platformVersion);
    }
}
