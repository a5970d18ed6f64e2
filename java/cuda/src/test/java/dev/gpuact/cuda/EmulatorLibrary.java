package dev.gpuact.cuda;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import jcuda.Pointer;

/**
 * The CUDA emulator (kernels-cuda/emulator, built by its build.sh): the unmodified kernels compiled for the CPU,
 * each CUDA thread a fiber, every launch run under several schedules that must agree bit for bit, device memory
 * between guard pages. Natives throw {@link jcuda.CudaException} with the emulator's words.
 */
final class EmulatorLibrary {
    /** Path of libgpuact_emu.so; the build passes it to the tests. */
    static final String PROPERTY = "gpuact.cuda.emulator";

    private static String loadProblem;
    private static boolean loaded;

    private EmulatorLibrary() {
    }

    /** Loads the library once; null when it loaded, else why not. */
    static synchronized String load() {
        if (!loaded && loadProblem == null) {
            String path = System.getProperty(PROPERTY, "");
            if (path.isBlank() || !Files.isRegularFile(Path.of(path))) {
                loadProblem = "no CUDA emulator library at -D" + PROPERTY + "='" + path
                        + "' (kernels-cuda/emulator/build.sh builds it)";
            } else {
                try {
                    System.load(Path.of(path).toAbsolutePath().toString());
                    loaded = true;
                } catch (UnsatisfiedLinkError e) {
                    loadProblem = "cannot load the CUDA emulator " + path + ": " + e.getMessage();
                }
            }
        }
        return loadProblem;
    }

    /**
     * For the emulator's tests: skips them when the library is not built, or fails them when
     * {@code -Dgpuact.requireBackends} names {@code cuda-emu} (as ./test.sh does wherever g++ is).
     */
    static void requireOrSkip() {
        String problem = load();
        dev.gpuact.RequiredBackends.requireOrSkip(EmulatedCudaProvider.NAME, problem == null, problem);
    }

    /** Launches so far per kernel the emulator holds (every kernel of gpuact.manifest). */
    static Map<String, Long> launchCounts() {
        String[] names = kernels();
        long[] counts = launchCounts0();
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) {
            m.put(names[i], counts[i]);
        }
        return m;
    }

    static native long alloc(long bytes);

    static native void free(long address);

    static native long allocHost(long bytes);

    static native void freeHost(long address);

    static native ByteBuffer view(long address, long bytes);

    static native long hostAddress(Pointer pointer);

    static native void copy(long dst, boolean dstDevice, long src, boolean srcDevice, long bytes);

    static native void memsetD32(long dst, int value, long count);

    static native long[] addressRange(long address);

    static native long[] memInfo();

    static native void setMaxDynamicShared(String kernel, int bytes);

    static native void launch(String kernel, int grid, int block, int shared, byte[] args, int[] types);

    static native String[] kernels();

    private static native long[] launchCounts0();

    static native String[] schedules();
}
