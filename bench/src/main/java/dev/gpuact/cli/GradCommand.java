package dev.gpuact.cli;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gpuact grad}: the backward pass dx = dy * f'(x) (and PReLU's weight gradient; with {@code --bias},
 * dx = dy * f'(x + b) and the bias gradient), from x or, with
 * {@code --from-output}, from the saved output y (softmax and elementwise ops have the same shape in and out).
 */
@Command(name = "grad", mixinStandardHelpOptions = true,
        header = "The backward pass: dx = dy * f'(x) from .npy files.",
        description = "The backward pass: from the forward input x and the upstream gradient dy (shaped like the output of "
                + "apply), writes dx shaped like x; for prelu also the weight gradient, with --bias also the bias gradient. With --from-output, --in is the "
                + "forward output y instead (as autograd saves it), for the functions whose derivative is a function of "
                + "y: sigmoid, tanh, the relu family, elu/selu/celu, hardtanh, softsign, logsigmoid, softmax, "
                + "log_softmax and a few more (gpuact says so for the others). Files may be float32 or float16; dx is "
                + "written in the type of --in, the weight gradient in that of --weight.")
final class GradCommand extends OpCommand {
    @Option(names = "--grad", required = true, paramLabel = "DY.npy", description = "The upstream gradient dy, shaped like f(x).")
    Path grad;

    @Option(names = "--out", required = true, paramLabel = "DX.npy", description = "Where dx goes; written only on success.")
    Path out;

    @Option(names = "--from-output", description = "--in is the forward output y = f(x), not x.")
    boolean fromOutput;

    @Option(names = "--out-weight-grad", paramLabel = "DW.npy", description = "prelu only: where the weight gradient goes.")
    Path outWeightGrad;

    @Option(names = "--out-bias-grad", paramLabel = "DB.npy", description = "--bias only: where the bias gradient goes "
            + "(dx summed per channel).")
    Path outBiasGrad;

    @Override
    public Integer call() throws IOException {
        Activation activation = activation();
        rejectChannelOptionsOutOfPlace("--out-weight-grad", "--out-bias-grad");
        if (fromOutput && bias != null) {
            throw new BadInputException("--from-output: the backward pass of --bias takes the forward input x as --in");
        }
        if (masked() && fromOutput) {
            throw new BadInputException("--from-output takes no --mask, --lengths or --causal: the saved output y "
                    + "already carries the mask");
        }
        if (fromOutput && !activation.hasBackwardFromOutput()) {
            throw new BadInputException("--from-output: " + activation + " has no backward pass from its output (its "
                    + "derivative is not a function of y); give x as --in without --from-output");
        }
        StagedOutputs.checkWritable("--out", out);
        Path perChannelOut = outWeightGrad != null ? outWeightGrad : outBiasGrad;
        String perChannelOption = outWeightGrad != null ? "--out-weight-grad" : "--out-bias-grad";
        if (perChannelOut != null) {
            StagedOutputs.checkWritable(perChannelOption, perChannelOut);
            StagedOutputs.checkDistinct("--out", out, perChannelOption, perChannelOut);
        }
        try (NpyInput xFile = NpyInput.open("--in", in);
             NpyInput dyFile = NpyInput.open("--grad", grad);
             NpyInput wFile = openPerChannel();
             NpyInput maskFile = openMask()) {
            Geometry g = geometry(activation, xFile.shape(), wFile == null ? null : wFile.shape());
            if (!dyFile.shape().equals(g.output())) {
                throw new BadInputException("--grad " + grad + " has shape " + dyFile.shape() + " but " + op.id()
                        + " of --in's shape " + g.input() + " gives shape " + g.output());
            }
            try (Backend b = backend.open();
                 DeviceBuffer x = xFile.upload(b);
                 DeviceBuffer dy = dyFile.upload(b);
                 DeviceBuffer w = wFile == null ? null : wFile.upload(b);
                 DeviceBuffer dw = wFile == null ? null : allocateOutput(b, perChannelOption, perChannelOut,
                         wFile.shape());
                 DeviceBuffer dx = allocateOutput(b, "--out", out, g.input());
                 DeviceBuffer m = maskFile == null ? null : maskFile.upload(b);
                 StagedOutputs outputs = new StagedOutputs()) {
                switch (op.kind()) {
                    case ELEMENTWISE -> {
                        if (w != null) {
                            b.applyBiasBackward(activation, x, w, dy, dx, dw, g.channels(), g.inner());
                        } else if (fromOutput) {
                            b.applyBackwardFromOutput(activation, x, dy, dx);
                        } else {
                            b.applyBackward(activation, x, dy, dx);
                        }
                    }
                    case ROWWISE -> {
                        if (fromOutput) {
                            b.applyRowsBackwardFromOutput(activation, x, dy, dx, g.rows());
                        } else {
                            b.applyRowsBackward(activation, x, dy, dx, g.rows(),
                                    rowMask(g.input(), g.rows(), maskFile, m));
                        }
                    }
                    case CHANNELWISE -> b.preluBackward(x, w, dy, dx, dw, g.channels(), g.inner());
                    case GATED -> b.gatedBackward(activation, x, dy, dx, g.rows().rows(), g.rows().yStride());
                }
                outputs.write("--out", out, g.input(), xFile.type(), dx);
                if (perChannelOut != null) {
                    outputs.write(perChannelOption, perChannelOut, wFile.shape(), wFile.type(), dw);
                }
                outputs.commit();
            }
        }
        return 0;
    }
}
