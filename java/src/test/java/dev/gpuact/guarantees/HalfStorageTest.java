package dev.gpuact.guarantees;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import dev.gpuact.Stream;
import dev.gpuact.fallback.HalfFloats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * float16 and bfloat16 buffers on every backend: two bytes an element, float transfers that round once and widen
 * exactly, raw bits kept as they are, conversions by copy, in-place calls, streams, and scratch memory given back
 * after a call that runs through float32. The numbers of every op are the conformance suite's ({@code <op>@float16}).
 */
class HalfStorageTest {
    private static final DType[] TYPES = {DType.FLOAT16, DType.BFLOAT16};

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void aSixteenBitBufferHoldsTwoBytesAnElementStartingAtZero(String name) {
        try (Backend b = TestBackends.open(name)) {
            for (DType type : TYPES) {
                long before = b.memory().bytesInUse();
                try (DeviceBuffer buffer = b.allocate(type, 1001)) {
                    assertThat(buffer.dtype()).isEqualTo(type);
                    assertThat(buffer.byteSize()).isEqualTo(2002);
                    assertThat(b.memory().bytesInUse() - before).isEqualTo(2002);
                    short[] bits = new short[1001];
                    buffer.read(0, bits, 0, bits.length);
                    assertThat(bits).containsOnly((short) 0);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void floatWritesRoundOnceToNearestEvenAndReadsWidenExactly(String name) {
        float[] values = {1 + 0x1p-11f, 1 + 3 * 0x1p-11f, 1 + 0x1p-8f, 1 + 3 * 0x1p-8f, 65504, 65519.99f, 65520,
            0x1p-25f, 3 * 0x1p-25f, -0f, Float.NaN, Float.NEGATIVE_INFINITY, 3.3895314e38f, 1e-40f, -2.5f, 0.1f};
        try (Backend b = TestBackends.open(name)) {
            for (DType type : TYPES) {
                try (DeviceBuffer array = b.allocate(type, values.length);
                     DeviceBuffer direct = b.allocate(type, values.length)) {
                    array.upload(values);
                    FloatBuffer host = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder())
                            .asFloatBuffer().put(values).flip();
                    direct.write(0, host);
                    for (DeviceBuffer buffer : new DeviceBuffer[] {array, direct}) {
                        short[] bits = new short[values.length];
                        buffer.read(0, bits, 0, bits.length);
                        float[] read = buffer.toArray();
                        for (int i = 0; i < values.length; i++) {
                            short want = type == DType.FLOAT16 ? HalfFloats.floatToFloat16(values[i])
                                    : HalfFloats.floatToBfloat16(values[i]);
                            assertThat(bits[i]).as("%s bits of %s", type, values[i]).isEqualTo(want);
                            assertThat(Float.floatToRawIntBits(read[i])).as("%s %s read back", type, values[i])
                                    .isEqualTo(Float.floatToRawIntBits(type.fromBits(want)));
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void everyBitPatternSurvivesRawTransfersAndACopy(String name) {
        short[] all = new short[65536];
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        try (Backend b = TestBackends.open(name)) {
            for (DType type : TYPES) {
                try (DeviceBuffer buffer = b.allocate(type, all.length + 3); DeviceBuffer copy = b.allocate(type, all.length + 3)) {
                    buffer.write(3, all, 0, all.length);
                    b.copy(buffer, copy);
                    short[] back = new short[all.length];
                    copy.read(3, back, 0, back.length);
                    assertThat(back).as("%s bits after write, copy and read", type).containsExactly(all);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void copyConvertsBetweenTypes(String name) {
        float[] values = {1 + 0x1p-11f, 1 + 0x1p-9f, 70000, Float.NaN, -0.1f, 0x1p-20f};
        try (Backend b = TestBackends.open(name);
             DeviceBuffer wide = b.upload(values);
             DeviceBuffer half = b.allocate(DType.FLOAT16, values.length);
             DeviceBuffer brain = b.allocate(DType.BFLOAT16, values.length);
             DeviceBuffer back = b.allocate(values.length)) {
            b.copy(wide, half);
            b.copy(half, brain);
            b.copy(brain, back);
            float[] got = back.toArray();
            for (int i = 0; i < values.length; i++) {
                float want = DType.BFLOAT16.round(DType.FLOAT16.round(values[i]));
                assertThat(Float.floatToIntBits(got[i])).as("%s through float16 and bfloat16", values[i])
                        .isEqualTo(Float.floatToIntBits(want));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void inPlaceCallsGiveWhatSeparateBuffersGive(String name) {
        int rows = 7;
        int cols = 300;
        float[] x = random(rows * cols, 1);
        try (Backend b = TestBackends.open(name)) {
            for (DType type : TYPES) {
                RowLayout layout = RowLayout.of(rows, cols);
                float[] apart = call(b, type, x, (in, out) -> {
                    b.apply(Activation.GELU, in, out);
                    return out;
                });
                float[] inPlace = call(b, type, x, (in, out) -> {
                    b.apply(Activation.GELU, in, in);
                    return in;
                });
                assertThat(inPlace).as("%s gelu in place", type).containsExactly(apart);
                float[] rowsApart = call(b, type, x, (in, out) -> {
                    b.applyRows(Activation.SOFTMAX, in, out, layout);
                    return out;
                });
                float[] rowsInPlace = call(b, type, x, (in, out) -> {
                    b.applyRows(Activation.SOFTMAX, in, in, layout);
                    return in;
                });
                assertThat(rowsInPlace).as("%s softmax in place", type).containsExactly(rowsApart);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void aStreamGivesWhatTheBackendGivesAndScratchIsGivenBack(String name) {
        int rows = 5;
        int cols = 1000;
        float[] x = random(rows * cols, 2);
        RowLayout layout = RowLayout.of(rows, cols);
        try (Backend b = TestBackends.open(name)) {
            for (DType type : TYPES) {
                float[] ownSoftmax = call(b, type, x, (in, out) -> {
                    b.applyRows(Activation.LOG_SOFTMAX, in, out, layout);
                    return out;
                });
                float[] ownSigmoid = call(b, type, x, (in, out) -> {
                    b.apply(Activation.SIGMOID, in, out);
                    return out;
                });
                Backend.MemoryStats before = b.memory();
                try (Stream s = b.newStream()) {
                    float[] streamSoftmax = call(b, type, x, (in, out) -> {
                        s.applyRows(Activation.LOG_SOFTMAX, in, out, layout);
                        s.synchronize();
                        return out;
                    });
                    float[] streamSigmoid = call(b, type, x, (in, out) -> {
                        s.apply(Activation.SIGMOID, in, out);
                        s.synchronize();
                        return out;
                    });
                    assertThat(streamSoftmax).as("%s log_softmax on a stream", type).containsExactly(ownSoftmax);
                    assertThat(streamSigmoid).as("%s sigmoid on a stream", type).containsExactly(ownSigmoid);
                }
                assertThat(b.memory()).as("%s: held after the calls", type).isEqualTo(before);
            }
        }
    }

    /** A call on an input buffer and an output buffer; it returns the one its result is in. */
    @FunctionalInterface
    private interface Call {
        DeviceBuffer run(DeviceBuffer in, DeviceBuffer out);
    }

    /** {@code call} on a buffer of {@code type} holding x and an output of the same type and length. */
    private static float[] call(Backend b, DType type, float[] x, Call call) {
        try (DeviceBuffer in = b.allocate(type, x.length); DeviceBuffer out = b.allocate(type, x.length)) {
            in.upload(x);
            return call.run(in, out).toArray();
        }
    }

    private static float[] random(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextDouble(-8, 8);
        }
        return x;
    }
}
