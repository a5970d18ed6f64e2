package dev.gpuact.opencl;

import static org.jocl.CL.CL_DEVICE_DOUBLE_FP_CONFIG;
import static org.jocl.CL.CL_DEVICE_GLOBAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_COMPUTE_UNITS;
import static org.jocl.CL.CL_DEVICE_MAX_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_DEVICE_PLATFORM;
import static org.jocl.CL.CL_DEVICE_TYPE;
import static org.jocl.CL.CL_DEVICE_TYPE_ALL;
import static org.jocl.CL.CL_DEVICE_VENDOR;
import static org.jocl.CL.CL_DEVICE_VERSION;
import static org.jocl.CL.CL_DEVICE_NOT_FOUND;
import static org.jocl.CL.CL_DRIVER_VERSION;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.CL_PLATFORM_VERSION;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/** Lists the OpenCL devices of every platform and picks one. */
public final class OpenClDevices {
    /** System property: a device index in the listing, or a substring of a device name. */
    public static final String DEVICE_PROPERTY = "gpuact.opencl.device";

    private OpenClDevices() {
    }

    /**
     * Every device of every platform, in platform order.
     *
     * @throws CLException if the OpenCL runtime fails; {@link LinkageError} when there is no libOpenCL at all
     */
    public static List<OpenClDevice> list() {
        return list(new ArrayList<>());
    }

    /**
     * Like {@link #list()}, but platforms that would replace the JVM's signal handlers (see {@link SignalChaining})
     * are left untouched unless the JVM chains signals; a line saying why is added to {@code skipped} for each.
     */
    public static List<OpenClDevice> list(List<String> skipped) {
        CL.setExceptionsEnabled(true);
        int[] count = new int[1];
        CL.clGetPlatformIDs(0, null, count);
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        if (platforms.length > 0) {
            CL.clGetPlatformIDs(platforms.length, platforms, null);
        }
        List<OpenClDevice> devices = new ArrayList<>();
        for (cl_platform_id platform : platforms) {
            String name = platformString(platform, CL_PLATFORM_NAME);
            if (SignalChaining.replacesJvmHandlers(name) && !SignalChaining.active()) {
                skipped.add("platform '" + name + "' skipped: its LLVM replaces the JVM's signal handlers when its "
                        + "devices are listed, which crashes the JVM at random; to use it, " + SignalChaining.advice());
                continue;
            }
            for (cl_device_id id : devicesOf(platform)) {
                devices.add(describe(devices.size(), id));
            }
        }
        return List.copyOf(devices);
    }

    /** What the runtime says about {@code id}; {@code index} is its place in {@link #list()}, or -1. */
    static OpenClDevice describe(int index, cl_device_id id) {
        cl_platform_id platform = new cl_platform_id();
        CL.clGetDeviceInfo(id, CL_DEVICE_PLATFORM, Sizeof.cl_platform_id, Pointer.to(platform), null);
        return new OpenClDevice(index, platform, id, platformString(platform, CL_PLATFORM_NAME),
                platformString(platform, CL_PLATFORM_VERSION), deviceString(id, CL_DEVICE_NAME),
                deviceString(id, CL_DEVICE_VENDOR), deviceString(id, CL_DEVICE_VERSION),
                deviceString(id, CL_DRIVER_VERSION), deviceLong(id, CL_DEVICE_TYPE, Sizeof.cl_ulong),
                (int) deviceLong(id, CL_DEVICE_MAX_COMPUTE_UNITS, Sizeof.cl_uint),
                deviceLong(id, CL_DEVICE_GLOBAL_MEM_SIZE, Sizeof.cl_ulong),
                deviceLong(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, Sizeof.size_t),
                deviceLong(id, CL_DEVICE_DOUBLE_FP_CONFIG, Sizeof.cl_ulong) != 0);
    }

    /**
     * The device to use: the one {@code override} names (an index into {@code devices}, else the first whose
     * name contains it, ignoring case), or with no override the best by type (GPU, accelerator, CPU), the
     * first listed among equals.
     *
     * @throws IllegalArgumentException when the override matches nothing, or there are no devices
     */
    public static OpenClDevice choose(List<OpenClDevice> devices, String override) {
        if (devices.isEmpty()) {
            throw new IllegalArgumentException("no OpenCL device found (platforms installed but none lists a device)");
        }
        if (override == null || override.isBlank()) {
            return devices.stream().min(Comparator.comparingInt(OpenClDevice::rank)).orElseThrow();
        }
        String wanted = override.trim();
        if (wanted.chars().allMatch(Character::isDigit)) {
            int index = wanted.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(wanted); // no device has 10^9
            if (index >= devices.size()) {
                throw new IllegalArgumentException("-D" + DEVICE_PROPERTY + "=" + wanted + ": expected a device index "
                        + "below " + devices.size() + " or a name; devices: " + names(devices));
            }
            return devices.get(index);
        }
        String needle = wanted.toLowerCase(Locale.ROOT);
        return devices.stream().filter(d -> d.name().toLowerCase(Locale.ROOT).contains(needle)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("-D" + DEVICE_PROPERTY + "=" + wanted
                        + ": no device name contains it; devices: " + names(devices)));
    }

    private static String names(List<OpenClDevice> devices) {
        return String.join(", ", devices.stream().map(d -> "#" + d.index() + " " + d.name()).toList());
    }

    private static List<cl_device_id> devicesOf(cl_platform_id platform) {
        int[] count = new int[1];
        try {
            CL.clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, null, count);
        } catch (CLException e) {
            if (e.getStatus() == CL_DEVICE_NOT_FOUND) {
                return List.of();
            }
            throw e;
        }
        cl_device_id[] ids = new cl_device_id[count[0]];
        CL.clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, ids.length, ids, null);
        return List.of(ids);
    }

    private static String platformString(cl_platform_id platform, int param) {
        long[] size = new long[1];
        CL.clGetPlatformInfo(platform, param, 0, null, size);
        byte[] bytes = new byte[(int) size[0]];
        CL.clGetPlatformInfo(platform, param, bytes.length, Pointer.to(bytes), null);
        return cString(bytes);
    }

    static String deviceString(cl_device_id device, int param) {
        long[] size = new long[1];
        CL.clGetDeviceInfo(device, param, 0, null, size);
        byte[] bytes = new byte[(int) size[0]];
        CL.clGetDeviceInfo(device, param, bytes.length, Pointer.to(bytes), null);
        return cString(bytes);
    }

    static long deviceLong(cl_device_id device, int param, int bytes) {
        if (bytes == Sizeof.cl_uint) {
            int[] v = new int[1];
            CL.clGetDeviceInfo(device, param, bytes, Pointer.to(v), null);
            return v[0] & 0xffffffffL;
        }
        long[] v = new long[1];
        CL.clGetDeviceInfo(device, param, bytes, Pointer.to(v), null);
        return v[0];
    }

    private static String cString(byte[] bytes) {
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8).trim();
    }
}
