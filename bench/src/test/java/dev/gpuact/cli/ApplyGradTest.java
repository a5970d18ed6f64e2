package dev.gpuact.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import dev.gpuact.Activation;
import dev.gpuact.Op;
import dev.gpuact.Param;
import dev.gpuact.fallback.HalfFloats;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntToDoubleFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** apply and grad on the CPU backend for every op of the catalog, against double-precision references. */
class ApplyGradTest {
    private static final double RELATIVE = 1e-5;
    private static final double ABSOLUTE = 1e-6;

    @TempDir
    Path dir;

    static Stream<Op> elementwiseOps() {
        return Op.ELEMENTWISE.stream();
    }

    /** Inputs over [-4.3, 4.3] that avoid every kink of the catalog (0, +-0.5, +-1, +-3, 6). */
    static float[] inputs(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) ((i % 24 - 11.5) * 0.37 * (i % 2 == 0 ? 1 : -1));
        }
        return x;
    }

    /** Upstream gradients that differ from element to element, so a mix-up of positions shows. */
    static float[] upstream(int n) {
        float[] dy = new float[n];
        for (int i = 0; i < n; i++) {
            dy[i] = 0.5f + 0.25f * (i % 5) - 0.125f * (i % 3);
        }
        return dy;
    }

    /** A valid value for each parameter other than its default, so the test sees that --param arrives. */
    static Map<String, String> nonDefaultParams(Op op) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Param p : op.params()) {
            double d = p.defaultValue();
            values.put(p.name(), p.isBoolean() ? "true" : op == Op.MAXOUT ? "3" : Double.toString(d == 0 ? 0.25 : d * 1.5));
        }
        return values;
    }

    static Activation activation(Op op, Map<String, String> params) {
        Map<String, Double> values = new LinkedHashMap<>();
        params.forEach((k, v) -> values.put(k, v.equals("true") ? 1.0 : Double.parseDouble(v)));
        return Activation.of(op, values);
    }

    @ParameterizedTest
    @MethodSource("elementwiseOps")
    void appliesAndDifferentiatesEveryElementwiseOpOverEveryElement(Op op) throws IOException {
        Map<String, String> params = nonDefaultParams(op);
        Activation act = activation(op, params);
        Shape shape = Shape.of(2, 3, 4);
        float[] x = inputs(24);
        float[] dy = upstream(24);

        Result y = apply(op, params, shape, x);
        assertThat(y.shape()).isEqualTo(shape);
        assertClose(y.data(), i -> act.reference(x[i]), op + " forward");

        Result dx = grad(op, params, shape, x, shape, dy);
        assertThat(dx.shape()).isEqualTo(shape);
        assertClose(dx.data(), i -> dy[i] * act.referenceDerivative(x[i]), op + " backward");
    }

    @Test
    void elementwiseOpsTakeScalarsAndEmptyArrays() throws IOException {
        Result scalar = apply(Op.SQUARE, Map.of(), Shape.of(), new float[] {-3f});
        assertThat(scalar.shape()).isEqualTo(Shape.of());
        assertThat(scalar.data()).containsExactly(9f);
        Result empty = apply(Op.GELU, Map.of(), Shape.of(0, 5), new float[0]);
        assertThat(empty.shape()).isEqualTo(Shape.of(0, 5));
    }

    @Test
    void softmaxWorksAlongTheLastAxisWithItsParameters() throws IOException {
        Map<String, String> params = Map.of("temperature", "1.5");
        Shape shape = Shape.of(2, 3, 6);
        float[] x = inputs(36);
        float[] dy = upstream(36);
        double t = 1.5;
        double[] want = new double[36];
        double[] wantDx = new double[36];
        for (int r = 0; r < 6; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < 6; c++) {
                max = Math.max(max, x[r * 6 + c]);
            }
            double sum = 0;
            for (int c = 0; c < 6; c++) {
                sum += Math.exp((x[r * 6 + c] - max) / t);
            }
            double dot = 0;
            for (int c = 0; c < 6; c++) {
                want[r * 6 + c] = Math.exp((x[r * 6 + c] - max) / t) / sum;
                dot += dy[r * 6 + c] * want[r * 6 + c];
            }
            for (int c = 0; c < 6; c++) {
                wantDx[r * 6 + c] = want[r * 6 + c] * (dy[r * 6 + c] - dot) / t;
            }
        }
        Result y = apply(Op.SOFTMAX, params, shape, x);
        assertThat(y.shape()).isEqualTo(shape);
        assertClose(y.data(), i -> want[i], "softmax forward");
        assertClose(grad(Op.SOFTMAX, params, shape, x, shape, dy).data(), i -> wantDx[i], "softmax backward");
    }

    @Test
    void logSoftmaxWorksAlongTheLastAxis() throws IOException {
        Map<String, String> params = Map.of("temperature", "0.5");
        Shape shape = Shape.of(4, 5);
        float[] x = inputs(20);
        float[] dy = upstream(20);
        double t = 0.5;
        double[] want = new double[20];
        double[] wantDx = new double[20];
        for (int r = 0; r < 4; r++) {
            double max = Double.NEGATIVE_INFINITY;
            double dySum = 0;
            for (int c = 0; c < 5; c++) {
                max = Math.max(max, x[r * 5 + c]);
                dySum += dy[r * 5 + c];
            }
            double sum = 0;
            for (int c = 0; c < 5; c++) {
                sum += Math.exp((x[r * 5 + c] - max) / t);
            }
            for (int c = 0; c < 5; c++) {
                want[r * 5 + c] = (x[r * 5 + c] - max) / t - Math.log(sum);
                wantDx[r * 5 + c] = (dy[r * 5 + c] - Math.exp(want[r * 5 + c]) * dySum) / t;
            }
        }
        assertClose(apply(Op.LOG_SOFTMAX, params, shape, x).data(), i -> want[i], "log_softmax forward");
        assertClose(grad(Op.LOG_SOFTMAX, params, shape, x, shape, dy).data(), i -> wantDx[i], "log_softmax backward");
    }

    @Test
    void maskedRowsFollowTheMaskedNanParameter() throws IOException {
        float inf = Float.NEGATIVE_INFINITY;
        float[] x = {1, 2, 3, inf, inf, inf};
        assertThat(apply(Op.SOFTMAX, Map.of(), Shape.of(2, 3), x).data()).endsWith(0f, 0f, 0f);
        assertThat(apply(Op.SOFTMAX, Map.of("masked_nan", "true"), Shape.of(2, 3), x).data()).endsWith(Float.NaN, Float.NaN, Float.NaN);
        assertThat(apply(Op.SOFTMAX, Map.of("masked_nan", "0"), Shape.of(2, 3), x).data()).endsWith(0f, 0f, 0f);
        assertThat(apply(Op.LOG_SOFTMAX, Map.of("masked_nan", "1"), Shape.of(2, 3), x).data()).endsWith(Float.NaN, Float.NaN, Float.NaN);
    }

    @Test
    void maxoutShrinksTheLastAxisAndRoutesTheGradientToTheFirstMaximum() throws IOException {
        Shape shape = Shape.of(2, 2, 6);
        float[] x = inputs(24);
        x[3] = x[4] = 9f; // a tie inside the second group of three in row 0
        float[] dy = upstream(8);
        Map<String, String> params = Map.of("pieces", "3");
        Result y = apply(Op.MAXOUT, params, shape, x);
        assertThat(y.shape()).isEqualTo(Shape.of(2, 2, 2));
        double[] wantDx = new double[24];
        for (int j = 0; j < 8; j++) {
            int arg = 3 * j;
            for (int p = 1; p < 3; p++) {
                arg = x[3 * j + p] > x[arg] ? 3 * j + p : arg;
            }
            assertThat(y.data()[j]).isEqualTo(x[arg]);
            wantDx[arg] = dy[j];
        }
        assertThat(wantDx[3]).isEqualTo(dy[1]);
        Result dx = grad(Op.MAXOUT, params, shape, x, y.shape(), dy);
        assertThat(dx.shape()).isEqualTo(shape);
        assertClose(dx.data(), i -> wantDx[i], "maxout backward");
    }

    static Stream<Op> gatedOps() {
        return Stream.of(Op.values()).filter(op -> op.kind() == Op.Kind.GATED);
    }

    /** [.., 2H] in, [.., H] out: the first half of each row is a, the second b; dx holds da then db per row. */
    @ParameterizedTest
    @MethodSource("gatedOps")
    void gatedOpsHalveTheLastAxis(Op op) throws IOException {
        Shape shape = Shape.of(2, 3, 8);
        Shape half = Shape.of(2, 3, 4);
        float[] x = inputs(48);
        float[] dy = upstream(24);
        IntToDoubleFunction first = i -> x[i / 4 * 8 + i % 4];
        IntToDoubleFunction second = i -> x[i / 4 * 8 + 4 + i % 4];
        Result y = apply(op, Map.of(), shape, x);
        assertThat(y.shape()).isEqualTo(half);
        assertClose(y.data(), i -> op.referenceGated(first.applyAsDouble(i), second.applyAsDouble(i), 0, 0),
                op + " forward");
        Result dx = grad(op, Map.of(), shape, x, half, dy);
        assertThat(dx.shape()).isEqualTo(shape);
        assertClose(dx.data(), j -> {
            int i = j / 8 * 4 + j % 4;
            return dy[i] * op.referenceGatedPartial(first.applyAsDouble(i), second.applyAsDouble(i), 0, 0, j % 8 < 4);
        }, op + " backward");
    }

    @Test
    void preluUsesOneSlopePerChannelOnTheChosenAxis() throws IOException {
        float[] w = {0.1f, -0.3f, 0.7f};
        checkPrelu(Shape.of(2, 3, 4), w, List.of(), 4);
        checkPrelu(Shape.of(2, 4, 3), w, List.of("--channel-axis", "-1"), 1);
        checkPrelu(Shape.of(3), w, List.of("--channel-axis", "0"), 1);
        checkPrelu(Shape.of(5), new float[] {0.2f}, List.of(), 1);
        checkPrelu(Shape.of(2, 3, 2, 2), new float[] {0.2f}, List.of(), 1);
    }

    /** Forward, dx and dweight of PReLU, with channel (i / inner) % C. */
    private void checkPrelu(Shape shape, float[] w, List<String> axisOption, int inner) throws IOException {
        int n = (int) shape.count();
        int channels = w.length;
        float[] x = inputs(n);
        float[] dy = upstream(n);
        Path xFile = save("px.npy", shape, x);
        Path wFile = save("pw.npy", Shape.of(channels), w);
        Path dyFile = save("pdy.npy", shape, dy);
        List<String> common = new ArrayList<>(List.of("--backend", "cpu", "--op", "prelu", "--in", xFile.toString(),
                "--weight", wFile.toString()));
        common.addAll(axisOption);

        List<String> applyArgs = new ArrayList<>(List.of("apply", "--out", dir.resolve("py.npy").toString()));
        applyArgs.addAll(common);
        Cli.run(applyArgs.toArray(String[]::new)).succeeded();
        float[] y = Npy.readAll(dir.resolve("py.npy"));

        List<String> gradArgs = new ArrayList<>(List.of("grad", "--grad", dyFile.toString(), "--out",
                dir.resolve("pdx.npy").toString(), "--out-weight-grad", dir.resolve("pdw.npy").toString()));
        gradArgs.addAll(common);
        Cli.run(gradArgs.toArray(String[]::new)).succeeded();
        float[] dx = Npy.readAll(dir.resolve("pdx.npy"));

        double[] dw = new double[channels];
        for (int i = 0; i < n; i++) {
            int c = (i / inner) % channels;
            dw[c] += x[i] <= 0 ? (double) dy[i] * x[i] : 0;
        }
        String what = "prelu " + shape + " " + axisOption;
        assertThat(y).hasSize(n);
        assertThat(dx).hasSize(n);
        assertClose(y, i -> Op.PRELU.reference(x[i], w[(i / inner) % channels], 0), what + " forward");
        assertClose(dx, i -> dy[i] * Op.PRELU.referenceDerivative(x[i], w[(i / inner) % channels], 0), what + " dx");
        assertClose(Npy.readAll(dir.resolve("pdw.npy")), i -> dw[i], what + " dweight");
    }

    @ParameterizedTest
    @MethodSource("elementwiseOps")
    void biasIsAddedPerChannelBeforeEveryElementwiseOp(Op op) throws IOException {
        checkBias(op, Shape.of(2, 3, 4), new float[] {0.25f, -1.5f, 0.125f}, List.of(), 4);
    }

    @Test
    void biasFollowsTheChosenChannelAxis() throws IOException {
        float[] b = {0.5f, -0.75f, 1.25f};
        checkBias(Op.GELU, Shape.of(2, 4, 3), b, List.of("--channel-axis", "-1"), 1);
        checkBias(Op.TANH, Shape.of(3), b, List.of("--channel-axis", "0"), 1);
        checkBias(Op.SILU, Shape.of(2, 3, 2, 2), new float[] {-0.5f}, List.of(), 1);
    }

    /** Forward, dx and dbias of bias and activation, with channel (i / inner) % C and x + b rounded to float. */
    private void checkBias(Op op, Shape shape, float[] b, List<String> axisOption, int inner) throws IOException {
        int n = (int) shape.count();
        int channels = b.length;
        float[] x = inputs(n);
        float[] dy = upstream(n);
        Path xFile = save("bx.npy", shape, x);
        Path bFile = save("bb.npy", Shape.of(channels), b);
        Path dyFile = save("bdy.npy", shape, dy);
        List<String> common = new ArrayList<>(List.of("--backend", "cpu", "--op", op.id(), "--in", xFile.toString(),
                "--bias", bFile.toString()));
        common.addAll(axisOption);

        List<String> applyArgs = new ArrayList<>(List.of("apply", "--out", dir.resolve("by.npy").toString()));
        applyArgs.addAll(common);
        Cli.run(applyArgs.toArray(String[]::new)).succeeded();
        float[] y = Npy.readAll(dir.resolve("by.npy"));

        List<String> gradArgs = new ArrayList<>(List.of("grad", "--grad", dyFile.toString(), "--out",
                dir.resolve("bdx.npy").toString(), "--out-bias-grad", dir.resolve("bdb.npy").toString()));
        gradArgs.addAll(common);
        Cli.run(gradArgs.toArray(String[]::new)).succeeded();
        float[] dx = Npy.readAll(dir.resolve("bdx.npy"));

        Activation f = op.defaults();
        IntToDoubleFunction t = i -> x[i] + b[(i / inner) % channels];
        double[] db = new double[channels];
        double[] magnitude = new double[channels];
        for (int i = 0; i < n; i++) {
            double term = dy[i] * f.referenceDerivative((float) t.applyAsDouble(i));
            db[(i / inner) % channels] += term;
            magnitude[(i / inner) % channels] += Math.abs(term);
        }
        String what = op.id() + "+bias " + shape + " " + axisOption;
        assertThat(y).hasSize(n);
        assertClose(y, i -> f.reference((float) t.applyAsDouble(i)), what + " forward");
        assertClose(dx, i -> dy[i] * f.referenceDerivative((float) t.applyAsDouble(i)), what + " dx");
        float[] gotDb = Npy.readAll(dir.resolve("bdb.npy"));
        for (int c = 0; c < channels; c++) {
            // a sum whose terms may cancel: its error is relative to the terms, not to the sum
            assertThat((double) gotDb[c]).as("%s dbias at %d", what, c)
                    .isCloseTo(db[c], offset(RELATIVE * magnitude[c] + ABSOLUTE));
        }
    }

    @Test
    void preluWeightGradientIsOptional() throws IOException {
        Path xFile = save("x.npy", Shape.of(2, 3), inputs(6));
        Path wFile = save("w.npy", Shape.of(3), new float[] {0.1f, 0.2f, 0.3f});
        Path dyFile = save("dy.npy", Shape.of(2, 3), upstream(6));
        Cli.run("grad", "--backend", "cpu", "--op", "prelu", "--in", xFile.toString(), "--weight", wFile.toString(),
                "--grad", dyFile.toString(), "--out", dir.resolve("dx.npy").toString()).succeeded();
        assertThat(Cli.files(dir)).containsExactly("dx.npy", "dy.npy", "w.npy", "x.npy");
    }

    @Test
    void replacesAnExistingOutputFile() throws IOException {
        Path xFile = save("x.npy", Shape.of(3), new float[] {-1, 0, 2});
        Path out = save("y.npy", Shape.of(1), new float[] {42});
        Cli.run("apply", "--backend", "cpu", "--op", "relu", "--in", xFile.toString(), "--out", out.toString()).succeeded();
        assertThat(Npy.readAll(out)).containsExactly(0, 0, 2);
        assertThat(Cli.files(dir)).containsExactly("x.npy", "y.npy");
    }

    @Test
    void float16InIsComputedInFloat32AndWrittenAsFloat16RoundedOnce() throws IOException {
        float[] x = inputs(48);
        Path xFile = dir.resolve("x16.npy");
        Npy.write(xFile, Shape.of(4, 12), Npy.ElementType.FLOAT16, (offset, chunk) -> chunk.put(x, (int) offset,
                chunk.remaining()));
        float[] xStored = Npy.readAll(xFile);
        Path yFile = dir.resolve("y16.npy");
        Cli.run("apply", "--backend", "cpu", "--op", "gelu", "--in", xFile.toString(), "--out", yFile.toString())
                .succeeded();
        Path dyFile = save("dy.npy", Shape.of(4, 12), upstream(48));
        Path dxFile = dir.resolve("dx16.npy");
        Cli.run("grad", "--backend", "cpu", "--op", "gelu", "--in", xFile.toString(), "--grad", dyFile.toString(),
                "--out", dxFile.toString()).succeeded();
        float[] dy = upstream(48);
        for (Path out : List.of(yFile, dxFile)) {
            try (Npy.Reader r = Npy.Reader.open(out)) {
                assertThat(r.type()).as("%s follows --in's type", out).isEqualTo(Npy.ElementType.FLOAT16);
                assertThat(r.shape()).isEqualTo(Shape.of(4, 12));
                float[] got = r.readAll();
                for (int i = 0; i < got.length; i++) {
                    double exact = out == yFile ? Op.GELU.reference(xStored[i], 0, 0)
                            : dy[i] * Op.GELU.referenceDerivative(xStored[i], 0, 0);
                    float nearest = HalfFloats.float16ToFloat(HalfFloats.floatToFloat16((float) exact));
                    double ulp = Math.ulp(HalfFloats.float16ToFloat(HalfFloats.floatToFloat16(Math.abs(got[i]))));
                    assertThat((double) got[i]).as("%s[%d] at x = %s", out.getFileName(), i, xStored[i])
                            .isCloseTo(nearest, offset(Math.max(ulp * 0x1p13, 0x1p-24)));
                }
            }
        }
    }

    record Result(Shape shape, float[] data) {
    }

    private Result apply(Op op, Map<String, String> params, Shape shape, float[] x) throws IOException {
        List<String> args = new ArrayList<>(List.of("apply", "--backend", "cpu", "--op", op.id(),
                "--in", save("x.npy", shape, x).toString(), "--out", dir.resolve("y.npy").toString()));
        params.forEach((k, v) -> args.addAll(List.of("--param", k + "=" + v)));
        Cli.run(args.toArray(String[]::new)).succeeded();
        return load(dir.resolve("y.npy"));
    }

    private Result grad(Op op, Map<String, String> params, Shape shape, float[] x, Shape dyShape, float[] dy) throws IOException {
        List<String> args = new ArrayList<>(List.of("grad", "--backend", "cpu", "--op", op.id(),
                "--in", save("x.npy", shape, x).toString(), "--grad", save("dy.npy", dyShape, dy).toString(),
                "--out", dir.resolve("dx.npy").toString()));
        params.forEach((k, v) -> args.addAll(List.of("--param", k + "=" + v)));
        Cli.run(args.toArray(String[]::new)).succeeded();
        return load(dir.resolve("dx.npy"));
    }

    private Path save(String name, Shape shape, float[] data) throws IOException {
        Path p = dir.resolve(name);
        Npy.write(p, shape, data);
        return p;
    }

    private static Result load(Path p) throws IOException {
        try (Npy.Reader r = Npy.Reader.open(p)) {
            return new Result(r.shape(), r.readAll());
        }
    }

    private static void assertClose(float[] got, IntToDoubleFunction want, String what) {
        for (int i = 0; i < got.length; i++) {
            double w = want.applyAsDouble(i);
            assertThat((double) got[i]).as("%s at %d", what, i).isCloseTo(w, offset(RELATIVE * Math.abs(w) + ABSOLUTE));
        }
    }
}
