package dev.gpuact.fallback;

import static dev.gpuact.fallback.HalfFloats.FLOAT16_MIN_NORMAL_BITS;
import static dev.gpuact.fallback.HalfFloats.FLOAT16_OVERFLOW_BITS;
import static dev.gpuact.fallback.VectorMath.F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link HalfFloats}'s conversions on whole vectors: the same candidates and blends lane by lane, a short vector of
 * as many lanes as a float vector widened to ints and back. Each loop stops at the last whole vector.
 */
final class VectorHalfFloats implements HalfLoops {
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final VectorSpecies<Short> S =
            VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));

    // Kept out of callers' compilations for the reason VectorKernels gives.
    static {
        SeparateCompilation.loopsApart(VectorHalfFloats.class);
    }

    /**
     * While C2 has not compiled a loop yet (Vector API code runs hundreds of times slower until then), each of its
     * first {@link WarmUp#CALLS} calls converts one vector, which C2 counts towards compiling it, and leaves the rest
     * to the scalar loop, as {@link WarmUp} does for the kernels.
     */
    private static final class Prefix {
        private int calls;  // racy: the switch only has to happen at about this many

        int of(int count) {
            int end = F.loopBound(count);
            if (calls < WarmUp.CALLS) {
                calls++;
                return Math.min(end, F.length());
            }
            return end;
        }
    }

    private final Prefix widenFloat16 = new Prefix();
    private final Prefix narrowFloat16 = new Prefix();
    private final Prefix widenBfloat16 = new Prefix();
    private final Prefix narrowBfloat16 = new Prefix();

    @Override
    public int widenFloat16(short[] bits, int from, float[] tile, int count) {
        int end = widenFloat16.of(count);
        widenFloat16Loop(bits, from, tile, end);
        return end;
    }

    @Override
    public int narrowFloat16(float[] tile, short[] bits, int from, int count) {
        int end = narrowFloat16.of(count);
        narrowFloat16Loop(tile, bits, from, end);
        return end;
    }

    @Override
    public int widenBfloat16(short[] bits, int from, float[] tile, int count) {
        int end = widenBfloat16.of(count);
        widenBfloat16Loop(bits, from, tile, end);
        return end;
    }

    @Override
    public int narrowBfloat16(float[] tile, short[] bits, int from, int count) {
        int end = narrowBfloat16.of(count);
        narrowBfloat16Loop(tile, bits, from, end);
        return end;
    }

    private static IntVector widen(short[] bits, int offset) {
        return (IntVector) ShortVector.fromArray(S, bits, offset).convertShape(VectorOperators.S2I, I, 0);
    }

    private static void narrow(IntVector h, short[] bits, int offset) {
        ((ShortVector) h.convertShape(VectorOperators.I2S, S, 0)).intoArray(bits, offset);
    }

    private static void widenFloat16Loop(short[] bits, int from, float[] tile, int end) {
        for (int i = 0; i < end; i += F.length()) {
            IntVector h = widen(bits, from + i);
            IntVector exponent = h.and(0x7c00);
            IntVector rebiased = h.and(0x7fff).lanewise(LSHL, 13).add((127 - 15) << 23);
            IntVector subnormal = rebiased.add(1 << 23).reinterpretAsFloats().sub(0x1p-14f).reinterpretAsInts();
            IntVector magnitude = rebiased.blend(subnormal, exponent.eq(0))
                    .blend(rebiased.add((128 - 16) << 23), exponent.eq(0x7c00));
            h.and(0x8000).lanewise(LSHL, 16).or(magnitude).reinterpretAsFloats().intoArray(tile, i);
        }
    }

    private static void narrowFloat16Loop(float[] tile, short[] bits, int from, int end) {
        for (int i = 0; i < end; i += F.length()) {
            IntVector f = FloatVector.fromArray(F, tile, i).reinterpretAsInts();
            IntVector magnitude = f.and(0x7fffffff);
            IntVector normal = magnitude.add(0xfff - ((127 - 15) << 23))
                    .add(magnitude.lanewise(LSHR, 13).and(1)).lanewise(LSHR, 13);
            IntVector subnormal = magnitude.reinterpretAsFloats().add(0.5f).reinterpretAsInts().sub(0x3f000000);
            IntVector nan = magnitude.lanewise(LSHR, 13).and(0x3ff).or(0x7e00);
            IntVector h = normal.blend(subnormal, magnitude.lt(FLOAT16_MIN_NORMAL_BITS))
                    .blend(0x7c00, magnitude.compare(VectorOperators.GE, FLOAT16_OVERFLOW_BITS))
                    .blend(nan, magnitude.compare(VectorOperators.GT, 0x7f800000));
            narrow(f.lanewise(LSHR, 16).and(0x8000).or(h), bits, from + i);
        }
    }

    private static void widenBfloat16Loop(short[] bits, int from, float[] tile, int end) {
        for (int i = 0; i < end; i += F.length()) {
            widen(bits, from + i).lanewise(LSHL, 16).reinterpretAsFloats().intoArray(tile, i);
        }
    }

    private static void narrowBfloat16Loop(float[] tile, short[] bits, int from, int end) {
        for (int i = 0; i < end; i += F.length()) {
            IntVector f = FloatVector.fromArray(F, tile, i).reinterpretAsInts();
            IntVector upper = f.lanewise(LSHR, 16);
            IntVector rounded = f.add(0x7fff).add(upper.and(1)).lanewise(LSHR, 16);
            VectorMask<Integer> nan = f.and(0x7fffffff).compare(VectorOperators.GT, 0x7f800000);
            narrow(rounded.blend(upper.or(0x40), nan), bits, from + i);
        }
    }
}
