package dev.gpuact.report;

import dev.gpuact.measure.Calibration;
import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the numbers were measured on, as labelled lines. */
public final class Machine {
    private Machine() {
    }

    /** CPU, cores, memory, JVM and OS; the caller adds each backend's device. */
    public static Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("cpu", Calibration.cpuModel());
        m.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        m.put("memory", memory());
        m.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", max heap "
                + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB");
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        return m;
    }

    private static String memory() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return String.format("%.1f GiB total, %.1f GiB free", os.getTotalMemorySize() / 1073741824.0,
                    os.getFreeMemorySize() / 1073741824.0);
        }
        return "unknown";
    }
}
