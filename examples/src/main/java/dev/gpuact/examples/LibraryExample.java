package dev.gpuact.examples;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import java.util.Arrays;

/** Activations forward and backward, softmax rows and PReLU on the best backend of this machine. */
public final class LibraryExample {
    public static void main(String[] args) {
        int rows = 4;
        int cols = 8;                                             // a [4, 8] batch: 4 rows of 8 channels
        float[] hostFloats = new float[rows * cols];
        for (int i = 0; i < hostFloats.length; i++) {
            hostFloats[i] = (i - 16) / 4f;                        // -4.0 .. 3.75
        }
        float[] upstream = new float[hostFloats.length];          // dL/dy from the next layer
        Arrays.fill(upstream, 1f);
        float[] slopes = {0.01f, 0.02f, 0.05f, 0.1f, 0.1f, 0.2f, 0.25f, 0.3f};  // PReLU: one per channel
        float[] hostOut = new float[hostFloats.length];

        try (Backend gpu = Backends.best();                       // or Backends.get("cuda"); -Dgpuact.backend=cpu
             DeviceBuffer x = gpu.upload(hostFloats);
             DeviceBuffer y = gpu.allocate(hostFloats.length);
             DeviceBuffer dy = gpu.upload(upstream);
             DeviceBuffer dx = gpu.allocate(hostFloats.length);
             DeviceBuffer weight = gpu.upload(slopes)) {
            System.out.println("backend: " + gpu.name() + " (" + gpu.device() + ")");

            gpu.apply(Activation.GELU, x, y);                     // y = gelu(x); in place (y == x) is allowed
            gpu.applyBackward(Activation.GELU, x, dy, dx);        // dx = dy * gelu'(x)
            printFirstRow("gelu", y, cols);
            printFirstRow("gelu'", dx, cols);
            gpu.apply(Activation.leakyRelu(0.2), x, y);           // parameters by factory, or by name:
            gpu.apply(Activation.ELU.with("alpha", 0.5), x, y);

            gpu.softmax(x, y, rows, cols);                        // row-wise, default temperature
            printFirstRow("softmax", y, cols);
            gpu.applyRows(Activation.softmax(0.7, true), x, y,    // temperature 0.7, NaN for fully masked rows,
                          new RowLayout(rows / 2, cols, 2 * cols, 2 * cols));  // on every other row

            gpu.prelu(x, weight, y, cols, 1);                     // [N, C]: inner = 1; NCHW: inner = H * W
            y.download(hostOut);
            System.out.println("prelu: " + Arrays.toString(Arrays.copyOf(hostOut, cols)));
        }
    }

    private static void printFirstRow(String what, DeviceBuffer buffer, int cols) {
        float[] row = new float[cols];
        buffer.read(0, row, 0, cols);
        System.out.println(what + ": " + Arrays.toString(row));
    }
}
