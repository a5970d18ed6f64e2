package dev.gpuact.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code --out} does with what it names: regular files are replaced whole, keeping their mode; links, devices
 * and pipes are written through, never replaced; a full disk or a signal leaves no partial file behind.
 */
class OutputTargetsTest {
    @TempDir
    Path dir;

    private Path mounted;

    @AfterEach
    void unmount() throws Exception {
        if (mounted != null) {
            new ProcessBuilder("umount", mounted.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    private Path input(int n) throws IOException {
        Path x = dir.resolve("x.npy");
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = i % 7 - 3;
        }
        Npy.write(x, Shape.of(n), values);
        return x;
    }

    private static Cli.Result relu(Path in, Path out) {
        return Cli.run("apply", "--op", "relu", "--backend", "cpu", "--in", in.toString(), "--out", out.toString());
    }

    @Test
    void aSymbolicLinkStaysALinkAndItsTargetGetsTheOutput() throws IOException {
        Path x = input(8);
        Path target = Files.writeString(dir.resolve("target.npy"), "old");
        Path link = Files.createSymbolicLink(dir.resolve("link.npy"), Path.of("target.npy"));
        relu(x, link).succeeded();
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(Npy.readAll(target)).containsExactly(0, 0, 0, 0, 1, 2, 3, 0);
        assertThat(Cli.files(dir)).containsExactly("link.npy", "target.npy", "x.npy");
    }

    @Test
    void anExistingFileKeepsItsMode() throws IOException {
        Path x = input(8);
        Path y = Files.writeString(dir.resolve("y.npy"), "old");
        Files.setPosixFilePermissions(y, PosixFilePermissions.fromString("rw-------"));
        relu(x, y).succeeded();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(y))).isEqualTo("rw-------");
        assertThat(Npy.readAll(y)).hasSize(8);
    }

    @Test
    void aHardLinkedFileIsWrittenInPlaceSoEveryNameSeesIt() throws IOException {
        Path x = input(8);
        Path y = Files.writeString(dir.resolve("y.npy"), "old");
        Path other = Files.createLink(dir.resolve("other.npy"), y);
        relu(x, y).succeeded();
        assertThat(Npy.readAll(other)).containsExactly(0, 0, 0, 0, 1, 2, 3, 0);
    }

    @Test
    void aLegalNameOf250BytesWorks() throws IOException {
        Path x = input(8);
        String name = "é".repeat(60) + "y".repeat(126) + ".npy"; // 120 + 126 + 4 = 250 bytes in UTF-8
        assertThat(name.getBytes(StandardCharsets.UTF_8)).hasSize(250);
        relu(x, dir.resolve(name)).succeeded();
        assertThat(Npy.readAll(dir.resolve(name))).hasSize(8);
        assertThat(Cli.files(dir)).containsExactlyInAnyOrder(name, "x.npy");
    }

    @Test
    void aNamedPipeIsWrittenNotReplaced() throws Exception {
        Path x = input(8);
        Path fifo = dir.resolve("pipe.npy");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        CompletableFuture<byte[]> reader = CompletableFuture.supplyAsync(() -> {
            try (InputStream in = Files.newInputStream(fifo)) {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        relu(x, fifo).succeeded();
        byte[] bytes = reader.get(30, TimeUnit.SECONDS);
        Path copy = Files.write(dir.resolve("copy.npy"), bytes);
        assertThat(Npy.readAll(copy)).containsExactly(0, 0, 0, 0, 1, 2, 3, 0);
        assertThat(Files.readAttributes(fifo, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther()).isTrue();
    }

    @Test
    void aDeviceIsWrittenInPlaceAndStaysADevice() throws IOException {
        Path x = input(8);
        Path devNull = Path.of("/dev/null");
        relu(x, devNull).succeeded();
        plot(devNull.resolveSibling("null")).succeeded(); // /dev/null does not end in .png: see below
        assertThat(Files.readAttributes(devNull, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther()).isTrue();
        // /dev/full fails every write: one line, exit 2, and the device is still there.
        relu(x, Path.of("/dev/full")).rejected("--out /dev/full", "No space left on device");
        assertThat(Files.readAttributes(Path.of("/dev/full"), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                .isOther()).isTrue();
        assertThat(Cli.files(Path.of("/dev")).stream().filter(f -> f.endsWith(".partial"))).isEmpty();
    }

    @Test
    void devStdoutGetsTheArrayWhateverItIs() throws Exception {
        Path x = input(8);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Main.class.getName(), "apply",
                "--op", "relu", "--backend", "cpu", "--in", x.toString(), "--out", "/dev/stdout").start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(err).isZero();
        assertThat(Npy.readAll(Files.write(dir.resolve("copy.npy"), out))).containsExactly(0, 0, 0, 0, 1, 2, 3, 0);
    }

    /** plot insists on a .png name, so it reaches /dev/null through a link that has one. */
    private Cli.Result plot(Path device) throws IOException {
        Path link = Files.createSymbolicLink(dir.resolve("plot.png"), device);
        Cli.Result r = Cli.run("plot", "--op", "relu", "--backend", "cpu", "--points", "50", "--out", link.toString());
        Files.delete(link);
        return r;
    }

    @Test
    void gradRejectsOneFileForBothOutputsHoweverItIsSpelled() throws IOException {
        Path x = input(4);
        Path w = dir.resolve("w.npy");
        Npy.write(w, Shape.of(1), new float[] {0.25f});
        Path f = Files.writeString(dir.resolve("f.npy"), "old");
        Path soft = Files.createSymbolicLink(dir.resolve("soft.npy"), f);
        Path hard = Files.createLink(dir.resolve("hard.npy"), f);
        for (Path second : List.of(f, soft, hard, dir.resolve(".").resolve("f.npy"))) {
            Cli.run("grad", "--op", "prelu", "--backend", "cpu", "--in", x.toString(), "--grad", x.toString(),
                    "--weight", w.toString(), "--channel-axis", "0", "--out", f.toString(),
                    "--out-weight-grad", second.toString()).rejected("are the same file");
        }
        Path fresh = dir.resolve("new.npy");
        Cli.run("grad", "--op", "prelu", "--backend", "cpu", "--in", x.toString(), "--grad", x.toString(),
                "--weight", w.toString(), "--channel-axis", "0", "--out", fresh.toString(),
                "--out-weight-grad", dir.resolve(".").resolve("new.npy").toString()).rejected("are the same file");
        assertThat(Files.readString(f)).isEqualTo("old");
    }

    @Test
    void plotIntoAMissingFolderIsOneLine() {
        Cli.run("plot", "--op", "relu", "--backend", "cpu", "--out", dir.resolve("missing/p.png").toString())
                .rejected("--out", "does not exist");
        assertThat(Cli.files(dir)).isEmpty();
    }

    @Test
    void plotOfPreluOrOfARangeBeyondFloat32IsOneLine() {
        String out = dir.resolve("p.png").toString();
        Cli.run("plot", "--op", "prelu", "--backend", "cpu", "--out", out).rejected("prelu is not elementwise");
        Cli.run("plot", "--op", "relu", "--from", "-1e300", "--to", "1e300", "--backend", "cpu", "--out", out)
                .rejected("--from must be below --to", "float32");
        assertThat(Cli.files(dir)).isEmpty();
    }

    @Test
    void benchIntoAFileSaysWhatIsWrongBeforeMeasuring() throws IOException {
        Path file = Files.writeString(dir.resolve("report"), "a file");
        Cli.run("bench", "--backend", "cpu", "--ops", "relu", "--sizes", "1K", "--out", file.toString())
                .rejected("--out " + file + ": exists and is not a folder");
    }

    /** A 1 MiB tmpfs: writes that do not fit fail as on a full disk. Needs root to mount. */
    private Path smallDisk() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "mounting a small tmpfs needs root");
        Path mount = Files.createDirectory(dir.resolve("small"));
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount.toString())
                .redirectErrorStream(true).start();
        assumeTrue(p.waitFor() == 0, () -> "mount failed: " + output(p));
        mounted = mount;
        return mount;
    }

    private static String output(Process p) {
        try {
            return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    void aFullDiskLeavesNoPartialOutputOfApplyPlotOrBench() throws Exception {
        Path disk = smallDisk();
        Path x = input(1 << 19); // 2 MiB of floats: more than the disk holds
        relu(x, disk.resolve("y.npy")).rejected("--out", "No space left on device");
        assertThat(Cli.files(disk)).isEmpty();

        Files.write(disk.resolve("filler"), new byte[(1 << 20) - 8192]);
        Cli.run("plot", "--op", "relu,gelu,tanh", "--backend", "cpu", "--out", disk.resolve("p.png").toString())
                .rejected("--out", "No space left on device");
        Cli.Result bench = Cli.run("bench", "--backend", "cpu", "--ops", "relu", "--sizes", "1K", "--warmup", "0",
                "--min-runs", "1", "--max-runs", "1", "--streams", "1", "--out", disk.resolve("report").toString());
        assertThat(bench.exitCode()).as(bench.err()).isEqualTo(2);
        assertThat(bench.err()).contains("cannot write the report", "No space left on device");
        assertThat(Cli.files(disk)).containsExactly("filler");
    }

    @Test
    void sigtermOrSigintDuringAWriteDeletesThePartialFile() throws Exception {
        for (String signal : List.of("TERM", "INT")) {
            Path target = dir.resolve("out-" + signal + ".npy");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    StagedWriteThatHangs.class.getName(), target.toString()).redirectErrorStream(true).start();
            try {
                BufferedReader lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                assertThat(lines.readLine()).isEqualTo(StagedWriteThatHangs.WRITING);
                assertThat(Cli.files(dir)).anyMatch(f -> f.endsWith(".partial"));
                assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor()).isZero();
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("exited after SIG" + signal).isTrue();
                assertThat(Cli.files(dir)).as("after SIG" + signal).isEmpty();
            } finally {
                p.destroyForcibly();
            }
        }
    }

    /** A process that stages an output, says so, and then never finishes writing it. */
    static final class StagedWriteThatHangs {
        static final String WRITING = "writing";

        public static void main(String[] args) throws Exception {
            try (StagedOutputs outputs = new StagedOutputs()) {
                outputs.write("--out", Path.of(args[0]), file -> {
                    Files.write(file, new byte[4096]);
                    System.out.println(WRITING);
                    System.out.flush();
                    try {
                        Thread.sleep(Long.MAX_VALUE);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
        }
    }
}
