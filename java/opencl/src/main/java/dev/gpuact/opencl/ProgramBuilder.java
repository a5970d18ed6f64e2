package dev.gpuact.opencl;

import static org.jocl.CL.CL_PROGRAM_BINARIES;
import static org.jocl.CL.CL_PROGRAM_BINARY_SIZES;
import static org.jocl.CL.CL_PROGRAM_BUILD_LOG;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_program;

/**
 * Builds an OpenCL program for one device, through an on-disk cache of program binaries.
 *
 * <p>An entry is keyed by the device name, driver version, platform version, source text and build options, so
 * a driver update or a kernel change misses instead of loading a stale binary. Entries are written to a temporary
 * file and moved into place, so a concurrent reader never sees half a file; each carries a SHA-256 of its payload,
 * so a truncated or corrupt entry is noticed before it reaches the driver, and then the program is built from
 * source and the entry rewritten. A cache that cannot be read or written costs only the build time.
 */
final class ProgramBuilder {
    /** System property: the cache directory (default {@code ~/.cache/gpuact}). */
    static final String CACHE_DIR_PROPERTY = "gpuact.cache.dir";
    private static final byte[] MAGIC = "gpuact-ocl-bin-1\n".getBytes(StandardCharsets.US_ASCII);
    private static final System.Logger LOG = System.getLogger("dev.gpuact.opencl");

    /** A built program; {@code fromCache} says whether its binary came from the cache. */
    record Built(cl_program program, boolean fromCache, long nanos) {
    }

    private final Path cacheDir;

    ProgramBuilder(Path cacheDir) {
        this.cacheDir = cacheDir;
    }

    static Path defaultCacheDir() {
        String dir = System.getProperty(CACHE_DIR_PROPERTY);
        return dir != null && !dir.isBlank() ? Path.of(dir)
                : Path.of(System.getProperty("user.home"), ".cache", "gpuact");
    }

    Path cacheDir() {
        return cacheDir;
    }

    /**
     * The program for {@code source}, from the cache when a valid entry exists.
     *
     * @throws ProgramBuildException with the compiler's log when the source does not build
     */
    Built build(cl_context context, OpenClDevice device, String source, String options) {
        long start = System.nanoTime();
        Path entry = cacheDir.resolve("opencl-" + key(device, source, options) + ".bin");
        cl_program cached = fromCache(context, device, entry, options);
        if (cached != null) {
            return new Built(cached, true, System.nanoTime() - start);
        }
        cl_program program = CL.clCreateProgramWithSource(context, 1, new String[] {source}, null, null);
        buildOrThrow(program, device, options);
        store(entry, binaryOf(program));
        return new Built(program, false, System.nanoTime() - start);
    }

    private static void buildOrThrow(cl_program program, OpenClDevice device, String options) {
        try {
            CL.clBuildProgram(program, 1, new cl_device_id[] {device.id()}, options, null, null);
        } catch (CLException e) {
            String log = buildLog(program, device.id());
            CL.clReleaseProgram(program);
            throw new ProgramBuildException(device.shortName(), options, log, e);
        }
    }

    private cl_program fromCache(cl_context context, OpenClDevice device, Path entry, String options) {
        byte[] binary = readEntry(entry);
        if (binary == null) {
            return null;
        }
        cl_program program = null;
        try {
            int[] status = new int[1];
            program = CL.clCreateProgramWithBinary(context, 1, new cl_device_id[] {device.id()},
                    new long[] {binary.length}, new byte[][] {binary}, status, null);
            CL.clBuildProgram(program, 1, new cl_device_id[] {device.id()}, options, null, null);
            return program;
        } catch (CLException e) {
            LOG.log(System.Logger.Level.INFO, "gpuact: cached OpenCL binary " + entry + " rejected (" + e.getMessage()
                    + "); building from source");
            if (program != null) {
                CL.clReleaseProgram(program);
            }
            return null;
        }
    }

    /** The payload of a valid entry, or null when it is missing, unreadable or corrupt. */
    private static byte[] readEntry(Path entry) {
        byte[] file;
        try {
            file = Files.readAllBytes(entry);
        } catch (IOException e) {
            return null;
        }
        int header = MAGIC.length + 32;
        if (file.length <= header || !Arrays.equals(file, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            return null;
        }
        byte[] payload = Arrays.copyOfRange(file, header, file.length);
        if (!Arrays.equals(sha256(payload), 0, 32, file, MAGIC.length, header)) {
            return null;
        }
        return payload;
    }

    private void store(Path entry, byte[] binary) {
        if (binary.length == 0) {
            return;
        }
        try {
            Files.createDirectories(cacheDir);
            Path tmp = Files.createTempFile(cacheDir, entry.getFileName().toString(), ".tmp");
            try {
                byte[] file = new byte[MAGIC.length + 32 + binary.length];
                System.arraycopy(MAGIC, 0, file, 0, MAGIC.length);
                System.arraycopy(sha256(binary), 0, file, MAGIC.length, 32);
                System.arraycopy(binary, 0, file, MAGIC.length + 32, binary.length);
                Files.write(tmp, file);
                try {
                    Files.move(tmp, entry, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, entry, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.INFO, "gpuact: cannot write the OpenCL binary cache " + entry + ": " + e);
        }
    }

    private static byte[] binaryOf(cl_program program) {
        long[] sizes = new long[1];
        CL.clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(sizes), null);
        byte[] binary = new byte[(int) sizes[0]];
        if (binary.length > 0) {
            CL.clGetProgramInfo(program, CL_PROGRAM_BINARIES, Sizeof.POINTER, Pointer.to(Pointer.to(binary)), null);
        }
        return binary;
    }

    static String buildLog(cl_program program, cl_device_id device) {
        long[] size = new long[1];
        CL.clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, null, size);
        byte[] log = new byte[(int) size[0]];
        CL.clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, log.length, Pointer.to(log), null);
        int end = log.length;
        while (end > 0 && log[end - 1] == 0) {
            end--;
        }
        return new String(log, 0, end, StandardCharsets.UTF_8).strip();
    }

    static String key(OpenClDevice device, String source, String options) {
        String identity = String.join("\u0000", device.name(), device.driver(), device.platformVersion(),
                options, HexFormat.of().formatHex(sha256(source.getBytes(StandardCharsets.UTF_8))));
        return HexFormat.of().formatHex(sha256(identity.getBytes(StandardCharsets.UTF_8)), 0, 20);
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java runtime", e);
        }
    }
}
