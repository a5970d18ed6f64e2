package dev.gpuact.cuda;

import dev.gpuact.NativeCallException;
import java.util.HashMap;
import java.util.Map;
import jcuda.CudaException;
import jcuda.driver.CUresult;

/** A driver failure as the typed {@link NativeCallException}: JCuda's exception names the CUresult only in words. */
final class CudaErrors {
    /** The names of the CUresult codes, which lie below 1000. */
    private static final Map<String, Integer> CODES = codes();

    private CudaErrors() {
    }

    private static Map<String, Integer> codes() {
        Map<String, Integer> codes = new HashMap<>();
        for (int code = 0; code < 1000; code++) {
            String name = CUresult.stringFor(code);
            if (!name.startsWith("INVALID CUresult")) {
                codes.put(name, code);
            }
        }
        return codes;
    }

    /**
     * The driver call that threw {@code e}: JCuda's {@code cu*} entry point on its stack, else the
     * {@link CudaDriver} method (the emulated driver's), else a generic name.
     */
    static String callOf(CudaException e) {
        String driverMethod = null;
        for (StackTraceElement frame : e.getStackTrace()) {
            if (frame.getClassName().equals("jcuda.driver.JCudaDriver") && frame.getMethodName().startsWith("cu")) {
                return frame.getMethodName();
            }
            if (driverMethod == null && isDriver(frame.getClassName())) {
                driverMethod = frame.getMethodName();
            }
        }
        return driverMethod != null ? driverMethod : "CUDA driver call";
    }

    private static boolean isDriver(String className) {
        try {
            Class<?> type = Class.forName(className, false, CudaErrors.class.getClassLoader());
            return CudaDriver.class.isAssignableFrom(type) && !type.isInterface();
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** {@code call} of {@code backend} failed with {@code e}, whose message begins with the CUresult's name. */
    static NativeCallException failure(String backend, String call, CudaException e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        String name = message.split("[^A-Z0-9_]", 2)[0];
        Integer code = CODES.get(name);
        return new NativeCallException(backend, call, code == null ? -1 : code, code == null ? message : name,
                code != null && code == CUresult.CUDA_ERROR_OUT_OF_MEMORY, e);
    }
}
