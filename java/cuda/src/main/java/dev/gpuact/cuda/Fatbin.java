package dev.gpuact.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The shipped kernels: {@code gpuact.fatbin} and the manifest {@code build-fatbin.sh} writes next to it
 * (source hash, nvcc release, the driver API version it needs, kernel names).
 */
record Fatbin(byte[] image, Map<String, String> fields, Set<String> kernels) {
    static final String RESOURCE_DIR = "/dev/gpuact/kernels/cuda/";

    /** Loads both resources from the class path. */
    static Fatbin load() {
        String manifest = new String(resource("gpuact.manifest"), StandardCharsets.UTF_8);
        return new Fatbin(resource("gpuact.fatbin"), parseFields(manifest), kernelsOf(manifest));
    }

    /** cuDriverGetVersion() must be at least this (e.g. 13000 for CUDA 13.0). */
    int minDriverApi() {
        String v = fields.get("min-driver-api");
        if (v == null) {
            throw new IllegalStateException("gpuact.manifest has no min-driver-api line");
        }
        return Integer.parseInt(v.trim());
    }

    /** Why this driver cannot run the fatbin, or null when it can. */
    String driverProblem(int driverApi) {
        if (driverApi >= minDriverApi()) {
            return null;
        }
        return "the CUDA driver supports CUDA " + cudaVersion(driverApi) + " but the kernels were built with "
                + fields.getOrDefault("nvcc", "nvcc") + " and need a driver for CUDA " + cudaVersion(minDriverApi())
                + " or newer: update the NVIDIA driver";
    }

    /** 12040 as {@code 12.4}. */
    static String cudaVersion(int api) {
        return api / 1000 + "." + api % 1000 / 10;
    }

    static Map<String, String> parseFields(String manifest) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : manifest.split("\n")) {
            int colon = line.indexOf(": ");
            if (!line.startsWith("#") && colon > 0 && !line.startsWith("kernel:")) {
                fields.put(line.substring(0, colon), line.substring(colon + 2).trim());
            }
        }
        return fields;
    }

    static Set<String> kernelsOf(String manifest) {
        Set<String> names = new TreeSet<>();
        for (String line : manifest.split("\n")) {
            if (line.startsWith("kernel: ")) {
                names.add(line.substring("kernel: ".length()).trim());
            }
        }
        return names;
    }

    private static byte[] resource(String name) {
        try (InputStream in = Fatbin.class.getResourceAsStream(RESOURCE_DIR + name)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE_DIR + name + " is not on the class path (gpuact-kernels-cuda jar)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + RESOURCE_DIR + name, e);
        }
    }
}
