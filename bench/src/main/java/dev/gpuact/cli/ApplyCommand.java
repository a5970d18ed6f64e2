package dev.gpuact.cli;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gpuact apply}: y = f(x), or f(x + b) with {@code --bias}, for a .npy array. */
@Command(name = "apply", mixinStandardHelpOptions = true,
        header = "Applies an activation to a .npy array and writes the result as .npy.",
        description = "Applies an activation to a float32 or float16 .npy array (either byte order) and writes the result "
                + "as .npy of the same type: float16 is computed in float32 and rounded once. Elementwise ops act on "
                + "every element (after adding --bias, if given); softmax, log_softmax and maxout on the last axis, "
                + "softmax and log_softmax under --mask, --lengths and --causal if given; the gated ops (glu, swiglu, "
                + "geglu, geglu_tanh, reglu) take a last axis of 2H, the halves a and b, and give one of H.")
final class ApplyCommand extends OpCommand {
    @Option(names = "--out", required = true, paramLabel = "Y.npy", description = "Where y goes; written only on success.")
    Path out;

    @Override
    public Integer call() throws IOException {
        Activation activation = activation();
        rejectChannelOptionsOutOfPlace(null, null);
        masked();
        StagedOutputs.checkWritable("--out", out);
        try (NpyInput xFile = NpyInput.open("--in", in);
             NpyInput wFile = openPerChannel();
             NpyInput maskFile = openMask()) {
            Geometry g = geometry(activation, xFile.shape(), wFile == null ? null : wFile.shape());
            try (Backend b = backend.open();
                 DeviceBuffer x = xFile.upload(b);
                 DeviceBuffer w = wFile == null ? null : wFile.upload(b);
                 DeviceBuffer y = allocateOutput(b, "--out", out, g.output());
                 DeviceBuffer m = maskFile == null ? null : maskFile.upload(b);
                 StagedOutputs outputs = new StagedOutputs()) {
                switch (op.kind()) {
                    case ELEMENTWISE -> {
                        if (w == null) {
                            b.apply(activation, x, y);
                        } else {
                            b.applyBias(activation, x, w, y, g.channels(), g.inner());
                        }
                    }
                    case ROWWISE -> b.applyRows(activation, x, y, g.rows(), rowMask(g.input(), g.rows(), maskFile, m));
                    case CHANNELWISE -> b.prelu(x, w, y, g.channels(), g.inner());
                    case GATED -> b.gated(activation, x, y, g.rows().rows(), g.rows().yStride());
                }
                outputs.write("--out", out, g.output(), xFile.type(), y);
                outputs.commit();
            }
        }
        return 0;
    }
}
