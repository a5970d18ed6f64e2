package dev.gpuact.cli;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.OutOfDeviceMemoryException;
import dev.gpuact.Param;
import dev.gpuact.RowLayout;
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
 * What {@code apply} and {@code grad} share: the op and its parameters, the input, PReLU's weight and channel axis,
 * and how an array's shape maps onto a backend call.
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
            description = "prelu only: the axis of x that indexes the weight (default ${DEFAULT-VALUE}; negative counts from the end).")
    int channelAxis;

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

    /** Options that belong to PReLU alone are an error with any other op, rather than silently ignored. */
    void rejectPreluOptionsUnlessPrelu(String... extraOptions) {
        if (op == Op.PRELU) {
            if (weight == null) {
                throw new BadInputException("prelu needs --weight W.npy (1-D: one slope per channel, or one for all)");
            }
            return;
        }
        List<String> options = new ArrayList<>(List.of("--weight", "--channel-axis"));
        options.addAll(List.of(extraOptions));
        for (String option : options) {
            if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                throw new BadInputException(option + " is only for prelu, not " + op.id());
            }
        }
    }

    /** Checks that {@code activation} can run on {@code x} (and {@code w} for PReLU) and works out how. */
    Geometry geometry(Activation activation, Shape x, Shape w) {
        return switch (op.kind()) {
            case ELEMENTWISE -> new Geometry(x, x, null, 0, 0);
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

    private Geometry channelGeometry(Shape x, Shape w) {
        if (w.rank() != 1 || w.dim(0) == 0) {
            throw new BadInputException("--weight " + weight + " must be 1-D with at least one slope, but has shape " + w);
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
            throw new BadInputException("--weight " + weight + " has " + channels + " channels but axis " + axis
                    + " of --in " + in + " (shape " + x + ") has " + x.dim(axis));
        }
        // An empty array has inner 0 somewhere; any inner >= 1 then describes its zero elements.
        long inner = Math.max(1, x.product(axis + 1, x.rank()));
        return new Geometry(x, x, null, channels, inner);
    }
}
