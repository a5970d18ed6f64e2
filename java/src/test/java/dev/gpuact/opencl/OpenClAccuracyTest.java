package dev.gpuact.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** ULP sweep of every elementwise op on the OpenCL device against the double reference. */
class OpenClAccuracyTest {
    private static Backend backend;
    private static float[] inputs;

    @BeforeAll
    static void open() {
        backend = OpenClTestDevice.open();
        inputs = sweep();
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    static float[] sweep() {
        SplittableRandom random = new SplittableRandom(42);
        List<Float> xs = new ArrayList<>(List.of(0f, -0f, Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 1f, 3f, 6f, 0.5f, 20f, 1.7320508f));
        for (int e = -149; e <= 127; e++) {
            for (int k = 0; k < 12; k++) {
                float v = (float) (Math.scalb(1.0, e) * (1 + (k < 4 ? k / 4.0 : random.nextDouble())));
                xs.add(v);
                xs.add(-v);
            }
        }
        for (int i = 0; i < 200_000; i++) {
            xs.add((float) (random.nextDouble(-30, 30)));
        }
        for (int i = 0; i < 50_000; i++) {
            xs.add((float) (random.nextDouble(-3, 3)));
        }
        float[] out = new float[xs.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = xs.get(i);
        }
        return out;
    }

    @Test
    void everyElementwiseOpIsWithinItsUlpBound() {
        List<String> failures = new ArrayList<>();
        StringBuilder report = new StringBuilder();
        for (Op op : Op.ELEMENTWISE) {
            Activation act = op.defaults();
            float[] y = compute(act, true);
            float[] dx = compute(act, false);
            long worstF = 0;
            long worstB = 0;
            float atF = 0;
            float atB = 0;
            for (int i = 0; i < inputs.length; i++) {
                long uf = Ulps.between(y[i], act.reference(inputs[i]));
                long ub = Ulps.between(dx[i], act.referenceDerivative(inputs[i]));
                if (uf > worstF) {
                    worstF = uf;
                    atF = inputs[i];
                }
                if (ub > worstB) {
                    worstB = ub;
                    atB = inputs[i];
                }
            }
            report.append(String.format("%-12s fwd %6d ULP at %-14s bwd %6d ULP at %s%n", op.id(), worstF, atF, worstB, atB));
            if (worstF > 4 || worstB > 8) {
                failures.add(op.id());
            }
        }
        System.out.print(report);
        assertThat(failures).as(report.toString()).isEmpty();
    }

    private static float[] compute(Activation act, boolean forward) {
        try (DeviceBuffer x = backend.upload(inputs); DeviceBuffer out = backend.allocate(inputs.length)) {
            if (forward) {
                backend.apply(act, x, out);
            } else {
                float[] ones = new float[inputs.length];
                java.util.Arrays.fill(ones, 1f);
                try (DeviceBuffer dy = backend.upload(ones)) {
                    backend.applyBackward(act, x, dy, out);
                }
            }
            return out.toArray();
        }
    }
}
