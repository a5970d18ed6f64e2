package dev.gpuact.cli;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.BackendProvider;
import dev.gpuact.Backends;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.Probe;
import dev.gpuact.RowLayout;
import dev.gpuact.RowMask;
import dev.gpuact.Stream;
import java.util.List;

/**
 * Backends that exist only on the test class path (META-INF/services), so the CLI's handling of an unusable
 * backend, of a backend failing unexpectedly, and of a backend computing wrongly can be tested on any machine.
 * All rank after cpu, so {@code auto} still picks cpu.
 */
final class TestProviders {
    private TestProviders() {
    }

    /** Never usable: selecting it by name must be a one-line error with this reason. */
    public static final class Unusable implements BackendProvider {
        static final String REASON = "no such device here (test-only provider)";

        @Override
        public String name() {
            return "test-unusable";
        }

        @Override
        public Probe probe() {
            return Probe.unusable(REASON, List.of("detail line of the test provider"));
        }

        @Override
        public Backend open() {
            throw new AssertionError("Backends opened an unusable backend");
        }
    }

    /** Usable but last in preference, and opening it fails: an internal error, exit 1. */
    public static final class Broken implements BackendProvider {
        static final String FAILURE = "driver crashed on open (test-only provider)";

        @Override
        public String name() {
            return "test-broken";
        }

        @Override
        public Probe probe() {
            return Probe.usable(Integer.MAX_VALUE - 1, "usable but fails to open (test-only provider)", List.of(), List.of());
        }

        @Override
        public Backend open() {
            throw new IllegalStateException(FAILURE);
        }
    }

    /** The CPU backend with a planted bug: sigmoid's forward result is 2^-18 too large, about 32 ULP. */
    public static final class Skewed implements BackendProvider {
        @Override
        public String name() {
            return "test-skewed";
        }

        @Override
        public Probe probe() {
            return Probe.usable(Integer.MAX_VALUE - 1, "cpu with a wrong sigmoid (test-only provider)", List.of(), List.of());
        }

        @Override
        public Backend open() {
            return new SkewedBackend(Backends.get("cpu"));
        }
    }

    private record SkewedBackend(Backend cpu) implements Backend {
        /** The cpu backend's stream: this double only changes what the backend's own apply writes. */
        @Override
        public Stream newStream() {
            return cpu.newStream();
        }

        @Override
        public void apply(Activation activation, DeviceBuffer x, DeviceBuffer y) {
            cpu.apply(activation, x, y);
            if (activation.op() == Op.SIGMOID) {
                float[] values = y.toArray();
                for (int i = 0; i < values.length; i++) {
                    values[i] *= 1 + 0x1p-18f;
                }
                y.upload(values);
            }
        }

        @Override
        public void gated(Activation gate, DeviceBuffer x, DeviceBuffer y, long rows, long hidden) {
            cpu.gated(gate, x, y, rows, hidden);
        }

        @Override
        public void gated(Activation gate, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y) {
            cpu.gated(gate, a, b, y);
        }

        @Override
        public void gatedBackward(Activation gate, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long rows,
                                  long hidden) {
            cpu.gatedBackward(gate, x, dy, dx, rows, hidden);
        }

        @Override
        public void gatedBackward(Activation gate, DeviceBuffer a, DeviceBuffer b, DeviceBuffer dy, DeviceBuffer da,
                                  DeviceBuffer db) {
            cpu.gatedBackward(gate, a, b, dy, da, db);
        }

        @Override
        public String name() {
            return "test-skewed";
        }

        @Override
        public String device() {
            return cpu.device();
        }

        @Override
        public DeviceBuffer allocate(DType dtype, long length) {
            return cpu.allocate(dtype, length);
        }

        @Override
        public void applyBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx) {
            cpu.applyBackward(activation, x, dy, dx);
        }

        @Override
        public void applyBackwardFromOutput(Activation activation, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx) {
            cpu.applyBackwardFromOutput(activation, y, dy, dx);
        }

        @Override
        public void applyRowsBackwardFromOutput(Activation activation, DeviceBuffer y, DeviceBuffer dy,
                                                DeviceBuffer dx, RowLayout layout) {
            cpu.applyRowsBackwardFromOutput(activation, y, dy, dx, layout);
        }

        @Override
        public void applyRows(Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout) {
            cpu.applyRows(activation, x, y, layout);
        }

        @Override
        public void applyRowsBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, RowLayout layout) {
            cpu.applyRowsBackward(activation, x, dy, dx, layout);
        }

        @Override
        public void applyRows(Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout, RowMask mask) {
            cpu.applyRows(activation, x, y, layout, mask);
        }

        @Override
        public void applyRowsBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx,
                                      RowLayout layout, RowMask mask) {
            cpu.applyRowsBackward(activation, x, dy, dx, layout, mask);
        }

        @Override
        public void prelu(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer y, long channels, long inner) {
            cpu.prelu(x, weight, y, channels, inner);
        }

        @Override
        public void preluBackward(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer dy, DeviceBuffer dx,
                                  DeviceBuffer dweight, long channels, long inner) {
            cpu.preluBackward(x, weight, dy, dx, dweight, channels, inner);
        }

        @Override
        public void applyBias(Activation activation, DeviceBuffer x, DeviceBuffer bias, DeviceBuffer y, long channels,
                              long inner) {
            cpu.applyBias(activation, x, bias, y, channels, inner);
        }

        @Override
        public void applyBiasBackward(Activation activation, DeviceBuffer x, DeviceBuffer bias, DeviceBuffer dy,
                                      DeviceBuffer dx, DeviceBuffer dbias, long channels, long inner) {
            cpu.applyBiasBackward(activation, x, bias, dy, dx, dbias, channels, inner);
        }

        @Override
        public MemoryStats memory() {
            return cpu.memory();
        }

        @Override
        public void close() {
            cpu.close();
        }
    }
}
