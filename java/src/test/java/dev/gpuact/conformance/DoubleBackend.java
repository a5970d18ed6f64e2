package dev.gpuact.conformance;

import dev.gpuact.Activation;
import dev.gpuact.DType;
import dev.gpuact.Op;
import dev.gpuact.Reference;
import dev.gpuact.RowLayout;
import dev.gpuact.RowMask;
import dev.gpuact.spi.AbstractBackend;
import dev.gpuact.spi.AbstractBuffer;
import dev.gpuact.spi.GatedLayout;
import dev.gpuact.spi.WorkQueue;

/**
 * A test backend that computes everything in double and rounds once, so it should pass every check with at
 * most 1 ULP of error; a {@link Defect} plants one known bug, which the checks must then report.
 */
final class DoubleBackend extends AbstractBackend<WorkQueue> {
    enum Defect {
        NONE,
        /** relu as fmaxf(0, x): NaN becomes 0. */
        RELU_NAN_TO_ZERO,
        /** gelu as 0.5 x (1 + erf(x / sqrt 2)) in float: cancels below -5. */
        GELU_ONE_PLUS_ERF,
        /** tanh rounded through a coarse float: 64 ULP off everywhere. */
        TANH_COARSE,
        /** sigmoid result flushed to zero where it is subnormal. */
        SIGMOID_FLUSHES_SUBNORMALS,
        /** softmax exponentiates without subtracting the row max: overflows at +10000. */
        SOFTMAX_NO_MAX_SHIFT,
        /** softmax writes zeros into the row padding of y. */
        SOFTMAX_WRITES_PADDING,
        /** maxout backward routes dy to the last maximum of a tie. */
        MAXOUT_LAST_MAXIMUM,
        /** prelu dweight adds to what the buffer held instead of overwriting it. */
        PRELU_DWEIGHT_ACCUMULATES,
        /** gelu backward rounds differently after its first call: not deterministic. */
        GELU_BACKWARD_NONDETERMINISTIC,
        /** sigmoid backward from y as y - y^2 in float: cancels where y is near 1. */
        SIGMOID_FROM_OUTPUT_IN_FLOAT,
        /** causal rows see one column beyond i + offset. */
        CAUSAL_ONE_TOO_MANY,
        /** bias and activation take channel i % channels, as if inner were 1. */
        BIAS_IGNORES_INNER,
        /** dbias adds to what the buffer held instead of overwriting it. */
        BIAS_DBIAS_ACCUMULATES,
        /** swiglu activates the second half instead of the first. */
        SWIGLU_GATES_SECOND_HALF,
        /** float16 outputs rounded through bfloat16 first: 3 significand bits lost. */
        FLOAT16_THROUGH_BFLOAT16,
    }

    private final Defect defect;
    private int calls;

    DoubleBackend(Defect defect) {
        super("double");
        this.defect = defect;
    }

    private static final class Heap extends AbstractBuffer.Memory {
        final float[] data;

        Heap(int length) {
            super(4L * length);
            data = new float[length];
        }

        @Override
        protected void free() {
        }
    }

    private static final class HeapBuffer extends AbstractBuffer {
        HeapBuffer(DoubleBackend backend, DType dtype, long length) {
            super(backend, dtype, length, new Heap((int) length));
        }

        float[] data() {
            return ((Heap) memory()).data;
        }
    }

    private static float[] data(AbstractBuffer b) {
        return ((HeapBuffer) b).data();
    }

    @Override
    protected AbstractBuffer newBuffer(DType dtype, long length) {
        return new HeapBuffer(this, dtype, length);
    }

    @Override
    protected WorkQueue ownQueue() {
        return WorkQueue.IMMEDIATE;
    }

    @Override
    protected void computeWrite(WorkQueue queue, AbstractBuffer dst, long offset, float[] src, int srcOffset,
                                int count) {
        System.arraycopy(src, srcOffset, data(dst), (int) offset, count);
    }

    @Override
    protected void computeRead(WorkQueue queue, AbstractBuffer src, long offset, float[] dst, int dstOffset,
                               int count) {
        System.arraycopy(data(src), (int) offset, dst, dstOffset, count);
    }

    /** A 16-bit buffer holds its values widened: this backend checks the checks, not the storage. */
    @Override
    protected void computeConvert(WorkQueue queue, AbstractBuffer src, AbstractBuffer dst, long n) {
        boolean lossy = defect == Defect.FLOAT16_THROUGH_BFLOAT16 && dst.dtype() == DType.FLOAT16;
        for (int i = 0; i < n; i++) {
            float v = data(src)[i];
            data(dst)[i] = dst.dtype().round(lossy ? DType.BFLOAT16.round(v) : v);
        }
    }

    @Override
    protected void computeWriteBits(WorkQueue queue, AbstractBuffer dst, long offset, short[] src, int srcOffset,
                                    int count) {
        for (int i = 0; i < count; i++) {
            data(dst)[(int) offset + i] = dst.dtype().fromBits(src[srcOffset + i]);
        }
    }

    @Override
    protected void computeReadBits(WorkQueue queue, AbstractBuffer src, long offset, short[] dst, int dstOffset,
                                   int count) {
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = src.dtype().toBits(data(src)[(int) offset + i]);
        }
    }

    @Override
    protected void releaseDevice() {
    }

    @Override
    public String device() {
        return "double-precision test reference" + (defect == Defect.NONE ? "" : " with " + defect);
    }

    @Override
    protected void computeForward(WorkQueue queue, Activation activation, AbstractBuffer x, AbstractBuffer y, long n) {
        float[] in = data(x);
        float[] out = data(y);
        Op op = activation.op();
        for (int i = 0; i < n; i++) {
            float v = in[i];
            out[i] = (float) activation.reference(v);
            if (op == Op.RELU && defect == Defect.RELU_NAN_TO_ZERO) {
                out[i] = v > 0 ? v : 0;
            } else if (op == Op.GELU && defect == Defect.GELU_ONE_PLUS_ERF) {
                float erf = (float) (1 - Reference.erfc(v / Math.sqrt(2)));
                out[i] = 0.5f * v * (1f + erf);
            } else if (op == Op.TANH && defect == Defect.TANH_COARSE) {
                out[i] = Float.intBitsToFloat(Float.floatToRawIntBits(out[i]) & ~63);
            } else if (op == Op.SIGMOID && defect == Defect.SIGMOID_FLUSHES_SUBNORMALS && Math.abs(out[i]) < Float.MIN_NORMAL) {
                out[i] = 0;
            }
        }
    }

    @Override
    protected void computeBackward(WorkQueue queue, Activation activation, AbstractBuffer x, AbstractBuffer dy,
                                   AbstractBuffer dx, long n) {
        float[] in = data(x);
        float[] g = data(dy);
        float[] out = data(dx);
        boolean perturb = activation.op() == Op.GELU && defect == Defect.GELU_BACKWARD_NONDETERMINISTIC
                && calls++ > 0;
        for (int i = 0; i < n; i++) {
            out[i] = (float) (g[i] * activation.referenceDerivative(in[i]));
            if (perturb && Float.isFinite(out[i]) && out[i] != 0) {
                out[i] = Math.nextUp(out[i]);
            }
        }
    }

    @Override
    protected void computeBackwardFromOutput(WorkQueue queue, Activation activation, AbstractBuffer y,
                                             AbstractBuffer dy, AbstractBuffer dx, long n) {
        float[] in = data(y);
        float[] g = data(dy);
        float[] out = data(dx);
        for (int i = 0; i < n; i++) {
            out[i] = (float) (g[i] * activation.op().referenceDerivativeFromOutput(in[i], activation.a(), activation.b()));
            if (activation.op() == Op.SIGMOID && defect == Defect.SIGMOID_FROM_OUTPUT_IN_FLOAT) {
                out[i] = g[i] * (in[i] - in[i] * in[i]);
            }
        }
    }

    @Override
    protected void computeRowsBackwardFromOutput(WorkQueue queue, Activation activation, AbstractBuffer y,
                                                 AbstractBuffer dy, AbstractBuffer dx, RowLayout layout) {
        float[] in = data(y);
        float[] g = data(dy);
        float[] out = data(dx);
        int cols = (int) layout.cols();
        boolean log = activation.op() == Op.LOG_SOFTMAX;
        for (int r = 0; r < layout.rows(); r++) {
            int xBase = (int) (r * layout.xStride());
            int yBase = (int) (r * layout.yStride());
            double[] p = new double[cols];
            for (int j = 0; j < cols; j++) {
                p[j] = log ? Math.exp(in[yBase + j]) : in[yBase + j];
            }
            double[] grad = RowReference.softmaxBackward(p, g, yBase, cols, activation.param("temperature"), log).dx();
            for (int j = 0; j < cols; j++) {
                out[xBase + j] = (float) grad[j];
            }
        }
    }

    @Override
    protected void computeRows(WorkQueue queue, Activation activation, AbstractBuffer x, AbstractBuffer y,
                               RowLayout layout) {
        rows(activation, data(x), data(y), layout);
    }

    private void rows(Activation activation, float[] in, float[] out, RowLayout layout) {
        int cols = (int) layout.cols();
        for (int r = 0; r < layout.rows(); r++) {
            int xBase = (int) (r * layout.xStride());
            int yBase = (int) (r * layout.yStride());
            if (activation.op() == Op.MAXOUT) {
                int pieces = (int) activation.param("pieces");
                for (int g = 0; g < cols / pieces; g++) {
                    out[yBase + g] = in[xBase + RowReference.maxoutArgmax(in, xBase, g, pieces)];
                }
                continue;
            }
            double[] row = softmax(activation, in, xBase, cols);
            for (int j = 0; j < cols; j++) {
                out[yBase + j] = (float) row[j];
            }
            if (defect == Defect.SOFTMAX_WRITES_PADDING && activation.op() == Op.SOFTMAX
                    && r + 1 < layout.rows()) {
                for (long j = cols; j < layout.yStride(); j++) {
                    out[(int) (yBase + j)] = 0;
                }
            }
        }
    }

    private double[] softmax(Activation activation, float[] in, int offset, int cols) {
        boolean log = activation.op() == Op.LOG_SOFTMAX;
        if (defect == Defect.SOFTMAX_NO_MAX_SHIFT && !log) {
            float[] shifted = new float[cols];
            float sum = 0;
            for (int j = 0; j < cols; j++) {
                shifted[j] = (float) Math.exp(in[offset + j]);
                sum += shifted[j];
            }
            double[] y = new double[cols];
            for (int j = 0; j < cols; j++) {
                y[j] = shifted[j] / sum;
            }
            return y;
        }
        return RowReference.softmax(in, offset, cols, activation.param("temperature"), log,
                activation.param("masked_nan") != 0);
    }

    @Override
    protected void computeRowsBackward(WorkQueue queue, Activation activation, AbstractBuffer x, AbstractBuffer dy,
                                       AbstractBuffer dx, RowLayout layout) {
        rowsBackward(activation, data(x), data(dy), data(dx), layout);
    }

    private void rowsBackward(Activation activation, float[] in, float[] g, float[] out, RowLayout layout) {
        int cols = (int) layout.cols();
        for (int r = 0; r < layout.rows(); r++) {
            int xBase = (int) (r * layout.xStride());
            int yBase = (int) (r * layout.yStride());
            if (activation.op() == Op.MAXOUT) {
                int pieces = (int) activation.param("pieces");
                for (int group = 0; group < cols / pieces; group++) {
                    int argmax = RowReference.maxoutArgmax(in, xBase, group, pieces);
                    if (defect == Defect.MAXOUT_LAST_MAXIMUM) {
                        for (int p = 0; p < pieces; p++) {
                            if (in[xBase + group * pieces + p] == in[xBase + argmax]) {
                                argmax = group * pieces + p;
                            }
                        }
                    }
                    for (int p = 0; p < pieces; p++) {
                        int j = group * pieces + p;
                        out[xBase + j] = j == argmax ? g[yBase + group] : 0;
                    }
                }
                continue;
            }
            double temperature = activation.param("temperature");
            double[] p = RowReference.softmax(in, xBase, cols, temperature, false, false);
            double[] grad = RowReference.softmaxBackward(p, g, yBase, cols, temperature,
                    activation.op() == Op.LOG_SOFTMAX).dx();
            for (int j = 0; j < cols; j++) {
                out[xBase + j] = (float) grad[j];
            }
        }
    }

    @Override
    protected void computePrelu(WorkQueue queue, AbstractBuffer x, AbstractBuffer weight, AbstractBuffer y, long n,
                                long channels, long inner) {
        float[] in = data(x);
        float[] w = data(weight);
        float[] out = data(y);
        for (int i = 0; i < n; i++) {
            out[i] = (float) Op.PRELU.reference(in[i], w[(int) ((i / inner) % channels)], 0);
        }
    }

    @Override
    protected void computePreluBackward(WorkQueue queue, AbstractBuffer x, AbstractBuffer weight, AbstractBuffer dy,
                                        AbstractBuffer dx, AbstractBuffer dweight, long n, long channels, long inner) {
        float[] in = data(x);
        float[] w = data(weight);
        float[] g = data(dy);
        float[] out = data(dx);
        float[] dw = data(dweight);
        double[] sums = RowReference.preluWeightGradient(in, g, (int) channels, (int) inner)[0];
        for (int c = 0; c < channels; c++) {
            dw[c] = (float) sums[c] + (defect == Defect.PRELU_DWEIGHT_ACCUMULATES ? dw[c] : 0);
        }
        for (int i = 0; i < n; i++) {
            out[i] = (float) (g[i] * Op.PRELU.referenceDerivative(in[i], w[(int) ((i / inner) % channels)], 0));
        }
    }

    @Override
    protected void computeMaskedRows(WorkQueue queue, Activation activation, AbstractBuffer x, AbstractBuffer y,
                                     RowLayout layout, RowMask mask, AbstractBuffer additive) {
        rows(activation, unfused(data(x), layout, mask, additive), data(y), layout);
    }

    @Override
    protected void computeMaskedRowsBackward(WorkQueue queue, Activation activation, AbstractBuffer x,
                                             AbstractBuffer dy, AbstractBuffer dx, RowLayout layout, RowMask mask,
                                             AbstractBuffer additive) {
        rowsBackward(activation, unfused(data(x), layout, mask, additive), data(dy), data(dx), layout);
    }

    /** x + mask in the valid columns, -inf in the others: the masked op as the plain one on this input. */
    private float[] unfused(float[] x, RowLayout layout, RowMask mask, AbstractBuffer additive) {
        float[] z = java.util.Arrays.copyOf(x, (int) layout.xExtent());
        int cols = (int) layout.cols();
        for (int r = 0; r < layout.rows(); r++) {
            int base = (int) (r * layout.xStride());
            long valid = mask.validColumns(r, cols) + (defect == Defect.CAUSAL_ONE_TOO_MANY && mask.isCausal() ? 1 : 0);
            for (int j = 0; j < cols; j++) {
                float add = additive == null ? 0 : data(additive)[(int) (r / mask.rowsPerMaskRow() * cols + j)];
                z[base + j] = j < valid ? x[base + j] + add : Float.NEGATIVE_INFINITY;
            }
        }
        return z;
    }

    @Override
    protected void computeBias(WorkQueue queue, Activation activation, AbstractBuffer x, AbstractBuffer bias,
                               AbstractBuffer y, long n, long channels, long inner) {
        float[] in = data(x);
        float[] out = data(y);
        for (int i = 0; i < n; i++) {
            out[i] = (float) activation.reference(in[i] + biasOf(data(bias), i, channels, inner));
        }
    }

    @Override
    protected void computeBiasBackward(WorkQueue queue, Activation activation, AbstractBuffer x, AbstractBuffer bias,
                                       AbstractBuffer dy, AbstractBuffer dx, AbstractBuffer dbias, long n,
                                       long channels, long inner) {
        float[] in = data(x);
        float[] g = data(dy);
        float[] out = data(dx);
        double[] sums = new double[(int) channels];
        for (int i = 0; i < n; i++) {
            double term = g[i] * activation.referenceDerivative(in[i] + biasOf(data(bias), i, channels, inner));
            sums[(int) ((defect == Defect.BIAS_IGNORES_INNER ? i : i / inner) % channels)] += term;
            out[i] = (float) term;
        }
        float[] db = data(dbias);
        for (int c = 0; c < channels; c++) {
            db[c] = (float) sums[c] + (defect == Defect.BIAS_DBIAS_ACCUMULATES ? db[c] : 0);
        }
    }

    /** The float bias of element i. */
    private float biasOf(float[] bias, long i, long channels, long inner) {
        return bias[(int) ((defect == Defect.BIAS_IGNORES_INNER ? i : i / inner) % channels)];
    }

    @Override
    protected void computeGated(WorkQueue queue, Activation gate, GatedLayout layout, AbstractBuffer gateInput,
                                AbstractBuffer otherInput, AbstractBuffer y) {
        float[] out = data(y);
        forEachGated(gate, layout, gateInput, otherInput, (i, first, second) ->
                out[i] = (float) gate.op().referenceGated(first, second, gate.a(), gate.b()));
    }

    @Override
    protected void computeGatedBackward(WorkQueue queue, Activation gate, GatedLayout layout, AbstractBuffer gateInput,
                                        AbstractBuffer otherInput, AbstractBuffer dy, AbstractBuffer dGate,
                                        AbstractBuffer dOther) {
        float[] g = data(dy);
        boolean gateFirst = gate.op().activatesFirstHalf();
        int n = (int) layout.outputs();
        float[] gateGradient = new float[n];
        float[] otherGradient = new float[n];
        forEachGated(gate, layout, gateInput, otherInput, (i, first, second) -> {
            gateGradient[i] = (float) (g[i] * gate.op().referenceGatedPartial(first, second, gate.a(), gate.b(), gateFirst));
            otherGradient[i] = (float) (g[i] * gate.op().referenceGatedPartial(first, second, gate.a(), gate.b(), !gateFirst));
        });
        for (int i = 0; i < n; i++) {
            int at = (int) (i / layout.hidden() * layout.inputStride() + i % layout.hidden());
            data(dGate)[(int) layout.gateOffset() + at] = gateGradient[i];
            data(dOther)[(int) layout.otherOffset() + at] = otherGradient[i];
        }
    }

    private interface GatedElement {
        void at(int output, float first, float second);
    }

    /** Each output index with its first-half and second-half inputs (swapped by the planted defect). */
    private void forEachGated(Activation gate, GatedLayout layout, AbstractBuffer gateInput, AbstractBuffer otherInput,
                              GatedElement element) {
        float[] gates = data(gateInput);
        float[] others = data(otherInput);
        boolean swap = defect == Defect.SWIGLU_GATES_SECOND_HALF && gate.op() == Op.SWIGLU;
        boolean gateFirst = gate.op().activatesFirstHalf();
        for (int i = 0; i < layout.outputs(); i++) {
            int at = (int) (i / layout.hidden() * layout.inputStride() + i % layout.hidden());
            float g = gates[(int) layout.gateOffset() + at];
            float o = others[(int) layout.otherOffset() + at];
            float first = gateFirst ? g : o;
            float second = gateFirst ? o : g;
            element.at(i, swap ? second : first, swap ? first : second);
        }
    }
}
