package dev.gpuact.cli;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gpuact apply}: y = f(x) for a .npy array. */
@Command(name = "apply", mixinStandardHelpOptions = true,
        header = "Applies an activation to a float32 .npy array and writes the result as .npy.",
        description = "Applies an activation to a float32 .npy array and writes the result as .npy. Elementwise ops act on "
                + "every element; softmax, log_softmax and maxout on the last axis; the gated ops (glu, swiglu, geglu, "
                + "geglu_tanh, reglu) take a last axis of 2H, the halves a and b, and give one of H.")
final class ApplyCommand extends OpCommand {
    @Option(names = "--out", required = true, paramLabel = "Y.npy", description = "Where y goes; written only on success.")
    Path out;

    @Override
    public Integer call() throws IOException {
        Activation activation = activation();
        rejectPreluOptionsUnlessPrelu();
        StagedOutputs.checkWritable("--out", out);
        try (NpyInput xFile = NpyInput.open("--in", in);
             NpyInput wFile = op == Op.PRELU ? NpyInput.open("--weight", weight) : null) {
            Geometry g = geometry(activation, xFile.shape(), wFile == null ? null : wFile.shape());
            try (Backend b = backend.open();
                 DeviceBuffer x = xFile.upload(b);
                 DeviceBuffer w = wFile == null ? null : wFile.upload(b);
                 DeviceBuffer y = allocateOutput(b, "--out", out, g.output());
                 StagedOutputs outputs = new StagedOutputs()) {
                switch (op.kind()) {
                    case ELEMENTWISE -> b.apply(activation, x, y);
                    case ROWWISE -> b.applyRows(activation, x, y, g.rows());
                    case CHANNELWISE -> b.prelu(x, w, y, g.channels(), g.inner());
                    case GATED -> b.gated(activation, x, y, g.rows().rows(), g.rows().yStride());
                }
                outputs.write("--out", out, g.output(), y);
                outputs.commit();
            }
        }
        return 0;
    }
}
