package dev.gpuact.cli;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.OutOfDeviceMemoryException;
import dev.gpuact.Param;
import dev.gpuact.RowLayout;
import dev.gpuact.RowMask;
import java.io.IOException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What {@code apply} and {@code grad} share: the op and its parameters, the input, PReLU's weight or an elementwise
 * op's bias and their channel axis, and how an array's shape maps onto a backend call.
 */
abstract class OpCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    BackendOption backend;

    @Option(names = "--op", required = true, paramLabel = "NAME",
            description = "The activation, e.g. gelu, leaky_relu, softmax (all of them: gpuact info).")
    Op op;

    @Option(names = "--param", paramLabel = "KEY=VALUE",
            description = "A parameter of the op, e.g. alpha=0.2; booleans take true/false/1/0. Repeatable, once per key.")
    List<String> params = new ArrayList<>();

    @Option(names = "--in", required = true, paramLabel = "X.npy", description = "The input x: float32 .npy, any shape, C order.")
    Path in;

    @Option(names = "--weight", paramLabel = "W.npy", description = "prelu only: the slopes, 1-D, one per channel (or one for all).")
    Path weight;

    @Option(names = "--channel-axis", paramLabel = "N", defaultValue = "1",
            description = "prelu and --bias only: the axis of x that indexes the weight or the bias (default "
                    + "${DEFAULT-VALUE}; negative counts from the end, -1 for a bias per last-axis column).")
    int channelAxis;

    @Option(names = "--bias", paramLabel = "B.npy", description = "Elementwise ops only: y = f(x + b), the bias added "
            + "in float32 first; 1-D, one per channel along --channel-axis (or one for all).")
    Path bias;

    /** How the input's shape maps onto the backend call, and the shape of the result. */
    record Geometry(Shape input, Shape output, RowLayout rows, long channels, long inner) {
    }

    /** The op with its {@code --param} values, checked. */
    Activation activation() {
        Map<String, Double> values = new LinkedHashMap<>();
        Map<String, String> given = new LinkedHashMap<>();
        for (String param : params) {
            int eq = param.indexOf('=');
            if (eq < 1) {
                throw new BadInputException("--param: expected KEY=VALUE, got '" + param + "'");
            }
            String key = param.substring(0, eq).trim();
            String text = param.substring(eq + 1);
            if (given.containsKey(key)) {
                throw new BadInputException("--param " + key + " is given twice ('" + given.get(key) + "' and '" + text
                        + "'); give each parameter once");
            }
            given.put(key, text);
            values.put(key, parseParam(key, text));
        }
        try {
            return Activation.of(op, values);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--param: " + e.getMessage());
        }
    }

    private double parseParam(String key, String text) {
        Param param = op.params().stream().filter(p -> p.name().equals(key)).findFirst()
                .orElseThrow(() -> new BadInputException("--param: " + op.id() + " has no parameter '" + key + "'; "
                        + (op.params().isEmpty() ? "it takes none" : "it takes " + op.params())));
        String value = text.trim();
        if (param.isBoolean()) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "true", "1" -> 1;
                case "false", "0" -> 0;
                default -> throw new BadInputException("--param " + key + ": expected true, false, 1 or 0, got '" + text + "'");
            };
        }
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new BadInputException("--param " + key + ": expected a number, got '" + text + "'");
        }
    }

    /**
     * A new buffer for an output of {@code shape}: one the backend cannot hold is bad input (exit 2), as an input
     * that does not fit is, not an internal error.
     */
    static DeviceBuffer allocateOutput(Backend backend, String option, Path path, Shape shape) {
        try {
            return backend.allocate(shape.count());
        } catch (IllegalArgumentException | OutOfDeviceMemoryException e) {
            throw new BadInputException(option + " " + path + ": the output of shape " + shape + " does not fit: "
                    + e.getMessage());
        }
    }

    /**
     * Options that belong to PReLU or to a bias alone are an error anywhere else, rather than silently ignored;
     * {@code preluOutput} and {@code biasOutput} are the command's own such options, or null.
     */
    void rejectChannelOptionsOutOfPlace(String preluOutput, String biasOutput) {
        if (op == Op.PRELU && weight == null) {
            throw new BadInputException("prelu needs --weight W.npy (1-D: one slope per channel, or one for all)");
        }
        if (bias != null && op.kind() != Op.Kind.ELEMENTWISE) {
            throw new BadInputException("--bias is only for elementwise ops, not " + op.id()
                    + (op == Op.PRELU ? "" : " (" + op.kind().toString().toLowerCase(Locale.ROOT) + ")"));
        }
        if (op != Op.PRELU) {
            rejectGiven(" is only for prelu, not " + op.id(), "--weight", preluOutput);
        }
        if (op != Op.PRELU && bias == null) {
            rejectGiven(" is only for prelu and --bias, not " + op.id() + " without --bias", "--channel-axis");
        }
        if (bias == null) {
            rejectGiven(" is only for --bias", biasOutput);
        }
    }

    private void rejectGiven(String why, String... options) {
        for (String option : options) {
            if (option != null && spec.commandLine().getParseResult().hasMatchedOption(option)) {
                throw new BadInputException(option + why);
            }
        }
    }

    /** The per-channel input, PReLU's --weight or the --bias, or null when the call takes none. */
    NpyInput openPerChannel() throws IOException {
        return op == Op.PRELU ? NpyInput.open("--weight", weight) : bias != null ? NpyInput.open("--bias", bias) : null;
    }

    /** Checks that {@code activation} can run on {@code x} (and {@code w}, PReLU's weight or the bias) and works out how. */
    Geometry geometry(Activation activation, Shape x, Shape w) {
        return switch (op.kind()) {
            case ELEMENTWISE -> w == null ? new Geometry(x, x, null, 0, 0) : channelGeometry(x, w);
            case ROWWISE -> rowGeometry(activation, x);
            case CHANNELWISE -> channelGeometry(x, w);
            case GATED -> gatedGeometry(x);
        };
    }

    /** [..., 2H] in, [..., H] out: the rows are the leading axes, and the layout's output width is H. */
    private Geometry gatedGeometry(Shape x) {
        if (x.rank() == 0) {
            throw new BadInputException(op.id() + " works along the last axis, but --in " + in
                    + " is a 0-d scalar; give it a last axis of two halves");
        }
        long width = x.dim(x.rank() - 1);
        if (width % 2 != 0) {
            throw new BadInputException(op.id() + ": the last axis of --in " + in + " (shape " + x + ") must be even: "
                    + "it holds the halves a and b");
        }
        return new Geometry(x, x.withLast(width / 2), RowLayout.of(x.product(0, x.rank() - 1), width, width / 2), 0, 0);
    }

    private Geometry rowGeometry(Activation activation, Shape x) {
        if (x.rank() == 0) {
            throw new BadInputException(op.id() + " works along the last axis, but --in " + in
                    + " is a 0-d scalar; give it at least one dimension");
        }
        long cols = x.dim(x.rank() - 1);
        long outCols = cols;
        if (op == Op.MAXOUT) {
            long pieces = (long) activation.param("pieces");
            if (cols % pieces != 0) {
                throw new BadInputException("maxout: pieces (" + pieces + ") must divide the last axis of --in " + in
                        + ", which has shape " + x);
            }
            outCols = cols / pieces;
        }
        return new Geometry(x, x.withLast(outCols), RowLayout.of(x.product(0, x.rank() - 1), cols, outCols), 0, 0);
    }

    /** The channel and inner sizes of PReLU's weight or the bias ({@code w}) along --channel-axis. */
    private Geometry channelGeometry(Shape x, Shape w) {
        String option = op == Op.PRELU ? "--weight " + weight : "--bias " + bias;
        if (w.rank() != 1 || w.dim(0) == 0) {
            throw new BadInputException(option + " must be 1-D with at least one " + (op == Op.PRELU ? "slope" : "value")
                    + ", but has shape " + w);
        }
        long channels = w.dim(0);
        if (channels == 1) {
            return new Geometry(x, x, null, 1, 1); // one slope shared by every element, whatever the shape
        }
        int axis = channelAxis < 0 ? channelAxis + x.rank() : channelAxis;
        if (axis < 0 || axis >= x.rank()) {
            throw new BadInputException("--channel-axis " + channelAxis + " is out of range for --in " + in + " of shape "
                    + x + (x.rank() == 1 ? "; use --channel-axis 0 for a 1-D input" : ""));
        }
        if (x.dim(axis) != channels) {
            throw new BadInputException(option + " has " + channels + " channels but axis " + axis
                    + " of --in " + in + " (shape " + x + ") has " + x.dim(axis));
        }
        // An empty array has inner 0 somewhere; any inner >= 1 then describes its zero elements.
        long inner = Math.max(1, x.product(axis + 1, x.rank()));
        return new Geometry(x, x, null, channels, inner);
    }

    // ---- masks of softmax and log_softmax ------------------------------------------------------------------------

    @Option(names = "--mask", paramLabel = "M.npy",
            description = "softmax/log_softmax: an additive float32 mask over the last axis, x's shape with trailing row "
                    + "axes of size 1 allowed (e.g. [B, 1, 1, K] for x of [B, H, Q, K]): one mask row per group of rows.")
    Path mask;

    @Option(names = "--lengths", paramLabel = "L.npy",
            description = "softmax/log_softmax: valid lengths (key padding), 1-D int32 or int64, one per group of "
                    + "rows / len(L) consecutive rows; the columns from a row's length on are masked.")
    Path lengths;

    @Option(names = "--causal", description = "softmax/log_softmax: row i of each [Q, K] matrix (the last two axes) "
            + "sees the columns j <= i + offset.")
    boolean causal;

    @Option(names = "--offset", paramLabel = "N", description = "With --causal: keys before the first query (default 0).")
    Long offset;

    /** Whether any mask option was given; they are only for softmax and log_softmax, and --offset needs --causal. */
    boolean masked() {
        boolean any = mask != null || lengths != null || causal;
        if (offset != null && !causal) {
            throw new BadInputException("--offset is only used with --causal");
        }
        if (any && op != Op.SOFTMAX && op != Op.LOG_SOFTMAX) {
            throw new BadInputException("--mask, --lengths and --causal are only for softmax and log_softmax, not "
                    + op.id());
        }
        return any;
    }

    /** The --mask file, or null without one. */
    NpyInput openMask() {
        return mask == null ? null : NpyInput.open("--mask", mask);
    }

    /** The {@link RowMask} of the options for x of shape {@code x}; {@code maskBuffer} holds --mask's data. */
    RowMask rowMask(Shape x, RowLayout rows, NpyInput maskFile, DeviceBuffer maskBuffer) {
        RowMask rowMask = RowMask.none();
        if (maskFile != null) {
            long maskRows = maskRows(x, maskFile.shape());
            rowMask = rowMask.add(maskBuffer, maskRows == 0 ? 1 : rows.rows() / maskRows);
        }
        if (lengths != null) {
            long[] values = readLengths(rows);
            rowMask = rowMask.lengths(values, values.length == 0 ? 1 : rows.rows() / values.length);
        }
        if (causal) {
            rowMask = rowMask.causal(offset == null ? 0 : offset, x.rank() >= 2 ? x.dim(x.rank() - 2) : 0);
        }
        return rowMask;
    }

    /**
     * Rows of the mask: its shape is x's, except that trailing row axes (before the last) may be 1, so that each
     * mask row serves a block of consecutive rows.
     */
    private long maskRows(Shape x, Shape m) {
        int rank = x.rank();
        boolean fits = m.rank() == rank && m.dim(rank - 1) == x.dim(rank - 1);
        int axis = rank - 2;
        while (fits && axis >= 0 && m.dim(axis) == 1) {
            axis--;
        }
        for (; fits && axis >= 0; axis--) {
            fits = m.dim(axis) == x.dim(axis);
        }
        if (!fits) {
            throw new BadInputException("--mask " + mask + " has shape " + m + " but --in " + in + " has shape " + x
                    + ": the mask must have x's shape, with trailing row axes of size 1 for a mask shared by those rows");
        }
        return m.product(0, rank - 1);
    }

    /** The lengths, 1-D int32 or int64, one per group of rows, none beyond the last axis. */
    private long[] readLengths(RowLayout rows) {
        long[] values;
        Shape shape;
        try (Npy.Reader reader = Npy.Reader.openIntegers(lengths)) {
            shape = reader.shape();
            if (shape.rank() != 1) {
                throw new BadInputException("--lengths " + lengths + " has shape " + shape + "; it must be 1-D");
            }
            values = reader.readIntegers();
        } catch (IOException e) {
            throw NpyInput.badFile("--lengths", lengths, e);
        }
        if (values.length == 0 ? rows.rows() != 0 : rows.rows() % values.length != 0) {
            throw new BadInputException("--lengths " + lengths + " holds " + values.length + " lengths, which do not "
                    + "divide the " + rows.rows() + " rows of --in " + in + " into equal groups");
        }
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 0 || values[i] > rows.cols()) {
                throw new BadInputException("--lengths " + lengths + ": length " + i + " is " + values[i]
                        + ", outside 0.." + rows.cols() + " (the last axis of --in " + in + ")");
            }
        }
        return values;
    }
}
