package dev.gpuact.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.cli.Main;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** gpuact bench and gpuact plot, run in-process as main runs them. */
class BenchCommandTest {
    private record Result(int exitCode, String out, String err) {
    }

    private static Result run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new Result(cl.execute(args), out.toString(), err.toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--ops|nope|--ops: ",
            "--ops|relu:64|a row width is only for row-wise ops",
            "--ops|softmax:wide|row width must be a whole number, got 'wide'",
            "--ops|softmax:0|row width must be >= 1, got 0",
            "--sizes|0|--sizes: '0' must be at least 1",
            "--sizes|12Q|--sizes: '12Q' is not a count",
            "--sizes|4K,,8K|--sizes: '' is not a count",
            "--backend|nope|--backend: unknown backend 'nope'",
            "--fused-sizes|4K|--fused-sizes: 4K is not a multiple of 1M",
            "--fused-sizes|2G|--fused-sizes: 2G is not a multiple of 1M (whole [1024, 1024] blocks) up to 1023M",
            "--fused-sizes|1M,x|--fused-sizes: 'x' is not a count"})
    void badValuesExitTwoWithOneLine(String option, String value, String message, @TempDir Path dir) {
        Result r = run("bench", option, value, "--out", dir.resolve("out").toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines().toList()).hasSize(1);
        assertThat(r.err()).startsWith("gpuact bench: error: ").contains(message).doesNotContain("Exception");
        assertThat(dir.resolve("out")).doesNotExist();
    }

    @Test
    void aTinyRunWritesEveryReportFile(@TempDir Path dir) throws IOException {
        Result r = run("bench", "--backend", "cpu", "--ops", "relu", "--sizes", "1K,4K", "--warmup", "1",
                "--min-runs", "1", "--max-runs", "3", "--out", dir.toString());
        assertThat(r.err()).isEmpty();
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).containsPattern("(?m)^cpu +relu +1K +[\\d.]+ +[\\d.]+ +\\d+% ")
                .containsPattern("(?m)^cpu +relu +4K ").contains("Limits", "java array copy", "Overlap", "Report in ");
        List<String> expected = List.of("table.txt", "measurements.csv", "crossover.csv", "overlap.csv", "report.json",
                "machine.txt", "cost-model.tsv", "time-relu.png", "fraction-of-limit-cpu.png");
        for (String f : expected) {
            assertThat(dir.resolve(f)).as(f).isNotEmptyFile();
        }
        List<String> csv = Files.readAllLines(dir.resolve("measurements.csv"));
        assertThat(csv.get(0)).startsWith("backend,workload,phase,elements,median_ns");
        for (String phase : List.of("upload", "upload pinned", "download", "download pinned", "device copy", "kernel",
                "resident", "end to end")) {
            assertThat(csv).as(phase).anyMatch(l -> l.startsWith("cpu,") && l.contains("," + phase + ",4096,"));
        }
        assertThat(csv).anyMatch(l -> l.startsWith("java,,java array copy,1024,"));
        String json = Files.readString(dir.resolve("report.json"));
        assertThat(json).contains("\"machine\": {", "\"cores\": ", "\"cpu\": ", "\"phase\": \"end to end\"",
                "\"overlaps\": [");
        assertThat(Files.readString(dir.resolve("machine.txt"))).contains("backend cpu: Java ", "jvm: ", "os: ");
        BufferedImage png = ImageIO.read(dir.resolve("time-relu.png").toFile());
        assertThat(png.getWidth()).isEqualTo(1000);
        assertThat(Files.readString(dir.resolve("table.txt"))).isEqualTo(r.out().substring(0,
                r.out().indexOf("\nReport in ")));
    }

    /** Named sizes measure no fused ops unless asked; asked, each fused op gets a row, a verdict and its CSV line. */
    @Test
    void fusedOpsGetTheirOwnTableWithVerdicts(@TempDir Path dir) throws IOException {
        Result plain = run("bench", "--backend", "cpu", "--ops", "relu", "--sizes", "1K", "--warmup", "0",
                "--min-runs", "1", "--max-runs", "1", "--out", dir.resolve("plain").toString());
        assertThat(plain.exitCode()).as(plain.err()).isZero();
        assertThat(plain.out()).doesNotContain("Fused versus unfused");
        assertThat(dir.resolve("plain").resolve("fused.csv")).doesNotExist();

        Result r = run("bench", "--backend", "cpu", "--ops", "relu", "--sizes", "1K", "--fused-sizes", "1M",
                "--warmup", "0", "--min-runs", "2", "--max-runs", "2", "--out", dir.resolve("fused").toString());
        assertThat(r.err()).isEmpty();
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("Fused versus unfused", "bias+gelu: gelu(x + b)", "unfused: silu(a), then");
        for (String op : List.of("bias\\+gelu", "bias\\+gelu bwd", "swiglu", "masked softmax")) {
            assertThat(r.out()).containsPattern("(?m)^cpu +" + op + " +1M( +[\\d.]+){4} +[\\d.]+x +[\\d.]+x  stated \\(CPU\\)$");
        }
        assertThat(r.out()).containsPattern("(?m)^cpu +causal softmax +1M .*x  (meets <= 0.6x softmax|misses: [\\d.]+x "
                + "softmax, target 0.6x)$");
        List<String> csv = Files.readAllLines(dir.resolve("fused").resolve("fused.csv"));
        assertThat(csv.get(0)).startsWith("backend,fused_op,elements,on_cpu,copy_ns,plain_ns,fused_ns,unfused_ns");
        assertThat(csv).hasSize(1 + Fusion.Case.values().length).allMatch(l -> l.equals(csv.get(0))
                || l.startsWith("cpu,") && l.contains(",1048576,true,"));
        assertThat(Files.readString(dir.resolve("fused").resolve("report.json")))
                .contains("\"fused\": [", "\"fused_op\": \"causal softmax\"");
    }

    @Test
    void plotWritesAPngOfCurvesAndDerivatives(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("curves.png");
        Result r = run("plot", "--op", "relu,gelu", "--op", "silu", "--backend", "cpu", "--from", "-3", "--to", "3",
                "--out", png.toString());
        assertThat(r.err()).isEmpty();
        assertThat(r.exitCode()).isZero();
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(1400);
        assertThat(image.getHeight()).isEqualTo(520);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "softmax|-6|6|x.png|softmax is not elementwise",
            "relu|3|-3|x.png|--from must be below --to",
            "relu|-3|3|x.txt|--out must name a .png file"})
    void plotRejectsBadInput(String op, String from, String to, String file, String message, @TempDir Path dir) {
        Result r = run("plot", "--op", op, "--from", from, "--to", to, "--out", dir.resolve(file).toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().lines().toList()).hasSize(1);
        assertThat(r.err()).contains(message);
        assertThat(dir.resolve(file)).doesNotExist();
    }
}
