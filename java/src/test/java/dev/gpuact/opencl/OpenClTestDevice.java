package dev.gpuact.opencl;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gpuact.Probe;
import java.util.Arrays;

/** The OpenCL device tests run on; a test is skipped (with the reason) where there is none, unless required. */
final class OpenClTestDevice {
    private OpenClTestDevice() {
    }

    static OpenClDevice device() {
        OpenClBackendProvider provider = new OpenClBackendProvider();
        Probe probe = provider.probe();
        boolean required = Arrays.asList(System.getProperty("gpuact.requireBackends", "").split(",")).contains("opencl");
        if (!required) {
            assumeTrue(probe.usable(), "OpenCL not usable: " + probe.reason());
        } else if (!probe.usable()) {
            throw new AssertionError("OpenCL is required but not usable: " + probe.reason());
        }
        return OpenClDevices.choose(OpenClDevices.list(), System.getProperty(OpenClDevices.DEVICE_PROPERTY));
    }

    static OpenClBackend open() {
        return OpenClBackend.open(device());
    }
}
