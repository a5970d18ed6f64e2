package dev.gpuact.cli;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gpuact grad}: the backward pass dx = dy * f'(x) (and PReLU's weight gradient), from x or, with
 * {@code --from-output}, from the saved output y (softmax and elementwise ops have the same shape in and out).
 */
@Command(name = "grad", mixinStandardHelpOptions = true,
        header = "The backward pass: dx = dy * f'(x) from .npy files.",
        description = "The backward pass: from the forward input x and the upstream gradient dy (shaped like the output of "
                + "apply), writes dx shaped like x; for prelu also the weight gradient. With --from-output, --in is the "
                + "forward output y instead (as autograd saves it), for the functions whose derivative is a function of "
                + "y: sigmoid, tanh, the relu family, elu/selu/celu, hardtanh, softsign, logsigmoid, softmax, "
                + "log_softmax and a few more (gpuact says so for the others).")
final class GradCommand extends OpCommand {
    @Option(names = "--grad", required = true, paramLabel = "DY.npy", description = "The upstream gradient dy, shaped like f(x).")
    Path grad;

    @Option(names = "--out", required = true, paramLabel = "DX.npy", description = "Where dx goes; written only on success.")
    Path out;

    @Option(names = "--from-output", description = "--in is the forward output y = f(x), not x.")
    boolean fromOutput;

    @Option(names = "--out-weight-grad", paramLabel = "DW.npy", description = "prelu only: where the weight gradient goes.")
    Path outWeightGrad;

    @Override
    public Integer call() throws IOException {
        Activation activation = activation();
        rejectPreluOptionsUnlessPrelu("--out-weight-grad");
        if (fromOutput && !activation.hasBackwardFromOutput()) {
            throw new BadInputException("--from-output: " + activation + " has no backward pass from its output (its "
                    + "derivative is not a function of y); give x as --in without --from-output");
        }
        StagedOutputs.checkWritable("--out", out);
        if (outWeightGrad != null) {
            StagedOutputs.checkWritable("--out-weight-grad", outWeightGrad);
            StagedOutputs.checkDistinct("--out", out, "--out-weight-grad", outWeightGrad);
        }
        try (NpyInput xFile = NpyInput.open("--in", in);
             NpyInput dyFile = NpyInput.open("--grad", grad);
             NpyInput wFile = op == Op.PRELU ? NpyInput.open("--weight", weight) : null) {
            Geometry g = geometry(activation, xFile.shape(), wFile == null ? null : wFile.shape());
            if (!dyFile.shape().equals(g.output())) {
                throw new BadInputException("--grad " + grad + " has shape " + dyFile.shape() + " but " + op.id()
                        + " of --in's shape " + g.input() + " gives shape " + g.output());
            }
            try (Backend b = backend.open();
                 DeviceBuffer x = xFile.upload(b);
                 DeviceBuffer dy = dyFile.upload(b);
                 DeviceBuffer w = wFile == null ? null : wFile.upload(b);
                 DeviceBuffer dw = wFile == null ? null : allocateOutput(b, "--out-weight-grad", outWeightGrad,
                         wFile.shape());
                 DeviceBuffer dx = allocateOutput(b, "--out", out, g.input());
                 StagedOutputs outputs = new StagedOutputs()) {
                switch (op.kind()) {
                    case ELEMENTWISE -> {
                        if (fromOutput) {
                            b.applyBackwardFromOutput(activation, x, dy, dx);
                        } else {
                            b.applyBackward(activation, x, dy, dx);
                        }
                    }
                    case ROWWISE -> {
                        if (fromOutput) {
                            b.applyRowsBackwardFromOutput(activation, x, dy, dx, g.rows());
                        } else {
                            b.applyRowsBackward(activation, x, dy, dx, g.rows());
                        }
                    }
                    case CHANNELWISE -> b.preluBackward(x, w, dy, dx, dw, g.channels(), g.inner());
                    case GATED -> b.gatedBackward(activation, x, dy, dx, g.rows().rows(), g.rows().yStride());
                }
                outputs.write("--out", out, g.input(), dx);
                if (outWeightGrad != null) {
                    outputs.write("--out-weight-grad", outWeightGrad, wFile.shape(), dw);
                }
                outputs.commit();
            }
        }
        return 0;
    }
}
