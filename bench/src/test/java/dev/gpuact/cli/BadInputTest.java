package dev.gpuact.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every kind of bad input: exit code 2, one line on stderr that names the problem, and no output file. */
class BadInputTest {
    @TempDir
    Path dir;
    private Path x23;
    private Path dy23;
    private Path w3;
    private Path y;
    private List<String> before;

    @BeforeEach
    void inputs() throws IOException {
        x23 = save("x.npy", Shape.of(2, 3), new float[] {-2, -1, 0, 1, 2, 3});
        dy23 = save("dy.npy", Shape.of(2, 3), new float[] {1, 1, 1, 1, 1, 1});
        w3 = save("w.npy", Shape.of(3), new float[] {0.1f, 0.2f, 0.3f});
        y = dir.resolve("y.npy");
        before = Cli.files(dir);
    }

    @AfterEach
    void noOutputLeftBehind() {
        assertThat(Cli.files(dir)).as("files after a rejected command").isEqualTo(before);
    }

    @Test
    void missingAndUnreadableInputs() throws IOException {
        apply("relu", dir.resolve("missing.npy")).rejected("gpuact apply: error: --in " + dir.resolve("missing.npy") + ": no such file");
        apply("relu", dir).rejected("--in " + dir + ": is a directory, not a .npy file");
        Path text = Files.writeString(dir.resolve("data.csv"), "1,2,3\n");
        before = Cli.files(dir);
        apply("relu", text).rejected("--in " + text + ": not a .npy file");
    }

    @Test
    void unreadableInput() throws Exception {
        Path locked = save("locked.npy", Shape.of(1), new float[] {1});
        before = Cli.files(dir);
        assertThat(locked.toFile().setReadable(false)).isTrue();
        String message = "--in " + locked + ": permission denied";
        if (!Files.isReadable(locked)) {
            apply("relu", locked).rejected(message);
            return;
        }
        // root reads any file through two capabilities: the command runs as root without them (util-linux setpriv)
        String[] withoutThem = {"/usr/bin/setpriv", "--bounding-set=-dac_override,-dac_read_search"};
        assumeTrue(Files.isExecutable(Path.of(withoutThem[0])), "root without setpriv cannot be denied a read");
        assumeTrue(new ProcessBuilder(withoutThem[0], withoutThem[1], "true").start().waitFor() == 0,
                "setpriv cannot drop capabilities here");
        assumeTrue(new ProcessBuilder(withoutThem[0], withoutThem[1], "cat", locked.toString()).start().waitFor() != 0,
                "root without the two capabilities still reads the file here");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(withoutThem[0], withoutThem[1], java, "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "apply", "--op", "relu", "--backend", "cpu", "--in", locked.toString(), "--out",
                y.toString()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        new Cli.Result(p.exitValue(), out, err).rejected(message);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "f8.npy             | dtype '<f8' (float64) is not supported",
        "i4.npy             | dtype '<i4' (int32) is not supported",
        "f4_fortran_2x3.npy | Fortran-order arrays are not supported"})
    void wrongDtypeOrLayout(String fixture, String message) {
        Path file = NpyTest.fixture(fixture);
        apply("relu", file).rejected("--in " + file + ": " + message);
    }

    @Test
    void truncatedInput() throws IOException {
        byte[] bytes = Files.readAllBytes(x23);
        Path cut = Files.write(dir.resolve("cut.npy"), Arrays.copyOf(bytes, bytes.length - 3));
        before = Cli.files(dir);
        apply("relu", cut).rejected("--in " + cut + ": truncated: shape (2, 3) needs 24 bytes");
    }

    @Test
    void shapeMismatches() throws IOException {
        Path dy32 = save("dy32.npy", Shape.of(3, 2), new float[6]);
        before = Cli.files(dir);
        run("grad", "--op", "gelu", "--in", x23, "--grad", dy32, "--out", y)
                .rejected("--grad " + dy32 + " has shape (3, 2) but gelu of --in's shape (2, 3) gives shape (2, 3)");
        run("grad", "--op", "maxout", "--param", "pieces=3", "--in", x23, "--grad", dy23, "--out", y)
                .rejected("has shape (2, 3) but maxout of --in's shape (2, 3) gives shape (2, 1)");
        run("apply", "--op", "maxout", "--param", "pieces=2", "--in", x23, "--out", y)
                .rejected("maxout: pieces (2) must divide the last axis of --in " + x23 + ", which has shape (2, 3)");
        Path scalar = save("s.npy", Shape.of(), new float[] {1});
        before = Cli.files(dir);
        run("apply", "--op", "softmax", "--in", scalar, "--out", y).rejected("softmax works along the last axis", "0-d scalar");
        run("apply", "--op", "swiglu", "--in", scalar, "--out", y).rejected("swiglu works along the last axis", "0-d scalar");
        run("apply", "--op", "swiglu", "--in", x23, "--out", y)
                .rejected("swiglu: the last axis of --in " + x23 + " (shape (2, 3)) must be even");
        Path x24 = save("x24.npy", Shape.of(2, 4), new float[8]);
        before = Cli.files(dir);
        run("grad", "--op", "glu", "--in", x24, "--grad", x24, "--out", y)
                .rejected("--grad " + x24 + " has shape (2, 4) but glu of --in's shape (2, 4) gives shape (2, 2)");
    }

    @Test
    void preluWeightProblems() throws IOException {
        Path w4 = save("w4.npy", Shape.of(4), new float[4]);
        Path w2d = save("w2d.npy", Shape.of(1, 3), new float[3]);
        Path x1d = save("x1d.npy", Shape.of(3), new float[3]);
        before = Cli.files(dir);
        run("apply", "--op", "prelu", "--in", x23, "--out", y).rejected("prelu needs --weight W.npy");
        run("apply", "--op", "prelu", "--in", x23, "--weight", w4, "--out", y)
                .rejected("--weight " + w4 + " has 4 channels but axis 1 of --in " + x23 + " (shape (2, 3)) has 3");
        run("apply", "--op", "prelu", "--in", x23, "--weight", w2d, "--out", y)
                .rejected("--weight " + w2d + " must be 1-D with at least one slope, but has shape (1, 3)");
        run("apply", "--op", "prelu", "--in", x1d, "--weight", w3, "--out", y)
                .rejected("--channel-axis 1 is out of range for --in " + x1d + " of shape (3,); use --channel-axis 0");
        run("apply", "--op", "prelu", "--in", x23, "--weight", w3, "--channel-axis", "-3", "--out", y)
                .rejected("--channel-axis -3 is out of range");
        run("grad", "--op", "prelu", "--in", x23, "--weight", w4, "--grad", dy23, "--out", y)
                .rejected("has 4 channels");
        run("apply", "--op", "relu", "--in", x23, "--weight", w3, "--out", y).rejected("--weight is only for prelu, not relu");
        run("apply", "--op", "relu", "--in", x23, "--channel-axis", "0", "--out", y)
                .rejected("--channel-axis is only for prelu and --bias, not relu without --bias");
        run("grad", "--op", "relu", "--in", x23, "--grad", dy23, "--out", y, "--out-weight-grad", dir.resolve("dw.npy"))
                .rejected("--out-weight-grad is only for prelu");
    }

    @Test
    void biasProblems() throws IOException {
        Path b4 = save("b4.npy", Shape.of(4), new float[4]);
        Path b2d = save("b2d.npy", Shape.of(1, 3), new float[3]);
        Path b0 = save("b0.npy", Shape.of(0), new float[0]);
        Path f8 = NpyTest.fixture("f8.npy");
        before = Cli.files(dir);
        run("apply", "--op", "gelu", "--in", x23, "--bias", b4, "--out", y)
                .rejected("--bias " + b4 + " has 4 channels but axis 1 of --in " + x23 + " (shape (2, 3)) has 3");
        run("apply", "--op", "gelu", "--in", x23, "--bias", b4, "--channel-axis", "-1", "--out", y)
                .rejected("--bias " + b4 + " has 4 channels but axis 1 of --in");
        run("apply", "--op", "gelu", "--in", x23, "--bias", b2d, "--out", y)
                .rejected("--bias " + b2d + " must be 1-D with at least one value, but has shape (1, 3)");
        run("apply", "--op", "gelu", "--in", x23, "--bias", b0, "--out", y)
                .rejected("--bias " + b0 + " must be 1-D with at least one value, but has shape (0,)");
        run("apply", "--op", "gelu", "--in", x23, "--bias", f8, "--out", y)
                .rejected("--bias " + f8 + ": dtype '<f8' (float64) is not supported");
        run("apply", "--op", "gelu", "--in", x23, "--bias", w3, "--channel-axis", "2", "--out", y)
                .rejected("--channel-axis 2 is out of range for --in " + x23);
        run("apply", "--op", "softmax", "--in", x23, "--bias", w3, "--out", y)
                .rejected("--bias is only for elementwise ops, not softmax (rowwise)");
        run("apply", "--op", "prelu", "--in", x23, "--weight", w3, "--bias", w3, "--out", y)
                .rejected("--bias is only for elementwise ops, not prelu");
        run("grad", "--op", "gelu", "--in", x23, "--bias", b4, "--grad", dy23, "--out", y)
                .rejected("has 4 channels");
        run("grad", "--op", "sigmoid", "--from-output", "--in", x23, "--bias", w3, "--grad", dy23, "--out", y)
                .rejected("--from-output: the backward pass of --bias takes the forward input x as --in");
        run("grad", "--op", "gelu", "--in", x23, "--grad", dy23, "--out", y, "--out-bias-grad", dir.resolve("db.npy"))
                .rejected("--out-bias-grad is only for --bias");
        run("grad", "--op", "gelu", "--in", x23, "--bias", w3, "--grad", dy23, "--out", y, "--out-bias-grad", y)
                .rejected("--out-bias-grad");
        run("grad", "--op", "gelu", "--in", x23, "--bias", w3, "--grad", dy23, "--out", y,
                "--out-weight-grad", dir.resolve("dw.npy")).rejected("--out-weight-grad is only for prelu, not gelu");
    }

    @Test
    void unknownOpsParametersAndBadValues() {
        apply("swoosh", x23).rejected("Invalid value for option '--op': unknown activation 'swoosh'; known: identity", "leaky_relu");
        run("apply", "--op", "gelu", "--param", "alpha=1", "--in", x23, "--out", y)
                .rejected("--param: gelu has no parameter 'alpha'; it takes none");
        run("apply", "--op", "elu", "--param", "beta=1", "--in", x23, "--out", y)
                .rejected("--param: elu has no parameter 'beta'; it takes [alpha=1]");
        run("apply", "--op", "leaky_relu", "--param", "alpha=abc", "--in", x23, "--out", y)
                .rejected("--param alpha: expected a number, got 'abc'");
        run("apply", "--op", "leaky_relu", "--param", "alpha=NaN", "--in", x23, "--out", y)
                .rejected("leaky_relu: parameter 'alpha' must be a finite number, got NaN");
        run("apply", "--op", "celu", "--param", "alpha=-1", "--in", x23, "--out", y)
                .rejected("celu: parameter 'alpha' must be a finite number > 0, got -1");
        run("apply", "--op", "hardtanh", "--param", "min=2", "--in", x23, "--out", y)
                .rejected("hardtanh: parameter 'min' (2) must be <= 'max' (1)");
        run("apply", "--op", "maxout", "--param", "pieces=1.5", "--in", x23, "--out", y)
                .rejected("maxout: parameter 'pieces' must be an integer >= 1, got 1.5");
        run("apply", "--op", "softmax", "--param", "masked_nan=maybe", "--in", x23, "--out", y)
                .rejected("--param masked_nan: expected true, false, 1 or 0, got 'maybe'");
        run("apply", "--op", "relu", "--param", "alpha", "--in", x23, "--out", y).rejected("--param", "KEY=VALUE");
    }

    @Test
    void unknownAndUnusableBackends() {
        run("apply", "--backend", "tpu", "--op", "relu", "--in", x23, "--out", y)
                .rejected("--backend: unknown backend 'tpu'; known: auto, ", "cpu", "test-unusable");
        run("apply", "--backend", "test-unusable", "--op", "relu", "--in", x23, "--out", y)
                .rejected("--backend: backend 'test-unusable' is not usable: " + TestProviders.Unusable.REASON);
        run("bench", "--backend", "tpu", "--sizes", "1024").rejected("unknown backend 'tpu'");
    }

    @Test
    void unwritableOutputs() {
        Path nowhere = dir.resolve("no/such/folder/y.npy");
        apply("relu", x23, nowhere).rejected("--out " + nowhere + ": the folder " + nowhere.getParent() + " does not exist");
        apply("relu", x23, dir).rejected("--out " + dir + ": is a directory");
        run("grad", "--op", "prelu", "--in", x23, "--weight", w3, "--grad", dy23, "--out", y,
                "--out-weight-grad", nowhere).rejected("--out-weight-grad " + nowhere + ": the folder");
    }

    @Test
    void usageErrors() {
        run("apply", "--op", "relu", "--out", y).rejected("Missing required option: '--in=X.npy'", "(see 'gpuact help apply')");
        run("grad", "--op", "relu", "--in", x23, "--out", y).rejected("Missing required option: '--grad=DY.npy'");
        run("apply", "--op", "relu", "--in", x23, "--out", y, "--channel-axis", "one").rejected("'one' is not an int");
        run("transmogrify").rejected("Unmatched argument at index 0: 'transmogrify'", "(see 'gpuact --help')");
        run().rejected("Missing required subcommand");
    }

    @Test
    void internalErrorsExitOneWithTheStackTraceOnlyWhenVerbose() {
        Cli.Result quiet = run("apply", "--backend", "test-broken", "--op", "relu", "--in", x23, "--out", y);
        assertThat(quiet.exitCode()).isEqualTo(1);
        assertThat(quiet.err().lines().toList()).containsExactly(
                "gpuact apply: error: internal error: java.lang.IllegalStateException: " + TestProviders.Broken.FAILURE);

        Cli.Result verbose = run("apply", "--verbose", "--backend", "test-broken", "--op", "relu", "--in", x23, "--out", y);
        assertThat(verbose.exitCode()).isEqualTo(1);
        assertThat(verbose.err().lines().toList()).first().isEqualTo(quiet.err().strip());
        assertThat(verbose.err()).contains("\tat dev.gpuact.cli.TestProviders$Broken.open");
    }

    private Cli.Result apply(String op, Path in) {
        return apply(op, in, y);
    }

    private Cli.Result apply(String op, Path in, Path out) {
        return run("apply", "--op", op, "--in", in, "--out", out);
    }

    /** Paths become their strings; without --backend, auto picks cpu (the test providers rank last). */
    private static Cli.Result run(Object... args) {
        return Cli.run(Arrays.stream(args).map(Object::toString).toArray(String[]::new));
    }

    private Path save(String name, Shape shape, float[] data) throws IOException {
        Path p = dir.resolve(name);
        Npy.write(p, shape, data);
        return p;
    }
}
