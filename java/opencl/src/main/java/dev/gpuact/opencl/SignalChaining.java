package dev.gpuact.opencl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * OpenCL platforms built on LLVM (PoCL, Mesa's Clover and rusticl) install LLVM's crash handlers for SIGSEGV, SIGBUS,
 * SIGILL, SIGUSR2 and more as soon as their devices are listed, replacing the JVM's own. HotSpot uses SIGSEGV for
 * safepoint polls and implicit null checks, so from then on the JVM dies at random (seen here: 4 crashes in 6 runs
 * of a 16M-element benchmark on PoCL 3.1 / LLVM 15, none with chaining). The JVM's remedy is signal chaining:
 * with {@code libjsig} preloaded, the JVM keeps its handlers and calls the library's for signals that are not its
 * own. Without it, such platforms are not touched at all.
 */
final class SignalChaining {
    private static final List<String> LLVM_PLATFORMS = List.of("portable computing language", "clover", "rusticl");
    private static final boolean ACTIVE = detect();

    private SignalChaining() {
    }

    /** Whether this platform is known to replace the JVM's signal handlers when its devices are listed. */
    static boolean replacesJvmHandlers(String platformName) {
        String name = platformName.toLowerCase(Locale.ROOT);
        return LLVM_PLATFORMS.stream().anyMatch(name::contains);
    }

    /** Whether libjsig is loaded in this process (always true off Linux, where this cannot be read and was not seen). */
    static boolean active() {
        return ACTIVE;
    }

    /** What to do about it, in words. */
    static String advice() {
        return "start the JVM with LD_PRELOAD=" + Path.of(System.getProperty("java.home"), "lib", "libjsig.so")
                + " (signal chaining; the gpuact launchers and the test build do this)";
    }

    private static boolean detect() {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return true;
        }
        try (var lines = Files.lines(maps)) {
            return lines.anyMatch(line -> line.endsWith("/libjsig.so"));
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }
}
