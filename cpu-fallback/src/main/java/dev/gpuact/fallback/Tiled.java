package dev.gpuact.fallback;

import static dev.gpuact.fallback.Vectorization.HALF_LOOPS;

/**
 * The elementwise kernels over storage that is not a float array (float16, bfloat16, or a mix of types): a tile of
 * each input is widened into a float array small enough to stay in the L1 cache, the float kernel runs on the
 * tiles, and the output tile is rounded into its storage. Large inputs run on all cores, a range of tiles per
 * chunk, as the float kernels do.
 */
public final class Tiled {
    /** Floats per tile: three tiles (x, dy, dx) of 8 KiB. */
    static final int TILE = 2048;
    private static final ThreadLocal<float[][]> TILES = ThreadLocal.withInitial(() -> new float[3][TILE]);
    /** Every float16 value by its bits: the scalar widening, a load where the conversion would branch. */
    private static final float[] FLOAT16_VALUES = new float[1 << 16];

    static {
        for (int bits = 0; bits < FLOAT16_VALUES.length; bits++) {
            FLOAT16_VALUES[bits] = HalfFloats.float16ToFloat((short) bits);
        }
    }

    /** Elements held in some type, read and written a tile of floats at a time. */
    public interface Storage {
        /** tile[0..count) = the elements [from, from + count), widened to float. */
        void load(int from, float[] tile, int count);

        /** Elements [from, from + count) = tile[0..count), rounded to the storage type. */
        void store(int from, float[] tile, int count);

        /** Float elements in an array. */
        static Storage floats(float[] array) {
            return new Storage() {
                @Override
                public void load(int from, float[] tile, int count) {
                    System.arraycopy(array, from, tile, 0, count);
                }

                @Override
                public void store(int from, float[] tile, int count) {
                    System.arraycopy(tile, 0, array, from, count);
                }
            };
        }

        /** float16 elements as their bits. */
        static Storage float16(short[] bits) {
            return new Storage() {
                @Override
                public void load(int from, float[] tile, int count) {
                    for (int i = HALF_LOOPS.widenFloat16(bits, from, tile, count); i < count; i++) {
                        tile[i] = FLOAT16_VALUES[bits[from + i] & 0xffff];
                    }
                }

                @Override
                public void store(int from, float[] tile, int count) {
                    for (int i = HALF_LOOPS.narrowFloat16(tile, bits, from, count); i < count; i++) {
                        bits[from + i] = HalfFloats.floatToFloat16(tile[i]);
                    }
                }
            };
        }

        /** bfloat16 elements as their bits. */
        static Storage bfloat16(short[] bits) {
            return new Storage() {
                @Override
                public void load(int from, float[] tile, int count) {
                    for (int i = HALF_LOOPS.widenBfloat16(bits, from, tile, count); i < count; i++) {
                        tile[i] = HalfFloats.bfloat16ToFloat(bits[from + i]);
                    }
                }

                @Override
                public void store(int from, float[] tile, int count) {
                    for (int i = HALF_LOOPS.narrowBfloat16(tile, bits, from, count); i < count; i++) {
                        bits[from + i] = HalfFloats.floatToBfloat16(tile[i]);
                    }
                }
            };
        }
    }

    /** The work on one tile of {@code length} elements at {@code from}, with the thread's tiles. */
    @FunctionalInterface
    private interface TileWork {
        void run(int from, int length, float[][] tiles);
    }

    private Tiled() {
    }

    private static void eachTile(int n, TileWork work) {
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0, got " + n);
        }
        Parallel.forEachChunk(n, (from, to) -> {
            float[][] tiles = TILES.get();
            for (int i = from; i < to; i += TILE) {
                work.run(i, Math.min(TILE, to - i), tiles);
            }
        });
    }

    /** y = f(x) over elements [0, n); y may be x's storage. */
    public static void forward(ElementwiseKernel kernel, Storage x, Storage y, int n, float a, float b) {
        eachTile(n, (from, length, t) -> {
            x.load(from, t[0], length);
            kernel.forwardChunk(t[0], 0, t[1], 0, length, a, b);
            y.store(from, t[1], length);
        });
    }

    /** dx = dy * f'(x) over elements [0, n); dx may be x's or dy's storage. */
    public static void backward(ElementwiseKernel kernel, Storage x, Storage dy, Storage dx, int n, float a, float b) {
        eachTile(n, (from, length, t) -> {
            x.load(from, t[0], length);
            dy.load(from, t[1], length);
            kernel.backwardChunk(t[0], 0, t[1], 0, t[2], 0, length, a, b);
            dx.store(from, t[2], length);
        });
    }

    /** dx = dy * f'(y) from the saved output y over elements [0, n); dx may be y's or dy's storage. */
    public static void backwardFromOutput(OutputBackward kernel, Storage y, Storage dy, Storage dx, int n, float a,
                                          float b) {
        eachTile(n, (from, length, t) -> {
            y.load(from, t[0], length);
            dy.load(from, t[1], length);
            kernel.backward(t[0], t[1], t[2], length, a, b);
            dx.store(from, t[2], length);
        });
    }

    /** dst = src over elements [0, n), converted between their types. */
    public static void convert(Storage src, Storage dst, int n) {
        eachTile(n, (from, length, t) -> {
            src.load(from, t[0], length);
            dst.store(from, t[0], length);
        });
    }
}
