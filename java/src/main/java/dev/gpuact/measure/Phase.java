package dev.gpuact.measure;

/** One thing the benchmark times. Per-workload phases run an activation; the others move bytes only. */
public enum Phase {
    UPLOAD_PAGEABLE("upload", "host to device from a float[]", Float.BYTES, false),
    UPLOAD_PINNED("upload pinned", "host to device from pinned host memory", Float.BYTES, false),
    DOWNLOAD_PAGEABLE("download", "device to host into a float[]", Float.BYTES, false),
    DOWNLOAD_PINNED("download pinned", "device to host into pinned host memory", Float.BYTES, false),
    DEVICE_COPY("device copy", "device to device copy (the device's own memory bandwidth)", 2 * Float.BYTES, false),
    KERNEL("kernel", "the activation on data in the backend's memory, on the device's clock where it has one",
            2 * Float.BYTES, true),
    RESIDENT("resident", "the activation on data in the backend's memory, wall clock of the synchronous call",
            2 * Float.BYTES, true),
    END_TO_END("end to end", "upload from a float[], the activation, download into a float[]", 2 * Float.BYTES, true),
    HOST_COPY("java array copy", "System.arraycopy between two float[] (the host's memory bandwidth)", 2 * Float.BYTES,
            false);

    private final String label;
    private final String description;
    private final int bytesPerElement;
    private final boolean perWorkload;

    Phase(String label, String description, int bytesPerElement, boolean perWorkload) {
        this.label = label;
        this.description = description;
        this.bytesPerElement = bytesPerElement;
        this.perWorkload = perWorkload;
    }

    public String label() {
        return label;
    }

    public String description() {
        return description;
    }

    /** Bytes counted per element for a bandwidth: read plus written for copies and kernels, one way for transfers. */
    public int bytesPerElement() {
        return bytesPerElement;
    }

    public boolean perWorkload() {
        return perWorkload;
    }
}
