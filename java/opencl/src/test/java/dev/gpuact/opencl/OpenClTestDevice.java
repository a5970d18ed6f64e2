package dev.gpuact.opencl;

import dev.gpuact.Probe;
import dev.gpuact.RequiredBackends;

/** The OpenCL device tests run on; a test is skipped (with the reason) where there is none, unless required. */
final class OpenClTestDevice {
    private OpenClTestDevice() {
    }

    static OpenClDevice device() {
        OpenClBackendProvider provider = new OpenClBackendProvider();
        Probe probe = provider.probe();
        RequiredBackends.requireOrSkip("opencl", probe.usable(), "OpenCL not usable: " + probe.reason());
        return OpenClDevices.choose(OpenClDevices.list(), System.getProperty(OpenClDevices.DEVICE_PROPERTY));
    }

    static OpenClBackend open() {
        return OpenClBackend.open(device());
    }
}
