package dev.gpuact.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The arguments of one kernel launch, written into slots that are allocated once per thread and reused, so a
 * launch allocates nothing. Device pointers travel as their 64-bit address. The {@link #signature()} (the types in
 * order) selects the cached native parameter array built over these slots.
 */
final class KernelArgs {
    /** Bias and activation's kernels take 13. */
    static final int MAX_ARGS = 16;
    /** Size of the {@code LongArgs} struct of softmax.cuh: five 64-bit fields, a float, two ints, padded to 8. */
    static final int LONG_ARGS_BYTES = 56;

    enum Type { I64, F32, I32, LONG_ARGS }

    final long[][] longs = new long[MAX_ARGS][1];
    final float[][] floats = new float[MAX_ARGS][1];
    final int[][] ints = new int[MAX_ARGS][1];
    final byte[] longArgs = new byte[LONG_ARGS_BYTES];
    private final ByteBuffer longArgsView = ByteBuffer.wrap(longArgs).order(ByteOrder.LITTLE_ENDIAN);
    private final Type[] types = new Type[MAX_ARGS];
    private int count;
    private long signature;
    private boolean hasLongArgs;

    KernelArgs reset() {
        count = 0;
        signature = 0;
        hasLongArgs = false;
        return this;
    }

    KernelArgs i64(long v) {
        longs[next(Type.I64)][0] = v;
        return this;
    }

    KernelArgs f32(float v) {
        floats[next(Type.F32)][0] = v;
        return this;
    }

    KernelArgs i32(int v) {
        ints[next(Type.I32)][0] = v;
        return this;
    }

    /**
     * How the PReLU kernels find an element's channel (the {@code ChannelOf} of prelu.cuh): channels, inner, and
     * the fast divisions by inner and by channels.
     */
    KernelArgs channelOf(long channels, long inner) {
        FastDivision byChannels = FastDivision.of(channels);
        return i64(channels).fastDivision(inner).i64(byChannels.magic()).i32(byChannels.shift());
    }

    /** A divisor and its fast division: divisor, magic, shift (a per-channel sum's inner and its FastDiv). */
    KernelArgs fastDivision(long divisor) {
        FastDivision by = FastDivision.of(divisor);
        return i64(divisor).i64(by.magic()).i32(by.shift());
    }

    /** The {@code LongArgs} struct of the long softmax path, passed by value. */
    KernelArgs longArgs(long rows, long cols, long xStride, long yStride, long chunkCols, float temperature,
                        int maskedNan, int chunks) {
        next(Type.LONG_ARGS);
        longArgsView.clear();
        longArgsView.putLong(rows).putLong(cols).putLong(xStride).putLong(yStride).putLong(chunkCols)
                .putFloat(temperature).putInt(maskedNan).putInt(chunks).putInt(0);
        return this;
    }

    int count() {
        return count;
    }

    Type type(int i) {
        return types[i];
    }

    /** The argument types in order as one number (base 5, so different lengths differ too). */
    long signature() {
        return signature;
    }

    private int next(Type t) {
        if (count == MAX_ARGS) {
            throw new IllegalStateException("a kernel takes at most " + MAX_ARGS + " arguments here");
        }
        if (t == Type.LONG_ARGS) {
            if (hasLongArgs) {
                throw new IllegalStateException("only one LongArgs struct per launch");
            }
            hasLongArgs = true;
        }
        types[count] = t;
        signature = signature * 5 + t.ordinal() + 1;
        return count++;
    }
}
