package dev.gpuact.opencl;

import dev.gpuact.Backend;
import dev.gpuact.BackendProvider;
import dev.gpuact.BackendUnavailableException;
import dev.gpuact.Probe;
import java.util.ArrayList;
import java.util.List;
import org.jocl.CLException;

/**
 * Finds OpenCL devices. Construction touches no native code; {@link #probe()} loads JOCL, lists every platform
 * and device, and picks one: {@code -Dgpuact.opencl.device=N} (index in the listing) or a name substring, else
 * the first GPU, then accelerator, then CPU.
 */
public final class OpenClBackendProvider implements BackendProvider {
    private static final System.Logger LOG = System.getLogger("dev.gpuact");
    private OpenClDevice chosen;
    private Probe probe;

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public synchronized Probe probe() {
        if (probe == null) {
            probe = findDevice();
        }
        return probe;
    }

    private Probe findDevice() {
        List<OpenClDevice> devices;
        List<String> skipped = new ArrayList<>();
        try {
            devices = OpenClDevices.list(skipped);
        } catch (LinkageError e) {
            return Probe.unusable("no OpenCL runtime: JOCL could not load libOpenCL (" + e.getMessage() + ")",
                    List.of("install an OpenCL ICD loader and a driver (e.g. ocl-icd-libopencl1 and pocl-opencl-icd)"));
        } catch (CLException e) {
            return Probe.unusable("OpenCL runtime error while listing devices: " + e.getMessage(), List.of());
        }
        // Said where an operator looks, not only in `gpuact info`: a platform left out can be why selection moved on.
        skipped.forEach(line -> LOG.log(System.Logger.Level.WARNING, "gpuact: opencl: " + line));
        List<String> details = new ArrayList<>(skipped);
        devices.forEach(d -> details.add(d.describe()));
        if (devices.isEmpty() && !skipped.isEmpty()) {
            return Probe.unusable(skipped.get(0), details.subList(1, details.size()));
        }
        details.add("program binary cache: " + ProgramBuilder.defaultCacheDir() + " (-D" + ProgramBuilder.CACHE_DIR_PROPERTY + ")");
        String override = System.getProperty(OpenClDevices.DEVICE_PROPERTY);
        try {
            chosen = OpenClDevices.choose(devices, override);
        } catch (IllegalArgumentException e) {
            return Probe.unusable(e.getMessage(), details);
        }
        String why = override == null || override.isBlank()
                ? "the best by type (GPU, accelerator, CPU); -D" + OpenClDevices.DEVICE_PROPERTY + "=N or =name picks another"
                : "chosen by -D" + OpenClDevices.DEVICE_PROPERTY + "=" + override;
        return Probe.usable(chosen.rank(), "OpenCL " + chosen.typeName() + " device #" + chosen.index() + " "
                + chosen.shortName() + ", " + why, devices.stream().map(OpenClDevice::shortName).toList(), details);
    }

    @Override
    public Backend open() {
        Probe p = probe();
        if (!p.usable()) {
            throw new BackendUnavailableException("backend 'opencl' is not usable: " + p.reason());
        }
        return OpenClBackend.open(chosen);
    }
}
