package dev.gpuact.cpu;

import dev.gpuact.Activation;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import dev.gpuact.RowMask;
import dev.gpuact.fallback.Bias;
import dev.gpuact.fallback.ElementwiseKernel;
import dev.gpuact.fallback.Gated;
import dev.gpuact.fallback.OutputBackward;
import dev.gpuact.fallback.Prelu;
import dev.gpuact.fallback.Rowwise;
import dev.gpuact.fallback.Tiled;
import dev.gpuact.spi.AbstractBackend;
import dev.gpuact.spi.AbstractBuffer;
import dev.gpuact.spi.GatedLayout;
import dev.gpuact.spi.HostRegion;
import dev.gpuact.spi.WorkQueue;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code cpu} backend: buffers are Java float arrays and every op runs the cpu-fallback kernels, on all cores
 * for large inputs, on the calling thread ({@link WorkQueue#IMMEDIATE}: its streams run each call as it comes).
 * Argument checks are done by {@link AbstractBackend}; this class only maps ops to kernels.
 */
public final class CpuBackend extends AbstractBackend<WorkQueue> {
    static final String NAME = "cpu";
    /** The largest Java array the JVMs in use will allocate. */
    public static final long MAX_LENGTH = Integer.MAX_VALUE - 8;

    private static final Map<Op, ElementwiseKernel> KERNELS = new EnumMap<>(Op.class);

    static {
        for (Op op : Op.ELEMENTWISE) {
            KERNELS.put(op, ElementwiseKernel.valueOf(op.name()));
        }
    }

    CpuBackend() {
        super(NAME);
    }

    /** The kernel that computes an elementwise op. */
    public static ElementwiseKernel kernel(Op op) {
        ElementwiseKernel kernel = KERNELS.get(op);
        if (kernel == null) {
            throw new IllegalArgumentException(op.id() + " has no elementwise kernel");
        }
        return kernel;
    }

    static String describeDevice() {
        return "Java " + System.getProperty("java.version") + " on " + Runtime.getRuntime().availableProcessors()
                + " cores (" + System.getProperty("os.arch") + ")";
    }

    @Override
    public String device() {
        return describeDevice();
    }

    @Override
    protected AbstractBuffer newBuffer(DType dtype, long length) {
        if (length > MAX_LENGTH) {
            throw new IllegalArgumentException("length " + length + " is more than the cpu backend's largest buffer, "
                    + MAX_LENGTH + " floats (one Java array)");
        }
        return dtype.isHalf() ? new BitsBuffer(this, dtype, (int) length) : new ArrayBuffer(this, dtype, (int) length);
    }

    @Override
    protected WorkQueue ownQueue() {
        return WorkQueue.IMMEDIATE;
    }

    @Override
    protected void releaseDevice() {
        // Nothing beyond the buffers: the kernels share the common ForkJoinPool.
    }

    /**
     * Host memory used in place: always possible here, in either byte order, at any alignment. The elementwise
     * ops compute in it through float tiles; the others stage it through float32 scratch.
     */
    @Override
    public DeviceBuffer wrap(ByteBuffer memory, DType dtype) {
        return guarded(() -> {
            requireOpen();
            HostRegion region = HostRegion.of(name(), memory, dtype);
            return new HostMemoryBuffer(this, region);
        });
    }

    private static float[] array(AbstractBuffer buffer) {
        return ((ArrayBuffer) buffer).array();
    }

    private static short[] bits(AbstractBuffer buffer) {
        return ((BitsBuffer) buffer).bits();
    }

    /** A buffer of any type as tiles of floats (the float16 and bfloat16 paths of the elementwise ops). */
    private static Tiled.Storage storage(AbstractBuffer buffer) {
        if (buffer instanceof HostMemoryBuffer host) {
            return host.storage();
        }
        return switch (buffer.dtype()) {
            case FLOAT16 -> Tiled.Storage.float16(bits(buffer));
            case BFLOAT16 -> Tiled.Storage.bfloat16(bits(buffer));
            default -> Tiled.Storage.floats(array(buffer));
        };
    }

    /**
     * The elementwise ops run on 16-bit storage and on host memory in place, in any mix, through L1-sized float
     * tiles.
     */
    @Override
    protected boolean computesNatively(Work work, List<AbstractBuffer> buffers) {
        return switch (work) {
            case FORWARD, BACKWARD, BACKWARD_FROM_OUTPUT -> true;
            default -> super.computesNatively(work, buffers);
        };
    }

    /** The kernels take Java arrays: host memory in place is staged too, float32 included. */
    @Override
    protected boolean needsScratch(AbstractBuffer buffer) {
        return super.needsScratch(buffer) || buffer instanceof HostMemoryBuffer;
    }

    /** Whether every buffer is a float array, which the kernels take as it is. */
    private static boolean allArrays(AbstractBuffer... buffers) {
        for (AbstractBuffer b : buffers) {
            if (!(b instanceof ArrayBuffer)) {
                return false;
            }
        }
        return true;
    }

    @Override
    protected void computeConvert(WorkQueue queue, AbstractBuffer src, AbstractBuffer dst, long n) {
        if (src.dtype() == dst.dtype() && src.dtype().isHalf()) {
            shorts(dst).put(0, shorts(src), 0, (int) n);  // a copy keeps every NaN's bits
            return;
        }
        Tiled.convert(storage(src), storage(dst), (int) n);
    }

    @Override
    protected void computeWriteBits(WorkQueue queue, AbstractBuffer dst, long offset, short[] src, int srcOffset,
                                    int count) {
        shorts(dst).put((int) offset, src, srcOffset, count);
    }

    @Override
    protected void computeReadBits(WorkQueue queue, AbstractBuffer src, long offset, short[] dst, int dstOffset,
                                   int count) {
        shorts(src).get((int) offset, dst, dstOffset, count);
    }

    /** A 16-bit buffer's elements as a ShortBuffer: its array, or the host memory it wraps. */
    private static ShortBuffer shorts(AbstractBuffer buffer) {
        return buffer instanceof HostMemoryBuffer host ? host.shorts() : ShortBuffer.wrap(bits(buffer));
    }

    /** A float32 buffer's elements as a FloatBuffer: its array, or the host memory it wraps. */
    private static FloatBuffer floats(AbstractBuffer buffer) {
        return buffer instanceof HostMemoryBuffer host ? host.floats() : FloatBuffer.wrap(array(buffer));
    }

    /**
     * dst = src. Two arrays (each buffer owns its own, so they never overlap) go through the identity kernel, a
     * System.arraycopy per chunk on both cores: the default's round trip through a host chunk took 6-18 ms per 16M
     * floats against 1.5-2. Wrapped host memory keeps the default.
     */
    @Override
    protected void computeCopy(WorkQueue queue, AbstractBuffer src, AbstractBuffer dst, long n) {
        if (!allArrays(src, dst)) {
            super.computeCopy(queue, src, dst, n);
            return;
        }
        kernel(Op.IDENTITY).forward(array(src), 0, array(dst), 0, (int) n, 1, 1);
    }

    @Override
    protected void computeForward(WorkQueue queue, Activation activation, AbstractBuffer x, AbstractBuffer y, long n) {
        if (!allArrays(x, y)) {
            Tiled.forward(kernel(activation.op()), storage(x), storage(y), (int) n, activation.a(), activation.b());
            return;
        }
        kernel(activation.op()).forward(array(x), 0, array(y), 0, (int) n, activation.a(), activation.b());
    }

    @Override
    protected void computeBackward(WorkQueue queue, Activation activation, AbstractBuffer x, AbstractBuffer dy,
                                   AbstractBuffer dx, long n) {
        if (!allArrays(x, dy, dx)) {
            Tiled.backward(kernel(activation.op()), storage(x), storage(dy), storage(dx), (int) n, activation.a(),
                    activation.b());
            return;
        }
        kernel(activation.op()).backward(array(x), 0, array(dy), 0, array(dx), 0, (int) n, activation.a(), activation.b());
    }

    @Override
    protected void computeBackwardFromOutput(WorkQueue queue, Activation activation, AbstractBuffer y,
                                             AbstractBuffer dy, AbstractBuffer dx, long n) {
        if (!allArrays(y, dy, dx)) {
            Tiled.backwardFromOutput(OutputBackward.valueOf(activation.op().name()), storage(y), storage(dy),
                    storage(dx), (int) n, activation.a(), activation.b());
            return;
        }
        OutputBackward.valueOf(activation.op().name()).backward(array(y), array(dy), array(dx), (int) n,
                activation.a(), activation.b());
    }

    @Override
    protected void computeRowsBackwardFromOutput(WorkQueue queue, Activation activation, AbstractBuffer y,
                                                 AbstractBuffer dy, AbstractBuffer dx, RowLayout layout) {
        Rowwise.Layout rows = rows(layout);
        double temperature = activation.param("temperature");
        if (activation.op() == Op.SOFTMAX) {
            OutputBackward.softmax(array(y), array(dy), array(dx), rows, temperature);
        } else {
            OutputBackward.logSoftmax(array(y), array(dy), array(dx), rows, temperature);
        }
    }

    @Override
    protected void computeRows(WorkQueue queue, Activation activation, AbstractBuffer x, AbstractBuffer y,
                               RowLayout layout) {
        Rowwise.Layout rows = rows(layout);
        switch (activation.op()) {
            case SOFTMAX -> Rowwise.softmax(array(x), array(y), rows, activation.param("temperature"), maskedNan(activation));
            case LOG_SOFTMAX -> Rowwise.logSoftmax(array(x), array(y), rows, activation.param("temperature"), maskedNan(activation));
            case MAXOUT -> Rowwise.maxout(array(x), array(y), rows, pieces(activation));
            default -> throw new IllegalArgumentException(activation.op().id() + " is not row-wise");
        }
    }

    @Override
    protected void computeRowsBackward(WorkQueue queue, Activation activation, AbstractBuffer x, AbstractBuffer dy,
                                       AbstractBuffer dx, RowLayout layout) {
        Rowwise.Layout rows = rows(layout);
        switch (activation.op()) {
            case SOFTMAX -> Rowwise.softmaxBackward(array(x), array(dy), array(dx), rows,
                    activation.param("temperature"), maskedNan(activation));
            case LOG_SOFTMAX -> Rowwise.logSoftmaxBackward(array(x), array(dy), array(dx), rows,
                    activation.param("temperature"), maskedNan(activation));
            case MAXOUT -> Rowwise.maxoutBackward(array(x), array(dy), array(dx), rows, pieces(activation));
            default -> throw new IllegalArgumentException(activation.op().id() + " is not row-wise");
        }
    }

    @Override
    protected void computePrelu(WorkQueue queue, AbstractBuffer x, AbstractBuffer weight, AbstractBuffer y, long n,
                                long channels, long inner) {
        Prelu.forward(array(x), 0, array(weight), array(y), 0, (int) n, (int) channels, inner);
    }

    @Override
    protected void computePreluBackward(WorkQueue queue, AbstractBuffer x, AbstractBuffer weight, AbstractBuffer dy,
                                        AbstractBuffer dx, AbstractBuffer dweight, long n, long channels, long inner) {
        Prelu.backward(array(x), 0, array(weight), array(dy), 0, array(dx), 0, array(dweight), (int) n, (int) channels, inner);
    }

    @Override
    protected void computeWrite(WorkQueue queue, AbstractBuffer dst, long offset, float[] src, int srcOffset,
                                int count) {
        floats(dst).put((int) offset, src, srcOffset, count);
    }

    @Override
    protected void computeRead(WorkQueue queue, AbstractBuffer src, long offset, float[] dst, int dstOffset,
                               int count) {
        floats(src).get((int) offset, dst, dstOffset, count);
    }

    @Override
    protected void computeWrite(WorkQueue queue, AbstractBuffer dst, long offset, FloatBuffer src) {
        floats(dst).put((int) offset, src, src.position(), src.remaining());
        src.position(src.limit());
    }

    @Override
    protected void computeRead(WorkQueue queue, AbstractBuffer src, long offset, FloatBuffer dst) {
        dst.put(dst.position(), floats(src), (int) offset, dst.remaining());
        dst.position(dst.limit());
    }

    /** The checks upstream bound every extent by an array length, so the int conversions are exact. */
    private static Rowwise.Layout rows(RowLayout layout) {
        return new Rowwise.Layout((int) layout.rows(), (int) layout.cols(), 0, (int) layout.xStride(), 0,
                (int) layout.yStride());
    }

    private static boolean maskedNan(Activation activation) {
        return activation.param("masked_nan") != 0;
    }

    private static int pieces(Activation activation) {
        return (int) activation.param("pieces");
    }

    @Override
    protected void computeMaskedRows(WorkQueue queue, Activation activation, AbstractBuffer x, AbstractBuffer y,
                                     RowLayout layout, RowMask mask, AbstractBuffer additive) {
        Rowwise.maskedSoftmax(array(x), array(y), rows(layout), mask(mask, additive, layout),
                activation.param("temperature"), maskedNan(activation), activation.op() == Op.LOG_SOFTMAX);
    }

    @Override
    protected void computeMaskedRowsBackward(WorkQueue queue, Activation activation, AbstractBuffer x,
                                             AbstractBuffer dy, AbstractBuffer dx, RowLayout layout, RowMask mask,
                                             AbstractBuffer additive) {
        Rowwise.maskedSoftmaxBackward(array(x), array(dy), array(dx), rows(layout), mask(mask, additive, layout),
                activation.param("temperature"), maskedNan(activation), activation.op() == Op.LOG_SOFTMAX);
    }

    /** Group sizes beyond the rows change nothing, so they are capped to fit an int. */
    private static Rowwise.Mask mask(RowMask mask, AbstractBuffer additive, RowLayout layout) {
        long cols = layout.cols();
        return new Rowwise.Mask(additive == null ? null : array(additive),
                (int) Math.min(mask.rowsPerMaskRow(), Integer.MAX_VALUE),
                row -> (int) mask.validColumns(row, cols));
    }

    // ---- bias and activation ------------------------------------------------------------------------------

    @Override
    protected void computeBias(WorkQueue queue, Activation activation, AbstractBuffer x, AbstractBuffer bias,
                               AbstractBuffer y, long n, long channels, long inner) {
        Bias.forward(kernel(activation.op()), array(x), array(bias), array(y), (int) n, (int) channels, inner,
                activation.a(), activation.b());
    }

    @Override
    protected void computeBiasBackward(WorkQueue queue, Activation activation, AbstractBuffer x, AbstractBuffer bias,
                                       AbstractBuffer dy, AbstractBuffer dx, AbstractBuffer dbias, long n,
                                       long channels, long inner) {
        Bias.backward(kernel(activation.op()), array(x), array(bias), array(dy), array(dx), array(dbias), (int) n,
                (int) channels, inner, activation.a(), activation.b());
    }

    /** The checks upstream bound every extent by an array length, so the int conversions are exact. */
    @Override
    protected void computeGated(WorkQueue queue, Activation gate, GatedLayout layout, AbstractBuffer gateInput,
                                AbstractBuffer otherInput, AbstractBuffer y) {
        Gated.forward(kernel(gate.op().activated()), array(gateInput), (int) layout.gateOffset(), array(otherInput),
                (int) layout.otherOffset(), (int) layout.inputStride(), array(y), 0, (int) layout.rows(),
                (int) layout.hidden(), gate.a(), gate.b());
    }

    @Override
    protected void computeGatedBackward(WorkQueue queue, Activation gate, GatedLayout layout, AbstractBuffer gateInput,
                                        AbstractBuffer otherInput, AbstractBuffer dy, AbstractBuffer dGate,
                                        AbstractBuffer dOther) {
        Gated.backward(kernel(gate.op().activated()), array(gateInput), (int) layout.gateOffset(), array(otherInput),
                (int) layout.otherOffset(), (int) layout.inputStride(), array(dy), 0, array(dGate),
                (int) layout.gateOffset(), array(dOther), (int) layout.otherOffset(), (int) layout.rows(),
                (int) layout.hidden(), gate.a(), gate.b());
    }

    /** A buffer backed by one float array. */
    private static final class ArrayBuffer extends AbstractBuffer {
        ArrayBuffer(CpuBackend backend, DType dtype, int length) {
            super(backend, dtype, length, new ArrayMemory(length));
        }

        float[] array() {
            return ((ArrayMemory) memory()).array();
        }
    }

    /** A float16 or bfloat16 buffer backed by a short array of its bits. */
    private static final class BitsBuffer extends AbstractBuffer {
        BitsBuffer(CpuBackend backend, DType dtype, int length) {
            super(backend, dtype, length, new BitsMemory(length));
        }

        short[] bits() {
            return ((BitsMemory) memory()).bits();
        }
    }

    /** The bits, held apart from the buffer as {@link ArrayMemory} holds its floats. */
    private static final class BitsMemory extends AbstractBuffer.Memory {
        private volatile short[] bits;

        BitsMemory(int length) {
            super((long) length * Short.BYTES);
            this.bits = new short[length];
        }

        short[] bits() {
            short[] b = bits;
            if (b == null) {
                throw new IllegalStateException("the buffer's memory was freed when its backend was closed");
            }
            return b;
        }

        @Override
        protected void free() {
            bits = null;
        }
    }

    /** The array, held apart from the buffer so a dropped buffer can be collected and reported. */
    private static final class ArrayMemory extends AbstractBuffer.Memory {
        private volatile float[] array;

        ArrayMemory(int length) {
            super((long) length * Float.BYTES);
            this.array = new float[length];
        }

        float[] array() {
            float[] a = array;
            if (a == null) {
                throw new IllegalStateException("the buffer's memory was freed when its backend was closed");
            }
            return a;
        }

        @Override
        protected void free() {
            array = null;
        }
    }
}
