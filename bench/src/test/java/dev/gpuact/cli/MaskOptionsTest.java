package dev.gpuact.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import dev.gpuact.RowMask;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * apply and grad with --mask, --lengths and --causal: the same bits as the library's masked call with the RowMask
 * the shapes describe, and a one-line error (exit 2, no output file) for every misfit.
 */
class MaskOptionsTest {
    /** x of shape [B, H, Q, K]. */
    private static final int B = 2;
    private static final int H = 3;
    private static final int Q = 4;
    private static final int K = 6;
    private static final int ROWS = B * H * Q;

    @TempDir
    Path dir;

    private static float[] ramp(int n, float step) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = ((i * 7) % 11 - 5) * step;
        }
        return v;
    }

    private Path save(String name, Shape shape, float[] data) throws IOException {
        Path p = dir.resolve(name);
        Npy.write(p, shape, data);
        return p;
    }

    /** A 1-D little-endian int32 or int64 .npy file. */
    private Path saveIntegers(String name, boolean wide, long... values) throws IOException {
        String dict = "{'descr': '" + (wide ? Npy.ElementType.INT64 : Npy.ElementType.INT32).descr() + "', 'fortran_order': False, 'shape': ("
                + values.length + ",), }";
        int unpadded = 10 + dict.length() + 1;
        String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + values.length * (wide ? 8 : 4))
                .order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length())
                .put(header.getBytes(StandardCharsets.ISO_8859_1));
        for (long v : values) {
            if (wide) {
                b.putLong(v);
            } else {
                b.putInt((int) v);
            }
        }
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    @Test
    void applyAndGradGiveTheLibrarysMaskedResult() throws IOException {
        Shape xShape = Shape.of(B, H, Q, K);
        float[] x = ramp(ROWS * K, 0.75f);
        float[] mask = ramp(B * K, 1.5f);
        mask[3] = Float.NEGATIVE_INFINITY;
        float[] dy = ramp(ROWS * K, 0.25f);
        long[] lengths = {5, 3};
        Path xFile = save("x.npy", xShape, x);
        Path maskFile = save("mask.npy", Shape.of(B, 1, 1, K), mask);
        Path dyFile = save("dy.npy", xShape, dy);
        Path lengthsFile = saveIntegers("lengths.npy", true, lengths);
        Path y = dir.resolve("y.npy");
        Path dx = dir.resolve("dx.npy");
        List<String> common = List.of("--backend", "cpu", "--op", "log_softmax", "--param", "temperature=0.5",
                "--in", xFile.toString(), "--mask", maskFile.toString(), "--lengths", lengthsFile.toString(),
                "--causal", "--offset", "1");
        Cli.run(concat(List.of("apply"), common, List.of("--out", y.toString()))).succeeded();
        Cli.run(concat(List.of("grad"), common, List.of("--grad", dyFile.toString(), "--out", dx.toString())))
                .succeeded();

        Activation activation = Activation.logSoftmax(0.5, false);
        RowLayout layout = RowLayout.of(ROWS, K);
        try (Backend cpu = Backends.get("cpu"); DeviceBuffer bx = cpu.upload(x); DeviceBuffer bm = cpu.upload(mask);
             DeviceBuffer bdy = cpu.upload(dy); DeviceBuffer by = cpu.allocate(x.length);
             DeviceBuffer bdx = cpu.allocate(x.length)) {
            RowMask rowMask = RowMask.none().add(bm, H * Q).lengths(lengths, H * Q).causal(1, Q);
            cpu.applyRows(activation, bx, by, layout, rowMask);
            cpu.applyRowsBackward(activation, bx, bdy, bdx, layout, rowMask);
            assertThat(Npy.readAll(y)).containsExactly(by.toArray());
            assertThat(Npy.readAll(dx)).containsExactly(bdx.toArray());
        }
        float[] got = Npy.readAll(y);
        assertThat(got[3]).as("row 0 column 3: the mask's -inf").isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(got[2]).as("row 0 column 2: past query 0 + offset 1").isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(got[1]).as("row 0 column 1: visible").isFinite();
    }

    @Test
    void int32LengthsAndAMaskPerRowWork() throws IOException {
        Path xFile = save("x.npy", Shape.of(2, 3), new float[] {1, 2, 3, 4, 5, 6});
        Path maskFile = save("mask.npy", Shape.of(2, 3), new float[] {0, 0, 0, 0, Float.NEGATIVE_INFINITY, 0});
        Path lengthsFile = saveIntegers("lengths.npy", false, 2, 3);
        Path y = dir.resolve("y.npy");
        Cli.run("apply", "--backend", "cpu", "--op", "softmax", "--in", xFile.toString(), "--mask",
                maskFile.toString(), "--lengths", lengthsFile.toString(), "--out", y.toString()).succeeded();
        float[] got = Npy.readAll(y);
        assertThat(got[2]).isZero();
        assertThat(got[4]).isZero();
        assertThat(got[0] + got[1]).isEqualTo(1f, org.assertj.core.api.Assertions.within(1e-6f));
        assertThat(got[3] + got[5]).isEqualTo(1f, org.assertj.core.api.Assertions.within(1e-6f));
    }

    @Test
    void misfitsAreOneLineErrors() throws IOException {
        Path x23 = save("x.npy", Shape.of(2, 3), new float[6]);
        Path dy23 = save("dy.npy", Shape.of(2, 3), new float[6]);
        Path mask13 = save("m13.npy", Shape.of(1, 3), new float[3]);
        Path mask22 = save("m22.npy", Shape.of(2, 2), new float[4]);
        Path mask3 = save("m3.npy", Shape.of(3), new float[3]);
        Path lengths3 = saveIntegers("l3.npy", false, 1, 2, 3);
        Path lengthsBig = saveIntegers("lbig.npy", true, 1, 4);
        Path lengthsNegative = saveIntegers("lneg.npy", false, -1, 2);
        Path lengthsFloat = save("lf.npy", Shape.of(2), new float[] {1, 2});
        Path y = dir.resolve("y.npy");
        List<String> before = Cli.files(dir);
        apply("softmax", x23, y, "--mask", mask22.toString())
                .rejected("--mask " + mask22 + " has shape (2, 2) but --in " + x23 + " has shape (2, 3)");
        apply("softmax", x23, y, "--mask", mask3.toString()).rejected("--mask " + mask3 + " has shape (3,)");
        apply("softmax", x23, y, "--lengths", lengths3.toString())
                .rejected("--lengths " + lengths3 + " holds 3 lengths, which do not divide the 2 rows");
        apply("softmax", x23, y, "--lengths", lengthsBig.toString())
                .rejected("--lengths " + lengthsBig + ": length 1 is 4, outside 0..3");
        apply("softmax", x23, y, "--lengths", lengthsNegative.toString()).rejected("length 0 is -1, outside 0..3");
        apply("softmax", x23, y, "--lengths", lengthsFloat.toString())
                .rejected("--lengths " + lengthsFloat + ": dtype '<f4'", "only int32 or int64 ('<i4', '>i4', '<i8', '>i8')");
        apply("softmax", x23, y, "--offset", "2").rejected("--offset is only used with --causal");
        apply("gelu", x23, y, "--causal").rejected("--mask, --lengths and --causal are only for softmax and log_softmax, not gelu");
        apply("maxout", x23, y, "--mask", mask13.toString()).rejected("only for softmax and log_softmax, not maxout");
        Cli.run("grad", "--op", "softmax", "--in", x23.toString(), "--grad", dy23.toString(), "--out", y.toString(),
                "--from-output", "--causal").rejected("--from-output takes no --mask, --lengths or --causal");
        assertThat(Cli.files(dir)).as("files after the rejected commands").isEqualTo(before);
    }

    private static Cli.Result apply(String op, Path x, Path y, String... extra) {
        return Cli.run(concat(List.of("apply", "--backend", "cpu", "--op", op, "--in", x.toString(), "--out",
                y.toString()), List.of(extra)));
    }

    @SafeVarargs
    private static String[] concat(List<String>... parts) {
        return java.util.Arrays.stream(parts).flatMap(List::stream).toArray(String[]::new);
    }
}
