package dev.gpuact.measure;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import dev.gpuact.Stream;
import java.util.Locale;

/**
 * An activation applied to a flat batch of floats: an elementwise op, or a row-wise op on dense rows of
 * {@code rowWidth} elements. It names the cost that the benchmark measures and the model predicts,
 * e.g. {@code relu} or {@code softmax:32768}.
 */
public record Workload(Activation activation, long rowWidth) {
    /** The row width assumed for a row-wise op when none is given. */
    public static final long DEFAULT_ROW_WIDTH = 1024;

    public Workload {
        Op op = activation.op();
        if (op == Op.PRELU) {
            throw new IllegalArgumentException("prelu has a weight buffer and is not a workload; cost it as leaky_relu");
        }
        if (op.kind() == Op.Kind.GATED) {
            throw new IllegalArgumentException(op.id() + " is gated (two inputs of H per output) and not a workload of "
                    + "this model; its fused-versus-unfused cost is measured by the JMH GatedBenchmark");
        }
        if (op.isRowwise() == (rowWidth == 0)) {
            throw new IllegalArgumentException(op.id() + ": row width must be " + (op.isRowwise()
                    ? ">= 1 for a row-wise op" : "0 for an elementwise op") + ", got " + rowWidth);
        }
        if (op == Op.MAXOUT && rowWidth % (long) activation.param("pieces") != 0) {
            throw new IllegalArgumentException("maxout: pieces (" + (long) activation.param("pieces")
                    + ") must divide the row width (" + rowWidth + ")");
        }
    }

    /**
     * The workload of an activation: elementwise as is, row-wise on rows of {@link #DEFAULT_ROW_WIDTH}; PReLU is
     * costed as leaky_relu, which moves the same bytes.
     */
    public static Workload of(Activation activation) {
        Op op = activation.op();
        if (op == Op.PRELU) {
            return new Workload(Activation.LEAKY_RELU, 0);
        }
        return new Workload(activation, op.isRowwise() ? DEFAULT_ROW_WIDTH : 0);
    }

    /**
     * Parses {@code NAME} or {@code NAME:ROW_WIDTH} (row-wise ops only) with the op's default parameters.
     *
     * @throws IllegalArgumentException saying what is wrong with {@code spec}
     */
    public static Workload parse(String spec) {
        String text = spec.trim().toLowerCase(Locale.ROOT);
        int colon = text.indexOf(':');
        Op op = Op.byName(colon < 0 ? text : text.substring(0, colon));
        if (colon < 0) {
            return of(op.defaults());
        }
        if (!op.isRowwise()) {
            throw new IllegalArgumentException("'" + spec + "': a row width is only for row-wise ops (softmax, "
                    + "log_softmax, maxout), and " + op.id() + " is not one");
        }
        String width = text.substring(colon + 1);
        long rowWidth;
        try {
            rowWidth = Long.parseLong(width);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + spec + "': row width must be a whole number, got '" + width + "'");
        }
        if (rowWidth < 1) {
            throw new IllegalArgumentException("'" + spec + "': row width must be >= 1, got " + rowWidth);
        }
        return new Workload(op.defaults(), rowWidth);
    }

    /** {@code relu}, {@code softmax:1024}. */
    public String key() {
        return rowWidth == 0 ? activation.op().id() : activation.op().id() + ":" + rowWidth;
    }

    /** The elements this workload really processes for a batch of {@code n}: whole rows only; 0 if not one fits. */
    public long elementsFor(long n) {
        return rowWidth == 0 ? n : n / rowWidth * rowWidth;
    }

    /** Output elements for {@code n} input elements (maxout shrinks each row). */
    public long outputLength(long n) {
        return activation.op() == Op.MAXOUT ? n / (long) activation.param("pieces") : n;
    }

    /** The layout of {@code n} elements ({@link #elementsFor} of them) as rows. */
    public RowLayout layout(long n) {
        return RowLayout.of(n / rowWidth, rowWidth, rowWidth / (activation.op() == Op.MAXOUT
                ? (long) activation.param("pieces") : 1));
    }

    /** Runs the workload synchronously on all of {@code x} into {@code y}. */
    public void run(Backend backend, DeviceBuffer x, DeviceBuffer y) {
        if (rowWidth == 0) {
            backend.apply(activation, x, y);
        } else {
            backend.applyRows(activation, x, y, layout(x.length()));
        }
    }

    /** Enqueues the workload on all of {@code x} into {@code y}. */
    public void enqueue(Stream stream, DeviceBuffer x, DeviceBuffer y) {
        if (rowWidth == 0) {
            stream.apply(activation, x, y);
        } else {
            stream.applyRows(activation, x, y, layout(x.length()));
        }
    }

    @Override
    public String toString() {
        return key();
    }
}
