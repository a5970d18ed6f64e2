package dev.gpuact.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import dev.gpuact.Backend;
import dev.gpuact.BackendProvider;
import dev.gpuact.BackendUnavailableException;
import dev.gpuact.Probe;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jcuda.CudaException;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/**
 * Finds a usable CUDA device. The probe runs once per provider and its answer is kept: when the JCuda natives or
 * the driver library cannot load, the first JCuda call throws {@link UnsatisfiedLinkError} and every later one
 * {@link NoClassDefFoundError}, so nothing here touches JCuda again after an unusable answer.
 */
public final class CudaBackendProvider implements BackendProvider {
    /** {@code -Dgpuact.cuda.device=N} picks the device by ordinal (default 0). */
    public static final String DEVICE_PROPERTY = "gpuact.cuda.device";
    /** The oldest architecture the fatbin has code for (its PTX is for a newer one). */
    static final int MIN_COMPUTE_CAPABILITY = 75;

    private Probe probe;
    private CudaDeviceInfo chosen;
    private Fatbin fatbin;

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public synchronized Probe probe() {
        if (probe == null) {
            probe = firstProbe();
        }
        return probe;
    }

    @Override
    public synchronized Backend open() {
        Probe p = probe();
        if (!p.usable()) {
            throw new BackendUnavailableException("backend 'cuda' is not usable: " + p.reason());
        }
        return new CudaBackend(chosen, fatbin);
    }

    private Probe firstProbe() {
        Probe probe = probeWithFatbin();
        if (!probe.usable()) {
            fatbin = null; // tens of MB of kernels that will never be launched: give the heap back
        }
        return probe;
    }

    private Probe probeWithFatbin() {
        int ordinal;
        try {
            ordinal = requestedDevice(System.getProperty(DEVICE_PROPERTY));
            fatbin = Fatbin.load();
        } catch (RuntimeException e) {
            return Probe.unusable(e.getMessage(), List.of());
        }
        try {
            return probeDriver(ordinal);
        } catch (LinkageError e) {
            return Probe.unusable(noDriverReason(e), List.of(String.valueOf(e)));
        } catch (CudaException e) {
            return Probe.unusable("CUDA driver error: " + e.getMessage(), List.of());
        }
    }

    private Probe probeDriver(int ordinal) {
        JCudaDriver.setExceptionsEnabled(true);
        try {
            cuInit(0);
        } catch (CudaException e) {
            return Probe.unusable("no usable CUDA device: cuInit failed with " + e.getMessage(), List.of());
        }
        int[] value = new int[1];
        cuDriverGetVersion(value);
        int driverApi = value[0];
        cuDeviceGetCount(value);
        int count = value[0];
        if (count == 0) {
            return Probe.unusable("no CUDA device (driver CUDA " + Fatbin.cudaVersion(driverApi) + ")", List.of());
        }
        List<CudaDeviceInfo> devices = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            devices.add(describe(i, driverApi));
        }
        List<String> described = devices.stream().map(CudaDeviceInfo::describe).toList();
        if (ordinal >= count) {
            return Probe.unusable("-D" + DEVICE_PROPERTY + "=" + ordinal + " but there are " + count + " CUDA device(s)", described);
        }
        CudaDeviceInfo device = devices.get(ordinal);
        if (device.major() * 10 + device.minor() < MIN_COMPUTE_CAPABILITY) {
            return Probe.unusable("cuda:" + ordinal + " has compute capability " + device.major() + "." + device.minor()
                    + "; the kernels need 7.5 or newer", described);
        }
        // An older driver is tried all the same: the module load below is the real test, the versions the explanation.
        String driverProblem = fatbin.driverProblem(driverApi);
        String loadProblem = tryLoadModule(ordinal);
        if (loadProblem != null) {
            return Probe.unusable(driverProblem != null ? driverProblem + " (" + loadProblem + ")" : loadProblem, described);
        }
        chosen = device;
        List<String> details = new ArrayList<>();
        details.add("fatbin: nvcc " + fatbin.fields().getOrDefault("nvcc", "?") + ", SASS sm_"
                + fatbin.fields().getOrDefault("sass", "?").replace(" ", "/") + ", PTX compute_"
                + fatbin.fields().getOrDefault("ptx", "?"));
        if (driverProblem != null) {
            details.add("the module loaded although " + driverProblem);
        }
        return Probe.usable(Probe.RANK_CUDA, "using " + device.describe(), described, details);
    }

    private static CudaDeviceInfo describe(int ordinal, int driverApi) {
        CUdevice device = new CUdevice();
        cuDeviceGet(device, ordinal);
        byte[] name = new byte[256];
        cuDeviceGetName(name, name.length, device);
        int length = 0;
        while (length < name.length && name[length] != 0) {
            length++;
        }
        long[] memory = new long[1];
        cuDeviceTotalMem(memory, device);
        return new CudaDeviceInfo(ordinal, new String(name, 0, length, StandardCharsets.UTF_8),
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT), memory[0], driverApi);
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] v = new int[1];
        cuDeviceGetAttribute(v, attribute, device);
        return v[0];
    }

    /** Loads the fatbin once so an unloadable module is reported here, not at the first call. */
    private String tryLoadModule(int ordinal) {
        CUdevice device = new CUdevice();
        cuDeviceGet(device, ordinal);
        CUcontext context = new CUcontext();
        cuDevicePrimaryCtxRetain(context, device);
        try {
            cuCtxSetCurrent(context);
            CUmodule module = new CUmodule();
            cuModuleLoadData(module, fatbin.image());
            cuModuleUnload(module);
            return null;
        } catch (CudaException e) {
            return "loading gpuact.fatbin on cuda:" + ordinal + " failed: " + e.getMessage();
        } finally {
            cuDevicePrimaryCtxRelease(device);
        }
    }

    /** The device ordinal the property asks for; 0 when unset. */
    static int requestedDevice(String property) {
        if (property == null || property.isBlank()) {
            return 0;
        }
        try {
            int n = Integer.parseInt(property.trim());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below with the value
        }
        throw new IllegalArgumentException("-D" + DEVICE_PROPERTY + " must be a device ordinal >= 0, got '" + property + "'");
    }

    /** Why JCuda could not load, in words a user can act on. */
    static String noDriverReason(LinkageError e) {
        String message = String.valueOf(e.getMessage());
        int newline = message.indexOf('\n');
        return "no CUDA driver: the JCuda native library or libcuda.so.1 (NVIDIA driver) could not be loaded ("
                + e.getClass().getSimpleName() + ": " + (newline < 0 ? message : message.substring(0, newline)) + ")";
    }
}
