package dev.gpuact.cuda;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import dev.gpuact.conformance.Ulp;
import java.util.List;

/**
 * A quick run of every kind of kernel on the emulated device (one SM, so the long softmax path takes both of its
 * forms) against the cpu backend, for kernels-cuda/emulate.sh's mutation checks: exit status 0 when every result
 * agrees and the emulator saw no race, divergence or fault, 1 with the first problem otherwise. The tolerances
 * are loose (the JUnit tests hold the kernels to the contract); a mutation is a gross error.
 */
final class EmulatedKernelsProbe {
    private static final double FORWARD_ULP = 16;
    private static final double BACKWARD_RELATIVE = 1e-4;

    private EmulatedKernelsProbe() {
    }

    public static void main(String[] args) {
        String problem = EmulatorLibrary.load();
        if (problem == null) {
            // Without opt-in shared memory the block path ends at 12,160 columns, so 13,640 reach the long path (in
            // two chunks of one row, the second starting at a column within 0.02 of the row's max, so a chunk that
            // runs one column long shows).
            try (CudaBackend cuda = EmulatedCudaProvider.open(1, new EmulatedDriver(SoftmaxPlan.DEFAULT_SHARED_BYTES));
                 Backend cpu = Backends.get("cpu")) {
                problem = firstDisagreement(cuda, cpu);
            } catch (RuntimeException e) {
                problem = e.toString();
            }
        }
        System.out.println(problem == null ? "agrees" : "caught: " + problem);
        System.exit(problem == null ? 0 : 1);
    }

    private static String firstDisagreement(Backend cuda, Backend cpu) {
        float[] x = new float[3 * 13_640 + 1];
        float[] dy = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (Math.sin(i * 0.37) * 6 + Math.cos(i * 0.011) * 3);
            dy[i] = (float) Math.cos(i * 0.29);
        }
        for (Activation act : List.of(Activation.RELU, Activation.TANH)) {
            String p = compare(act + " forward", run(cuda, act, x, dy, null, false), run(cpu, act, x, dy, null, false), false);
            p = p != null ? p : compare(act + " backward", run(cuda, act, x, dy, null, true), run(cpu, act, x, dy, null, true), true);
            if (p != null) {
                return p;
            }
        }
        String p = compare("prelu dweight", preluWeightGradient(cuda, x, dy), preluWeightGradient(cpu, x, dy), true);
        if (p != null) {
            return p;
        }
        RowLayout maxout = RowLayout.of(30, 900, 300);
        p = compare("maxout forward", run(cuda, Activation.maxout(3), x, dy, maxout, false),
                run(cpu, Activation.maxout(3), x, dy, maxout, false), false);
        if (p != null) {
            return p;
        }
        for (long cols : new long[] {3, 17, 33, 100, 513, 2000, 9000, 13_640}) {
            // Three rows fill one SM; 40 of 513 columns make a block take several rows in turn.
            for (long rows : cols == 513 ? new long[] {1, 3, 40} : new long[] {1, 3}) {
                RowLayout layout = RowLayout.of(rows, cols);
                for (Activation act : List.of(Activation.SOFTMAX, Activation.LOG_SOFTMAX)) {
                    for (boolean backward : new boolean[] {false, true}) {
                        p = compare(act + (backward ? " backward " : " forward ") + rows + "x" + cols,
                                run(cuda, act, x, dy, layout, backward), run(cpu, act, x, dy, layout, backward), backward);
                        if (p != null) {
                            return p;
                        }
                    }
                }
            }
        }
        return null;
    }

    /** Elementwise when {@code layout} is null, else row-wise. */
    private static float[] run(Backend b, Activation act, float[] x, float[] dy, RowLayout layout, boolean backward) {
        try (DeviceBuffer bx = b.upload(x); DeviceBuffer bdy = b.upload(dy); DeviceBuffer out = b.allocate(x.length)) {
            if (layout == null && backward) {
                b.applyBackward(act, bx, bdy, out);
            } else if (layout == null) {
                b.apply(act, bx, out);
            } else if (backward) {
                b.applyRowsBackward(act, bx, bdy, out, layout);
            } else {
                b.applyRows(act, bx, out, layout);
            }
            return out.toArray();
        }
    }

    private static float[] preluWeightGradient(Backend b, float[] x, float[] dy) {
        try (DeviceBuffer bx = b.upload(x); DeviceBuffer w = b.upload(new float[] {0.25f, -0.5f, 2f});
             DeviceBuffer bdy = b.upload(dy); DeviceBuffer dx = b.allocate(x.length); DeviceBuffer dw = b.allocate(3)) {
            b.preluBackward(bx, w, bdy, dx, dw, 3, 100);
            return dw.toArray();
        }
    }

    private static String compare(String what, float[] got, float[] want, boolean relativeToLargest) {
        double largest = 0;
        for (float v : want) {
            largest = Float.isFinite(v) ? Math.max(largest, Math.abs(v)) : largest;
        }
        for (int i = 0; i < got.length; i++) {
            boolean bothNaN = Float.isNaN(got[i]) && Float.isNaN(want[i]);
            boolean close = relativeToLargest ? Math.abs(got[i] - want[i]) <= BACKWARD_RELATIVE * largest
                    : Ulp.distance(got[i], want[i]) <= FORWARD_ULP;
            if (!bothNaN && !close) {
                return what + ": element " + i + " is " + got[i] + ", cpu gives " + want[i];
            }
        }
        return null;
    }
}
