package dev.gpuact;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Opens a backend in a JVM of its own and says which shared libraries that mapped into the process: the check that
 * opening a backend loads no native code it does not need. Its main prints {@code backend: NAME} and then
 * {@code native: PATH} for each library /proc/self/maps lists that was not mapped when main began and is not the
 * JDK's own.
 */
public final class OpenAndListNativeLibraries {
    private OpenAndListNativeLibraries() {
    }

    /** What a run printed. */
    public record Run(int exitCode, List<String> lines, String stderr) {
        public List<String> nativeLibraries() {
            return lines.stream().filter(l -> l.startsWith("native: ")).map(l -> l.substring(8)).toList();
        }
    }

    public static void main(String[] args) throws IOException {
        Set<String> before = mappedLibraries();
        String jdk = Path.of(System.getProperty("java.home")).toRealPath() + "/";
        try (Backend backend = Backends.get(args[0]); DeviceBuffer x = backend.upload(new float[] {-1, 2})) {
            backend.apply(Activation.RELU, x, x);
            System.out.println("backend: " + backend.name());
        }
        mappedLibraries().stream().filter(lib -> !before.contains(lib) && !lib.startsWith(jdk)).forEach(lib -> System.out.println("native: " + lib));
    }

    /**
     * Runs {@link #main} on {@code backend} in a new JVM with this JVM's class path, {@code extraClassPath} first.
     */
    public static Run inNewJvm(String backend, Path... extraClassPath) throws IOException, InterruptedException {
        List<String> classPath = new ArrayList<>();
        for (Path p : extraClassPath) {
            classPath.add(p.toString());
        }
        classPath.add(System.getProperty("java.class.path"));
        Path stderr = Files.createTempFile("gpuact-child", ".err");
        try {
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", String.join(java.io.File.pathSeparator, classPath), OpenAndListNativeLibraries.class.getName(),
                    backend).redirectError(stderr.toFile()).start();
            List<String> lines = new String(child.getInputStream().readAllBytes()).lines().toList();
            if (!child.waitFor(2, TimeUnit.MINUTES)) {
                child.destroyForcibly();
                throw new AssertionError("the child JVM did not end within 2 minutes");
            }
            return new Run(child.exitValue(), lines, Files.readString(stderr));
        } finally {
            Files.deleteIfExists(stderr);
        }
    }

    /** The shared libraries mapped into this process. */
    private static Set<String> mappedLibraries() {
        Set<String> libraries = new LinkedHashSet<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int path = line.indexOf('/');
                if (path >= 0 && line.substring(path).matches(".*\\.so(\\.[0-9.]+)?( \\(deleted\\))?")) {
                    libraries.add(line.substring(path));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self/maps (Linux only)", e);
        }
        return libraries;
    }
}
