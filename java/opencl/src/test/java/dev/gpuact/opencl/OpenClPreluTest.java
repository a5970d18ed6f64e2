package dev.gpuact.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.DeviceBuffer;
import dev.gpuact.conformance.Ulp;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OpenClPreluTest {
    private static OpenClBackend backend;

    @BeforeAll
    static void open() {
        backend = OpenClTestDevice.open();
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    /** NCHW with a partial last image (channels do not all hold the same count), and channels split in chunks. */
    @ParameterizedTest
    @CsvSource({"3, 1000, 7500", "1, 1, 300000", "5, 7, 1000003"})
    void forwardBackwardAndDweightMatchTheDefinition(int channels, int inner, int n) {
        SplittableRandom random = new SplittableRandom(1);
        float[] x = new float[n];
        float[] dy = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
            dy[i] = (float) random.nextGaussian();
        }
        float[] w = new float[channels];
        for (int c = 0; c < channels; c++) {
            w[c] = new float[] {0.25f, -0.5f, 0f}[c % 3];
        }
        double[] dw = new double[channels];
        for (int i = 0; i < n; i++) {
            if (x[i] <= 0) {
                dw[(i / inner) % channels] += (double) dy[i] * x[i];
            }
        }
        try (DeviceBuffer bx = backend.upload(x); DeviceBuffer bw = backend.upload(w);
             DeviceBuffer bdy = backend.upload(dy); DeviceBuffer out = backend.allocate(n);
             DeviceBuffer bdw = backend.allocate(channels)) {
            backend.prelu(bx, bw, out, channels, inner);
            float[] y = out.toArray();
            for (int i = 0; i < n; i++) {
                float a = w[(i / inner) % channels];
                assertThat(y[i]).isEqualTo(x[i] > 0 ? x[i] : a * x[i]);
            }
            backend.preluBackward(bx, bw, bdy, out, bdw, channels, inner);
            float[] dx = out.toArray();
            for (int i = 0; i < n; i++) {
                assertThat(dx[i]).isEqualTo(x[i] > 0 ? dy[i] : w[(i / inner) % channels] * dy[i]);
            }
            float[] first = bdw.toArray();
            for (int c = 0; c < channels; c++) {
                assertThat(Ulp.distance(first[c], dw[c])).as("dweight[%d]", c).isLessThanOrEqualTo(8);
            }
            // dx written over dy: dweight must still see the original dy, and come out bit-identical
            backend.preluBackward(bx, bw, bdy, bdy, bdw, channels, inner);
            assertThat(bdw.toArray()).isEqualTo(first);
            assertThat(bdy.toArray()).isEqualTo(dx);
        }
    }

    @Test
    void emptyInputGivesZeroDweight() {
        try (DeviceBuffer empty = backend.allocate(0); DeviceBuffer w = backend.upload(new float[] {1, 2});
             DeviceBuffer dx = backend.allocate(0); DeviceBuffer dw = backend.upload(new float[] {7, 7});
             DeviceBuffer dy = backend.allocate(0)) {
            backend.preluBackward(empty, w, dy, dx, dw, 2, 1);
            assertThat(dw.toArray()).containsExactly(0, 0);
        }
    }
}
