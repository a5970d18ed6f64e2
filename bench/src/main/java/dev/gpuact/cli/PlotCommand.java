package dev.gpuact.cli;

import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.report.ActivationPlot;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gpuact plot}: activation curves and their derivatives, computed on a backend, drawn side by side. */
@Command(name = "plot", mixinStandardHelpOptions = true,
        description = "Draws f(x) and f'(x) of elementwise activations, computed on a backend, to a PNG.")
final class PlotCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--op", required = true, split = ",", paramLabel = "NAME",
            description = "Elementwise activations to draw (repeat or comma-separate).")
    List<Op> ops;

    @Mixin
    BackendOption backend;

    @Option(names = "--from", defaultValue = "-6", description = "Left end of x (default: ${DEFAULT-VALUE}).")
    double from;

    @Option(names = "--to", defaultValue = "6", description = "Right end of x (default: ${DEFAULT-VALUE}).")
    double to;

    @Option(names = "--points", defaultValue = "1201", description = "Points per curve (default: ${DEFAULT-VALUE}).")
    int points;

    @Option(names = "--out", required = true, paramLabel = "FILE.png", description = "The PNG to write.")
    Path out;

    @Override
    public Integer call() throws IOException {
        for (Op op : ops) {
            if (op.kind() != Op.Kind.ELEMENTWISE) {
                throw new BadInputException("--op: " + op.id() + " is not elementwise (it has no curve of one variable"
                        + (op == Op.PRELU ? ": its slope is a weight per channel; plot leaky_relu for one slope)" : ")"));
            }
        }
        // x is computed in float32, so the range must be one float32 can hold, with distinct ends.
        if (!(Math.abs(from) <= Float.MAX_VALUE && Math.abs(to) <= Float.MAX_VALUE && (float) from < (float) to)) {
            throw new BadInputException("--from must be below --to, both finite float32 values (|x| <= "
                    + Float.MAX_VALUE + "); got " + from + " and " + to);
        }
        if (points < 2 || points > 1_000_000) {
            throw new BadInputException("--points must be in [2, 1000000], got " + points);
        }
        if (!out.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png")) {
            throw new BadInputException("--out must name a .png file, got " + out);
        }
        StagedOutputs.checkWritable("--out", out);
        float[] x = new float[points];
        for (int i = 0; i < points; i++) {
            x[i] = (float) (from + (to - from) * i / (points - 1));
        }
        float[] ones = new float[points];
        java.util.Arrays.fill(ones, 1f);
        try (Backend b = backend.open(); DeviceBuffer dx = b.upload(x); DeviceBuffer dOnes = b.upload(ones);
             DeviceBuffer y = b.allocate(points); DeviceBuffer grad = b.allocate(points);
             StagedOutputs outputs = new StagedOutputs()) {
            ActivationPlot plot = new ActivationPlot(x, shortDevice(b));
            for (Op op : ops) {
                b.apply(op.defaults(), dx, y);
                b.applyBackward(op.defaults(), dx, dOnes, grad);
                plot.add(op.defaults().toString(), y.toArray(), grad.toArray());
            }
            outputs.write("--out", out, plot::write);
            outputs.commit();
        }
        spec.commandLine().getOut().println("wrote " + out);
        return 0;
    }

    /** The title must fit half an image: the backend and the device's name up to its first parenthesis. */
    private static String shortDevice(Backend b) {
        String device = b.device();
        int cut = device.indexOf(" (");
        String name = cut > 0 ? device.substring(0, cut) : device;
        return b.name() + ": " + (name.length() > 40 ? name.substring(0, 40) + "..." : name);
    }
}
