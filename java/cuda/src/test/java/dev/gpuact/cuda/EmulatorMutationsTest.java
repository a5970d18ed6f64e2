package dev.gpuact.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The emulator is tested by the bugs it must catch: each line of kernels-cuda/emulator/mutations.txt patches a
 * copy of the kernel sources (a removed barrier, an off-by-one bound, a shuffle that leaves out a lane, a wrong
 * merge), builds it, and runs {@link EmulatedKernelsProbe} in a JVM of its own, which must fail. The unpatched
 * sources must pass the same probe (kernels-cuda/emulator/sanitize.sh runs it under AddressSanitizer and
 * UndefinedBehaviorSanitizer).
 */
class EmulatorMutationsTest {
    /** kernels-cuda, where build.sh, the sources and mutations.txt are. */
    static final String SOURCES = "gpuact.cuda.sources";
    private static final ExecutorService BUILDS = Executors.newFixedThreadPool(2);

    record Mutation(String name, String file, String text, String replacement) {
        static Mutation parse(String line) {
            String[] f = line.split(" \\| ", -1);
            if (f.length != 4) {
                throw new IllegalArgumentException("mutations.txt: want 'name | file | text | replacement': " + line);
            }
            return new Mutation(f[0].trim(), f[1].trim(), f[2].replace("\\n", "\n"), f[3].replace("\\n", "\n"));
        }
    }

    @AfterAll
    static void stopBuilds() {
        BUILDS.shutdownNow();
    }

    @TestFactory
    Stream<DynamicTest> everyInjectedBugIsCaught() throws IOException {
        EmulatorLibrary.requireOrSkip();
        Path kernels = Path.of(System.getProperty(SOURCES, "")).toAbsolutePath().normalize();
        Path work = kernels.resolve("target/emulator/mutants");
        List<DynamicTest> tests = new ArrayList<>();
        Path release = Path.of(System.getProperty(EmulatorLibrary.PROPERTY, ""));
        tests.add(DynamicTest.dynamicTest("the unpatched kernels pass the probe", () ->
                assertThat(probe(release)).startsWith("agrees")));
        for (String line : Files.readAllLines(kernels.resolve("emulator/mutations.txt"))) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Mutation m = Mutation.parse(line);
            Path dir = work.resolve(m.name().replaceAll("[^A-Za-z0-9]+", "-"));
            CompletableFuture<Path> lib = CompletableFuture.supplyAsync(() -> patch(kernels, m, dir.resolve("src")), BUILDS)
                    .thenCompose(src -> build(kernels, "mutant", src, dir));
            tests.add(DynamicTest.dynamicTest("mutation caught: " + m.name(), () ->
                    assertThat(probe(lib.join())).as("the probe on the mutant").startsWith("caught: ")));
        }
        return tests.stream();
    }

    /** A copy of the kernel sources with the mutation applied. */
    private static Path patch(Path kernels, Mutation m, Path dir) {
        try {
            Path original = kernels.resolve("src/main/cuda");
            Files.createDirectories(dir);
            try (Stream<Path> files = Files.list(original)) {
                for (Path f : files.toList()) {
                    Files.copy(f, dir.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Path target = dir.resolve(m.file());
            String text = Files.readString(target);
            int at = text.indexOf(m.text());
            if (at < 0 || text.indexOf(m.text(), at + 1) >= 0) {
                throw new IllegalStateException("mutation '" + m.name() + "' does not apply: its text must occur exactly "
                        + "once in " + m.file() + " (update kernels-cuda/emulator/mutations.txt)");
            }
            Files.writeString(target, text.substring(0, at) + m.replacement() + text.substring(at + m.text().length()));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static CompletableFuture<Path> build(Path kernels, String kind, Path src, Path out) {
        return CompletableFuture.supplyAsync(() -> {
            String output = run(List.of(kernels.resolve("emulator/build.sh").toString(), kind, src.toString(), out.toString()),
                    600);
            return out.resolve("libgpuact_emu.so");
        }, BUILDS);
    }

    /** The probe's last line, from a JVM of its own over {@code library}. */
    private static String probe(Path library) {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-D" + EmulatorLibrary.PROPERTY + "=" + library,
                EmulatedKernelsProbe.class.getName());
        String output = run(command, 300).strip();
        return output.substring(output.lastIndexOf('\n') + 1);
    }

    /** Runs a command; its output, whatever its exit status (the callers judge the output). */
    private static String run(List<String> command, int timeoutSeconds) {
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            Process p = pb.start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "timed out after " + timeoutSeconds + " s: " + command;
            }
            String text = new String(out, StandardCharsets.UTF_8);
            if (command.get(0).endsWith("build.sh") && p.exitValue() != 0) {
                throw new IllegalStateException("build failed: " + text);
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
