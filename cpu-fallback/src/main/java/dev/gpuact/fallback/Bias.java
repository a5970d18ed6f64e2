package dev.gpuact.fallback;

import static dev.gpuact.fallback.ElementwiseKernel.checkRange;

/**
 * Bias and activation: {@code y = f(x + bias[c])} with channel {@code c = (i / inner) % channels} for flat index
 * i, as {@link Prelu} finds it, and its backward pass with the bias gradient. The sum is rounded to float first
 * and f is the op's own {@link ElementwiseKernel}, run on blocks of sums, so the result is f's at that float.
 *
 * <p>The bias gradient {@code dbias[c]}, the sum of dx over channel c, is deterministic as PReLU's weight gradient
 * is: chunks fixed by n and the channel count, each summing per channel in double in index order, and the chunk
 * partials added in chunk order.
 */
public final class Bias {
    /**
     * Sums per block: small enough to stay in cache between the add and f, and no smaller than the calls the
     * kernels hand to their vector loops (a shorter call runs scalar while the JVM warms up, see WarmUp).
     */
    private static final int BLOCK = 8192;
    private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[2 * BLOCK]);

    private Bias() {
    }

    /** y[0..n) = f(x + bias[c]); y may be x. */
    public static void forward(ElementwiseKernel f, float[] x, float[] bias, float[] y, int n, int channels,
                               long inner, float a, float b) {
        Prelu.checkArguments(x, 0, bias, n, channels, inner);
        checkRange("y", y, 0, n);
        Parallel.forEachChunk(n, (from, to) -> {
            for (int i = from, len; i < to; i += len) {
                len = blockLength(to - i);
                // y holds the sums, then f runs on them in place: one pass over a block in cache.
                addBias(x, i, bias, channels, inner, y, i, len);
                f.forwardChunk(y, i, y, i, len, a, b);
            }
        });
    }

    /**
     * dx[0..n) = dy * f'(x + bias[c]) and dbias[c] = the sum of dx over channel c (overwritten). dx may be x or dy.
     */
    public static void backward(ElementwiseKernel f, float[] x, float[] bias, float[] dy, float[] dx, float[] dbias,
                                int n, int channels, long inner, float a, float b) {
        Prelu.checkArguments(x, 0, bias, n, channels, inner);
        checkRange("dy", dy, 0, n);
        checkRange("dx", dx, 0, n);
        checkRange("dbias", dbias, 0, channels);
        int chunk = Prelu.chunkSize(n, channels);
        int chunks = Parallel.chunkCount(n, chunk);
        double[] partials = new double[chunks * channels];
        Parallel.forEachChunk(n, chunk, n, (from, to) -> {
            float[] sums = SUMS.get();
            int partialBase = from / chunk * channels;
            for (int i = from, len; i < to; i += len) {
                len = blockLength(to - i);
                addBias(x, i, bias, channels, inner, sums, 0, len);
                f.backwardChunk(sums, 0, dy, i, dx, i, len, a, b);
                addPerChannel(dx, i, len, channels, inner, partials, partialBase);
            }
        });
        for (int c = 0; c < channels; c++) {
            double total = 0;
            for (int k = 0; k < chunks; k++) {
                total += partials[k * channels + c];
            }
            dbias[c] = (float) total;
        }
    }

    /** A block, or all that is left when less than two blocks are: no short tail block. */
    private static int blockLength(int left) {
        return left < 2 * BLOCK ? left : BLOCK;
    }

    /** out[o..o+len) = x[i..i+len) + bias of each element's channel, in runs the loops can vectorise. */
    private static void addBias(float[] x, int i, float[] bias, int channels, long inner, float[] out, int o,
                                int len) {
        if (inner == 1) {
            // consecutive elements take consecutive channels: runs along the bias vector
            int c = (int) (i % channels);
            for (int k = 0; k < len; ) {
                int run = Math.min(len - k, channels - c);
                for (int j = 0; j < run; j++) {
                    out[o + k + j] = x[i + k + j] + bias[c + j];
                }
                k += run;
                c = 0;
            }
            return;
        }
        for (int k = 0; k < len; ) {
            long block = (i + k) / inner;
            int run = (int) Math.min(len - k, (block + 1) * inner - (i + k));
            float v = bias[(int) (block % channels)];
            for (int j = 0; j < run; j++) {
                out[o + k + j] = x[i + k + j] + v;
            }
            k += run;
        }
    }

    /** partials[base + c] += dx of channel c over dx[i..i+len), in index order. */
    private static void addPerChannel(float[] dx, int i, int len, int channels, long inner, double[] partials,
                                      int base) {
        if (inner == 1) {
            // consecutive elements add to consecutive channels, without a division per element
            int c = (int) (i % channels);
            for (int k = 0; k < len; ) {
                int run = Math.min(len - k, channels - c);
                for (int j = 0; j < run; j++) {
                    partials[base + c + j] += dx[i + k + j];
                }
                k += run;
                c = 0;
            }
            return;
        }
        for (int k = 0; k < len; ) {
            long block = (i + k) / inner;
            int run = (int) Math.min(len - k, (block + 1) * inner - (i + k));
            double sum = 0;
            for (int j = 0; j < run; j++) {
                sum += dx[i + k + j];
            }
            partials[base + (int) (block % channels)] += sum;
            k += run;
        }
    }
}
