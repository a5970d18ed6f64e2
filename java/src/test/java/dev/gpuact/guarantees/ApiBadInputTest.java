package dev.gpuact.guarantees;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import dev.gpuact.RowMask;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every public method of the API against null, mismatched sizes, negative and overflowing sizes, offsets past the
 * end, closed and foreign buffers, forbidden aliasing and out-of-range parameters. Each bad call must throw the
 * documented exception with a message naming what was wrong, and leave every buffer and host array as it was: they
 * are all filled with a sentinel pattern first and compared after every case.
 */
class ApiBadInputTest {
    private static final int N = 64;
    private static final int CHANNELS = 4;

    /** A rejected call: the exception type and the fragments its message must hold. */
    record Case(String what, Class<? extends Throwable> type, ThrowingCallable call, String... fragments) {
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void everyBadCallIsRejectedByNameAndTouchesNothing(String name) {
        try (Backend b = TestBackends.open(name); Backend other = TestBackends.open(name); Fixture f = new Fixture(b, other)) {
            List<Case> cases = new ArrayList<>();
            allocation(cases, b);
            elementwise(cases, b, f);
            rowwise(cases, b, f);
            prelu(cases, b, f);
            bias(cases, b, f);
            bufferAccess(cases, f);
            masked(cases, b, f);
            gated(cases, b, f);
            for (Case c : cases) {
                assertThatThrownBy(c.call()).as(c.what()).isInstanceOf(c.type()).message().as(c.what())
                        .contains(c.fragments());
                f.assertUntouched(c.what());
            }
            assertThat(b.memory()).as("what the backend holds after %d rejected calls", cases.size())
                    .isEqualTo(new Backend.MemoryStats(f.buffers.size(), f.bytes()));
            System.out.printf("bad input on %s: %d cases rejected with the expected message, buffers intact%n",
                    name, cases.size());
        }
    }

    private static void allocation(List<Case> cases, Backend b) {
        cases.add(new Case("allocate: null dtype", NullPointerException.class, () -> b.allocate(null, 4), "dtype"));
        cases.add(new Case("allocate: negative", IllegalArgumentException.class, () -> b.allocate(-1),
                "length must be >= 0, got -1"));
        cases.add(new Case("allocate: Long.MIN_VALUE", IllegalArgumentException.class, () -> b.allocate(Long.MIN_VALUE),
                "length must be >= 0, got " + Long.MIN_VALUE));
        cases.add(new Case("allocate: Long.MAX_VALUE", IllegalArgumentException.class, () -> b.allocate(Long.MAX_VALUE),
                "length " + Long.MAX_VALUE));
        cases.add(new Case("allocate: bytes overflow", IllegalArgumentException.class,
                () -> b.allocate(Long.MAX_VALUE / 4 + 1), "overflows"));
        cases.add(new Case("allocate: unsupported dtype", UnsupportedOperationException.class,
                () -> b.allocate(DType.FLOAT64, 4), "FLOAT64"));
        cases.add(new Case("upload: null", NullPointerException.class, () -> b.upload(null), "host"));
    }

    private static void elementwise(List<Case> cases, Backend b, Fixture f) {
        Activation relu = Activation.RELU;
        cases.add(new Case("apply: null activation", NullPointerException.class, () -> b.apply(null, f.x, f.y), "activation"));
        cases.add(new Case("apply: null x", NullPointerException.class, () -> b.apply(relu, null, f.y), "x"));
        cases.add(new Case("apply: null y", NullPointerException.class, () -> b.apply(relu, f.x, null), "y"));
        cases.add(new Case("apply: row-wise op", IllegalArgumentException.class,
                () -> b.apply(Activation.SOFTMAX, f.x, f.y), "softmax is not elementwise", "applyRows()"));
        cases.add(new Case("apply: prelu", IllegalArgumentException.class,
                () -> b.apply(Activation.of(Op.PRELU), f.x, f.y), "prelu is not elementwise", "prelu()"));
        cases.add(new Case("apply: lengths differ", IllegalArgumentException.class, () -> b.apply(relu, f.x, f.shorter),
                "x and y differ in length: 64 vs 63"));
        cases.add(new Case("apply: closed x", IllegalStateException.class, () -> b.apply(relu, f.closed, f.y),
                "x is a closed buffer"));
        cases.add(new Case("apply: y of another instance", IllegalArgumentException.class,
                () -> b.apply(relu, f.x, f.foreign), "y belongs to another", b.name()));
        cases.add(new Case("apply: y not made by a backend", IllegalArgumentException.class,
                () -> b.apply(relu, f.x, f.alien), "y is not a buffer of this"));
        cases.add(new Case("applyBackward: null activation", NullPointerException.class,
                () -> b.applyBackward(null, f.x, f.dy, f.dx), "activation"));
        cases.add(new Case("applyBackward: null x", NullPointerException.class,
                () -> b.applyBackward(relu, null, f.dy, f.dx), "x"));
        cases.add(new Case("applyBackward: null dy", NullPointerException.class,
                () -> b.applyBackward(relu, f.x, null, f.dx), "dy"));
        cases.add(new Case("applyBackward: null dx", NullPointerException.class,
                () -> b.applyBackward(relu, f.x, f.dy, null), "dx"));
        cases.add(new Case("applyBackward: row-wise op", IllegalArgumentException.class,
                () -> b.applyBackward(Activation.LOG_SOFTMAX, f.x, f.dy, f.dx), "log_softmax is not elementwise"));
        cases.add(new Case("applyBackward: dy shorter", IllegalArgumentException.class,
                () -> b.applyBackward(relu, f.x, f.shorter, f.dx), "x and dy differ in length: 64 vs 63"));
        cases.add(new Case("applyBackward: dx shorter", IllegalArgumentException.class,
                () -> b.applyBackward(relu, f.x, f.dy, f.shorter), "x and dx differ in length: 64 vs 63"));
        cases.add(new Case("applyBackward: closed dy", IllegalStateException.class,
                () -> b.applyBackward(relu, f.x, f.closed, f.dx), "dy is a closed buffer"));
        cases.add(new Case("applyBackward: dx of another instance", IllegalArgumentException.class,
                () -> b.applyBackward(relu, f.x, f.dy, f.foreign), "dx belongs to another"));
    }

    private static void rowwise(List<Case> cases, Backend b, Fixture f) {
        Activation softmax = Activation.SOFTMAX;
        RowLayout square = RowLayout.of(8, 8);
        cases.add(new Case("applyRows: null activation", NullPointerException.class,
                () -> b.applyRows(null, f.x, f.y, square), "activation"));
        cases.add(new Case("applyRows: elementwise op", IllegalArgumentException.class,
                () -> b.applyRows(Activation.GELU, f.x, f.y, square), "gelu is not row-wise", "apply()"));
        cases.add(new Case("applyRows: null layout", NullPointerException.class,
                () -> b.applyRows(softmax, f.x, f.y, null), "layout"));
        cases.add(new Case("applyRows: null x", NullPointerException.class, () -> b.applyRows(softmax, null, f.y, square), "x"));
        cases.add(new Case("applyRows: null y", NullPointerException.class, () -> b.applyRows(softmax, f.x, null, square), "y"));
        cases.add(new Case("applyRows: x too short", IllegalArgumentException.class,
                () -> b.applyRows(softmax, f.x, f.y, RowLayout.of(8, 9)), "x holds 64 elements", "needs 72"));
        cases.add(new Case("applyRows: y too short", IllegalArgumentException.class,
                () -> b.applyRows(softmax, f.x, f.shorter, square), "y holds 63 elements", "needs 64"));
        cases.add(new Case("applyRows: rows x cols past 2^31", IllegalArgumentException.class,
                () -> b.applyRows(softmax, f.x, f.y, RowLayout.of(1 << 16, 1 << 16)), "x holds 64", "needs 4294967296"));
        cases.add(new Case("applyRows: extent of 2^60", IllegalArgumentException.class,
                () -> b.applyRows(softmax, f.x, f.y, RowLayout.of(1L << 40, 1L << 20)), "x holds 64",
                "needs " + (1L << 60)));
        cases.add(new Case("applyRows: yStride under the row", IllegalArgumentException.class,
                () -> b.applyRows(softmax, f.x, f.y, new RowLayout(8, 8, 8, 4)), "yStride must be >= the output row length (8), got 4"));
        cases.add(new Case("applyRows: maxout pieces not dividing cols", IllegalArgumentException.class,
                () -> b.applyRows(Activation.maxout(3), f.x, f.y, square), "pieces (3) must divide cols (8)"));
        cases.add(new Case("applyRows: maxout in place", IllegalArgumentException.class,
                () -> b.applyRows(Activation.maxout(2), f.x, f.x, RowLayout.of(8, 8, 4)), "maxout: y may be the same buffer as x only"));
        cases.add(new Case("applyRows: in place with different strides", IllegalArgumentException.class,
                () -> b.applyRows(softmax, f.x, f.x, new RowLayout(4, 8, 16, 8)), "softmax: y may be the same buffer as x only"));
        cases.add(new Case("applyRows: closed x", IllegalStateException.class,
                () -> b.applyRows(softmax, f.closed, f.y, square), "x is a closed buffer"));
        cases.add(new Case("applyRows: y of another instance", IllegalArgumentException.class,
                () -> b.applyRows(softmax, f.x, f.foreign, square), "y belongs to another"));
        cases.add(new Case("applyRowsBackward: dx is x", IllegalArgumentException.class,
                () -> b.applyRowsBackward(softmax, f.x, f.dy, f.x, square), "dx must be a buffer of its own"));
        cases.add(new Case("applyRowsBackward: dx is dy", IllegalArgumentException.class,
                () -> b.applyRowsBackward(softmax, f.x, f.dy, f.dy, square), "dx must be a buffer of its own"));
        cases.add(new Case("applyRowsBackward: dx too short", IllegalArgumentException.class,
                () -> b.applyRowsBackward(softmax, f.x, f.dy, f.shorter, square), "dx holds 63 elements"));
        cases.add(new Case("applyRowsBackward: dy too short", IllegalArgumentException.class,
                () -> b.applyRowsBackward(softmax, f.x, f.shorter, f.dx, square), "dy holds 63 elements"));
        cases.add(new Case("applyRowsBackward: null dx", NullPointerException.class,
                () -> b.applyRowsBackward(softmax, f.x, f.dy, null, square), "dx"));
        cases.add(new Case("applyRowsBackward: null layout", NullPointerException.class,
                () -> b.applyRowsBackward(softmax, f.x, f.dy, f.dx, null), "layout"));
        cases.add(new Case("applyRowsBackward: elementwise op", IllegalArgumentException.class,
                () -> b.applyRowsBackward(Activation.RELU, f.x, f.dy, f.dx, square), "relu is not row-wise"));
        cases.add(new Case("applyRowsBackward: maxout pieces not dividing cols", IllegalArgumentException.class,
                () -> b.applyRowsBackward(Activation.maxout(5), f.x, f.dy, f.dx, square), "pieces (5) must divide cols (8)"));
        cases.add(new Case("applyRowsBackward: closed dx", IllegalStateException.class,
                () -> b.applyRowsBackward(softmax, f.x, f.dy, f.closed, square), "dx is a closed buffer"));
        cases.add(new Case("applyRowsBackward: dy of another instance", IllegalArgumentException.class,
                () -> b.applyRowsBackward(softmax, f.x, f.foreign, f.dx, square), "dy belongs to another"));
        cases.add(new Case("softmax: cols past the buffer", IllegalArgumentException.class,
                () -> b.softmax(f.x, f.y, 1, Integer.MAX_VALUE + 1L), "x holds 64", "needs 2147483648"));
        cases.add(new Case("softmax: negative rows", IllegalArgumentException.class,
                () -> b.softmax(f.x, f.y, -8, 8), "rows must be >= 0, got -8"));
    }

    private static void prelu(List<Case> cases, Backend b, Fixture f) {
        cases.add(new Case("prelu: null x", NullPointerException.class, () -> b.prelu(null, f.w, f.y, CHANNELS, 1), "x"));
        cases.add(new Case("prelu: null weight", NullPointerException.class, () -> b.prelu(f.x, null, f.y, CHANNELS, 1), "weight"));
        cases.add(new Case("prelu: null y", NullPointerException.class, () -> b.prelu(f.x, f.w, null, CHANNELS, 1), "y"));
        cases.add(new Case("prelu: zero channels", IllegalArgumentException.class,
                () -> b.prelu(f.x, f.w, f.y, 0, 1), "channels must be >= 1, got 0"));
        cases.add(new Case("prelu: Long.MAX_VALUE channels", IllegalArgumentException.class,
                () -> b.prelu(f.x, f.w, f.y, Long.MAX_VALUE, 1), "weight holds 4 elements but channels is " + Long.MAX_VALUE));
        cases.add(new Case("prelu: zero inner", IllegalArgumentException.class,
                () -> b.prelu(f.x, f.w, f.y, CHANNELS, 0), "inner must be >= 1, got 0"));
        cases.add(new Case("prelu: Long.MIN_VALUE inner", IllegalArgumentException.class,
                () -> b.prelu(f.x, f.w, f.y, CHANNELS, Long.MIN_VALUE), "inner must be >= 1, got " + Long.MIN_VALUE));
        cases.add(new Case("prelu: weight length is not channels", IllegalArgumentException.class,
                () -> b.prelu(f.x, f.w, f.y, CHANNELS + 1, 1), "weight holds 4 elements but channels is 5"));
        cases.add(new Case("prelu: y is the weight", IllegalArgumentException.class,
                () -> b.prelu(f.w, f.w, f.w, CHANNELS, 1), "y must not be the weight buffer"));
        cases.add(new Case("prelu: lengths differ", IllegalArgumentException.class,
                () -> b.prelu(f.x, f.w, f.shorter, CHANNELS, 1), "x and y differ in length: 64 vs 63"));
        cases.add(new Case("prelu: closed weight", IllegalStateException.class,
                () -> b.prelu(f.x, f.closed, f.y, CHANNELS, 1), "weight is a closed buffer"));
        cases.add(new Case("prelu: weight of another instance", IllegalArgumentException.class,
                () -> b.prelu(f.x, f.foreign, f.y, CHANNELS, 1), "weight belongs to another"));
        String ownBuffers = "dx and dweight must be buffers of their own";
        cases.add(new Case("preluBackward: dx is x", IllegalArgumentException.class,
                () -> b.preluBackward(f.x, f.w, f.dy, f.x, f.dw, CHANNELS, 1), ownBuffers));
        cases.add(new Case("preluBackward: dx is the weight", IllegalArgumentException.class,
                () -> b.preluBackward(f.c1, f.w, f.c2, f.w, f.dw, CHANNELS, 1), ownBuffers));
        cases.add(new Case("preluBackward: dweight is the weight", IllegalArgumentException.class,
                () -> b.preluBackward(f.x, f.w, f.dy, f.dx, f.w, CHANNELS, 1), ownBuffers));
        cases.add(new Case("preluBackward: dweight is dy", IllegalArgumentException.class,
                () -> b.preluBackward(f.c1, f.w, f.dw, f.c2, f.dw, CHANNELS, 1), ownBuffers));
        cases.add(new Case("preluBackward: dweight is dx", IllegalArgumentException.class,
                () -> b.preluBackward(f.c1, f.w, f.c2, f.dw, f.dw, CHANNELS, 1), ownBuffers));
        cases.add(new Case("preluBackward: dweight length", IllegalArgumentException.class,
                () -> b.preluBackward(f.x, f.w, f.dy, f.dx, f.shorter, CHANNELS, 1), "weight and dweight differ in length: 4 vs 63"));
        cases.add(new Case("preluBackward: dy length", IllegalArgumentException.class,
                () -> b.preluBackward(f.x, f.w, f.shorter, f.dx, f.dw, CHANNELS, 1), "x and dy differ in length"));
        cases.add(new Case("preluBackward: zero channels", IllegalArgumentException.class,
                () -> b.preluBackward(f.x, f.w, f.dy, f.dx, f.dw, 0, 1), "channels must be >= 1"));
        cases.add(new Case("preluBackward: null dweight", NullPointerException.class,
                () -> b.preluBackward(f.x, f.w, f.dy, f.dx, null, CHANNELS, 1), "dweight"));
        cases.add(new Case("preluBackward: closed dweight", IllegalStateException.class,
                () -> b.preluBackward(f.x, f.w, f.dy, f.dx, f.closed, CHANNELS, 1), "dweight is a closed buffer"));
        cases.add(new Case("preluBackward: dx of another instance", IllegalArgumentException.class,
                () -> b.preluBackward(f.x, f.w, f.dy, f.foreign, f.dw, CHANNELS, 1), "dx belongs to another"));
    }

    private static void bias(List<Case> cases, Backend b, Fixture f) {
        Activation gelu = Activation.GELU;
        cases.add(new Case("applyBias: null activation", NullPointerException.class,
                () -> b.applyBias(null, f.x, f.w, f.y, CHANNELS, 1), "activation"));
        cases.add(new Case("applyBias: null bias", NullPointerException.class,
                () -> b.applyBias(gelu, f.x, null, f.y, CHANNELS, 1), "bias"));
        cases.add(new Case("applyBias: row-wise op", IllegalArgumentException.class,
                () -> b.applyBias(Activation.SOFTMAX, f.x, f.w, f.y, CHANNELS, 1), "applyBias: softmax is not elementwise"));
        cases.add(new Case("applyBias: prelu", IllegalArgumentException.class,
                () -> b.applyBias(Activation.of(Op.PRELU), f.x, f.w, f.y, CHANNELS, 1), "prelu is not elementwise"));
        cases.add(new Case("applyBias: zero channels", IllegalArgumentException.class,
                () -> b.applyBias(gelu, f.x, f.w, f.y, 0, 1), "channels must be >= 1, got 0"));
        cases.add(new Case("applyBias: zero inner", IllegalArgumentException.class,
                () -> b.applyBias(gelu, f.x, f.w, f.y, CHANNELS, 0), "inner must be >= 1, got 0"));
        cases.add(new Case("applyBias: bias length is not channels", IllegalArgumentException.class,
                () -> b.applyBias(gelu, f.x, f.w, f.y, CHANNELS + 1, 1), "bias holds 4 elements but channels is 5"));
        cases.add(new Case("applyBias: y is the bias", IllegalArgumentException.class,
                () -> b.applyBias(gelu, f.w, f.w, f.w, CHANNELS, 1), "y must not be the bias buffer"));
        cases.add(new Case("applyBias: lengths differ", IllegalArgumentException.class,
                () -> b.applyBias(gelu, f.x, f.w, f.shorter, CHANNELS, 1), "x and y differ in length: 64 vs 63"));
        cases.add(new Case("applyBias: closed bias", IllegalStateException.class,
                () -> b.applyBias(gelu, f.x, f.closed, f.y, CHANNELS, 1), "bias is a closed buffer"));
        cases.add(new Case("applyBias: bias of another instance", IllegalArgumentException.class,
                () -> b.applyBias(gelu, f.x, f.foreign, f.y, CHANNELS, 1), "bias belongs to another"));
        String ownBuffers = "dx and dbias must be buffers of their own";
        cases.add(new Case("applyBiasBackward: dx is the bias", IllegalArgumentException.class,
                () -> b.applyBiasBackward(gelu, f.c1, f.w, f.c2, f.w, f.dw, CHANNELS, 1), ownBuffers));
        cases.add(new Case("applyBiasBackward: dbias is the bias", IllegalArgumentException.class,
                () -> b.applyBiasBackward(gelu, f.x, f.w, f.dy, f.dx, f.w, CHANNELS, 1), ownBuffers));
        cases.add(new Case("applyBiasBackward: dbias is x", IllegalArgumentException.class,
                () -> b.applyBiasBackward(gelu, f.dw, f.w, f.c2, f.c1, f.dw, CHANNELS, 1), ownBuffers));
        cases.add(new Case("applyBiasBackward: dbias is dy", IllegalArgumentException.class,
                () -> b.applyBiasBackward(gelu, f.c1, f.w, f.dw, f.c2, f.dw, CHANNELS, 1), ownBuffers));
        cases.add(new Case("applyBiasBackward: dbias is dx", IllegalArgumentException.class,
                () -> b.applyBiasBackward(gelu, f.c1, f.w, f.c2, f.dw, f.dw, CHANNELS, 1), ownBuffers));
        cases.add(new Case("applyBiasBackward: dbias length", IllegalArgumentException.class,
                () -> b.applyBiasBackward(gelu, f.x, f.w, f.dy, f.dx, f.shorter, CHANNELS, 1),
                "bias and dbias differ in length: 4 vs 63"));
        cases.add(new Case("applyBiasBackward: dx length", IllegalArgumentException.class,
                () -> b.applyBiasBackward(gelu, f.x, f.w, f.dy, f.shorter, f.dw, CHANNELS, 1), "x and dx differ in length"));
        cases.add(new Case("applyBiasBackward: row-wise op", IllegalArgumentException.class,
                () -> b.applyBiasBackward(Activation.LOG_SOFTMAX, f.x, f.w, f.dy, f.dx, f.dw, CHANNELS, 1),
                "applyBiasBackward: log_softmax is not elementwise"));
        cases.add(new Case("applyBiasBackward: null dbias", NullPointerException.class,
                () -> b.applyBiasBackward(gelu, f.x, f.w, f.dy, f.dx, null, CHANNELS, 1), "dbias"));
        cases.add(new Case("applyBiasBackward: closed dbias", IllegalStateException.class,
                () -> b.applyBiasBackward(gelu, f.x, f.w, f.dy, f.dx, f.closed, CHANNELS, 1), "dbias is a closed buffer"));
        cases.add(new Case("applyBiasBackward: negative inner", IllegalArgumentException.class,
                () -> b.applyBiasBackward(gelu, f.x, f.w, f.dy, f.dx, f.dw, CHANNELS, -3), "inner must be >= 1, got -3"));
    }

    /** x of N = 4 rows of 2 x 8: y and dy are then {@code half}, and the fixture's other buffers the wrong length. */
    private static void gated(List<Case> cases, Backend b, Fixture f) {
        Activation swiglu = Activation.SWIGLU;
        cases.add(new Case("gated: null activation", NullPointerException.class, () -> b.gated(null, f.x, f.y, 4, 8),
                "activation"));
        cases.add(new Case("gated: null x", NullPointerException.class, () -> b.gated(swiglu, null, f.y, 4, 8), "x"));
        cases.add(new Case("gated: not a gated op", IllegalArgumentException.class,
                () -> b.gated(Activation.GELU, f.x, f.y, 4, 8), "gated: gelu is not a gated activation"));
        cases.add(new Case("gated: x is not [rows, 2 * hidden]", IllegalArgumentException.class,
                () -> b.gated(swiglu, f.x, f.y, 4, 16),
                "x holds 64 elements but [rows, 2 * hidden] with rows=4, hidden=16 is 128"));
        cases.add(new Case("gated: y is not [rows, hidden]", IllegalArgumentException.class,
                () -> b.gated(swiglu, f.x, f.y, 4, 8), "y holds 64 elements but [rows, hidden] with rows=4, hidden=8 is 32"));
        cases.add(new Case("gated: negative rows", IllegalArgumentException.class,
                () -> b.gated(swiglu, f.x, f.y, -1, 8), "rows must be >= 0, got -1"));
        cases.add(new Case("gated: negative hidden", IllegalArgumentException.class,
                () -> b.gated(swiglu, f.x, f.y, 4, Long.MIN_VALUE), "hidden must be >= 0, got " + Long.MIN_VALUE));
        cases.add(new Case("gated: rows x 2 hidden overflows", IllegalArgumentException.class,
                () -> b.gated(swiglu, f.x, f.y, Long.MAX_VALUE, 2), "overflows"));
        cases.add(new Case("gated: closed y", IllegalStateException.class, () -> b.gated(swiglu, f.x, f.closed, 4, 8),
                "y is a closed buffer"));
        cases.add(new Case("gated: a and b one buffer", IllegalArgumentException.class,
                () -> b.gated(Activation.GLU, f.x, f.x, f.y), "a and b must be buffers of their own"));
        cases.add(new Case("gated: a and b differ", IllegalArgumentException.class,
                () -> b.gated(swiglu, f.x, f.shorter, f.y), "a and b differ in length: 64 vs 63"));
        cases.add(new Case("gated: y of another instance", IllegalArgumentException.class,
                () -> b.gated(swiglu, f.x, f.dy, f.foreign), "y belongs to another"));
        cases.add(new Case("gated: alien b", IllegalArgumentException.class,
                () -> b.gated(swiglu, f.x, f.alien, f.y), "b is not a buffer of this"));
        cases.add(new Case("gatedBackward: not a gated op", IllegalArgumentException.class,
                () -> b.gatedBackward(Activation.RELU, f.x, f.dy, f.dx, 4, 8), "gatedBackward: relu is not a gated"));
        cases.add(new Case("gatedBackward: dy is not [rows, hidden]", IllegalArgumentException.class,
                () -> b.gatedBackward(swiglu, f.x, f.dy, f.dx, 4, 8), "dy holds 64 elements but [rows, hidden]"));
        cases.add(new Case("gatedBackward: dx is not [rows, 2 * hidden]", IllegalArgumentException.class,
                () -> b.gatedBackward(swiglu, f.x, f.half, f.shorter, 4, 8),
                "dx holds 63 elements but [rows, 2 * hidden] with rows=4, hidden=8 is 64"));
        String ownGradients = "da and db must be buffers of their own";
        cases.add(new Case("gatedBackward: da is b", IllegalArgumentException.class,
                () -> b.gatedBackward(swiglu, f.x, f.y, f.dy, f.y, f.dx), ownGradients));
        cases.add(new Case("gatedBackward: db is a", IllegalArgumentException.class,
                () -> b.gatedBackward(Activation.GLU, f.x, f.y, f.dy, f.dx, f.x), ownGradients));
        cases.add(new Case("gatedBackward: da is db", IllegalArgumentException.class,
                () -> b.gatedBackward(swiglu, f.x, f.y, f.dy, f.dx, f.dx), ownGradients));
        cases.add(new Case("gatedBackward: dy length", IllegalArgumentException.class,
                () -> b.gatedBackward(swiglu, f.x, f.y, f.shorter, f.dx, f.c1), "a and dy differ in length: 64 vs 63"));
        cases.add(new Case("gatedBackward: closed db", IllegalStateException.class,
                () -> b.gatedBackward(swiglu, f.x, f.y, f.dy, f.dx, f.closed), "db is a closed buffer"));
    }

    private static void bufferAccess(List<Case> cases, Fixture f) {
        DeviceBuffer x = f.x;
        float[] host = f.host;
        Class<IndexOutOfBoundsException> outside = IndexOutOfBoundsException.class;
        cases.add(new Case("write: null src", NullPointerException.class, () -> x.write(0, (float[]) null, 0, 1), "src"));
        cases.add(new Case("write: negative offset", outside, () -> x.write(-1, host, 0, 1), "buffer offset -1"));
        cases.add(new Case("write: offset at the end", outside, () -> x.write(N, host, 0, 1), "outside a buffer of 64"));
        cases.add(new Case("write: Long.MAX_VALUE offset", outside, () -> x.write(Long.MAX_VALUE, host, 0, 1),
                "buffer offset " + Long.MAX_VALUE));
        cases.add(new Case("write: count past the end", outside, () -> x.write(N - 2, host, 0, 3), "offset 62 + count 3"));
        cases.add(new Case("write: negative src offset", outside, () -> x.write(0, host, -1, 1), "src: offset -1"));
        cases.add(new Case("write: negative count", outside, () -> x.write(0, host, 0, -1), "count -1"));
        cases.add(new Case("write: src range past the array", outside, () -> x.write(0, host, 6, 3),
                "src: offset 6 + count 3 is outside an array of 8"));
        cases.add(new Case("write: Integer.MAX_VALUE count", outside, () -> x.write(0, host, 1, Integer.MAX_VALUE), "src"));
        cases.add(new Case("upload: longer than the buffer", outside, () -> f.shorter.upload(new float[N]),
                "outside a buffer of 63"));
        cases.add(new Case("upload: null", NullPointerException.class, () -> x.upload(null), "src"));
        cases.add(new Case("read: null dst", NullPointerException.class, () -> x.read(0, (float[]) null, 0, 1), "dst"));
        Class<IllegalArgumentException> illegal = IllegalArgumentException.class;
        cases.add(new Case("write bits: a FLOAT32 buffer", illegal, () -> x.write(0, new short[1], 0, 1),
                "destination is a FLOAT32 buffer: raw 16-bit access takes a FLOAT16 or BFLOAT16 buffer"));
        cases.add(new Case("read bits: a FLOAT32 buffer", illegal, () -> x.read(0, new short[1], 0, 1),
                "source is a FLOAT32 buffer: raw 16-bit access takes a FLOAT16 or BFLOAT16 buffer"));
        cases.add(new Case("write bits: null", NullPointerException.class, () -> f.bfloat16.write(0, (short[]) null, 0, 1),
                "bits"));
        cases.add(new Case("read bits: past the end", outside, () -> f.bfloat16.read(N - 1, new short[2], 0, 2),
                "outside a buffer of 64"));
        cases.add(new Case("read bits: dst range past the array", outside, () -> f.bfloat16.read(0, new short[2], 1, 2),
                "bits: offset 1 + count 2 is outside an array of 2"));
        cases.add(new Case("read: past the end", outside, () -> x.read(N - 4, host, 0, 5), "outside a buffer of 64"));
        cases.add(new Case("read: dst range past the array", outside, () -> x.read(0, host, 7, 2),
                "dst: offset 7 + count 2 is outside an array of 8"));
        cases.add(new Case("read: Long.MIN_VALUE offset", outside, () -> x.read(Long.MIN_VALUE, host, 0, 1),
                "buffer offset " + Long.MIN_VALUE));
        cases.add(new Case("download: longer than the buffer", outside, () -> f.shorter.download(new float[N]),
                "outside a buffer of 63"));
        cases.add(new Case("write(FloatBuffer): null", NullPointerException.class, () -> x.write(0, (FloatBuffer) null), "src"));
        cases.add(new Case("write(FloatBuffer): past the end", outside, () -> x.write(N - 2, FloatBuffer.wrap(host)),
                "offset 62 + count 8"));
        cases.add(new Case("write(FloatBuffer): negative offset", outside, () -> x.write(-5, FloatBuffer.wrap(host)),
                "buffer offset -5"));
        cases.add(new Case("read(FloatBuffer): null", NullPointerException.class, () -> x.read(0, (FloatBuffer) null), "dst"));
        cases.add(new Case("read(FloatBuffer): read-only", IllegalArgumentException.class,
                () -> x.read(0, f.hostBuffer.asReadOnlyBuffer()), "dst is a read-only FloatBuffer"));
        cases.add(new Case("read(FloatBuffer): past the end", outside, () -> x.read(N - 1, f.hostBuffer), "offset 63 + count 8"));
        cases.add(new Case("write: closed buffer", IllegalStateException.class, () -> f.closed.write(0, host, 0, 1),
                "closed buffer"));
        cases.add(new Case("read: closed buffer", IllegalStateException.class, () -> f.closed.read(0, host, 0, 1),
                "closed buffer"));
        cases.add(new Case("read(FloatBuffer): closed buffer", IllegalStateException.class,
                () -> f.closed.read(0, f.hostBuffer), "closed buffer"));
        cases.add(new Case("toArray: closed buffer", IllegalStateException.class, () -> f.closed.toArray(), "closed buffer"));
    }

    @Test
    void rowLayoutRejectsEveryBadDimensionByName() {
        assertThatThrownBy(() -> new RowLayout(-1, 4, 4, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("rows must be >= 0, got -1");
        assertThatThrownBy(() -> new RowLayout(1, -4, 4, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cols must be >= 0, got -4");
        assertThatThrownBy(() -> new RowLayout(2, 8, 7, 8)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("xStride must be >= cols (8), got 7");
        assertThatThrownBy(() -> new RowLayout(2, 8, 8, -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("yStride must be >= 0, got -1");
        assertThatThrownBy(() -> new RowLayout(Long.MAX_VALUE, 2, 2, 2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("rows x stride overflows");
        assertThatThrownBy(() -> new RowLayout(3, 1, Long.MAX_VALUE / 2, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("xStride=" + Long.MAX_VALUE / 2);
        assertThatThrownBy(() -> new RowLayout(3, 1, 1, Long.MAX_VALUE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("yStride=" + Long.MAX_VALUE);
        assertThatThrownBy(() -> RowLayout.of(Long.MIN_VALUE, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("rows must be >= 0");
    }

    @Test
    void activationParametersOutOfRangeAreNamed() {
        assertThatThrownBy(() -> Activation.of(null)).isInstanceOf(NullPointerException.class).hasMessageContaining("op");
        assertThatThrownBy(() -> Activation.of(Op.ELU, null)).isInstanceOf(NullPointerException.class).hasMessageContaining("values");
        Map<String, Number> nullValue = new HashMap<>();
        nullValue.put("alpha", null);
        assertRejected(() -> Activation.of(Op.ELU, nullValue), "elu: parameter 'alpha' is null");
        assertRejected(() -> Activation.of(Op.ELU, Map.of("beta", 1)), "elu: unknown parameter 'beta'", "alpha=1");
        assertRejected(() -> Activation.RELU.with("alpha", 1), "relu: unknown parameter 'alpha'", "it takes none");
        assertRejected(() -> Activation.RELU.param("alpha"), "relu: unknown parameter 'alpha'");
        assertRejected(() -> Activation.leakyRelu(Double.NaN), "leaky_relu: parameter 'alpha' must be a finite number, got NaN");
        assertRejected(() -> Activation.elu(Double.NEGATIVE_INFINITY), "elu: parameter 'alpha' must be a finite number");
        assertRejected(() -> Activation.celu(0), "celu: parameter 'alpha' must be a finite number > 0, got 0");
        assertRejected(() -> Activation.swish(Double.POSITIVE_INFINITY), "swish: parameter 'beta'");
        assertRejected(() -> Activation.softplus(-1, 20), "softplus: parameter 'beta' must be a finite number > 0, got -1");
        assertRejected(() -> Activation.softplus(1, Double.NaN), "softplus: parameter 'threshold'", "NaN");
        assertRejected(() -> Activation.hardtanh(1, -1), "hardtanh: parameter 'min' (1) must be <= 'max' (-1)");
        assertRejected(() -> Activation.hardsigmoid(Double.NaN, 0), "hardsigmoid: parameter 'alpha'");
        assertRejected(() -> Activation.softshrink(-0.5), "softshrink: parameter 'lambda' must be a finite number >= 0, got -0.5");
        assertRejected(() -> Activation.hardshrink(Double.MAX_VALUE * 2), "hardshrink: parameter 'lambda'");
        assertRejected(() -> Activation.threshold(Double.NaN, 0), "threshold: parameter 'threshold'");
        assertRejected(() -> Activation.softmax(0, false), "softmax: parameter 'temperature' must be a finite number > 0, got 0");
        assertRejected(() -> Activation.logSoftmax(-1, true), "log_softmax: parameter 'temperature'", "got -1");
        assertRejected(() -> Activation.of(Op.SOFTMAX, Map.of("masked_nan", 2)), "softmax: parameter 'masked_nan' must be true or false");
        assertRejected(() -> Activation.maxout(0), "maxout: parameter 'pieces' must be an integer >= 1, got 0");
        assertRejected(() -> Activation.of(Op.MAXOUT, Map.of("pieces", 2.5)), "maxout: parameter 'pieces'", "2.5");
        assertRejected(() -> Activation.of(Op.MAXOUT, Map.of("pieces", 3e9)), "maxout: parameter 'pieces'", "3000000000");
        // The kernels receive float32: a value that rounds to 0 or overflows to infinity there is out of range too.
        assertRejected(() -> Activation.celu(1e-50), "celu: parameter 'alpha' must be a finite number > 0", "float32");
        assertRejected(() -> Activation.leakyRelu(1e300), "leaky_relu: parameter 'alpha' must be a finite number", "float32");
        assertRejected(() -> Activation.softmax(1e-60, false), "softmax: parameter 'temperature'", "float32");
    }

    @Test
    void backendsNamesTheBadName() {
        assertThatThrownBy(() -> Backends.get(null)).isInstanceOf(NullPointerException.class).hasMessageContaining("name");
        assertRejected(() -> Backends.get("tpu"), "unknown backend 'tpu'; known: auto, ", "cpu");
        assertRejected(() -> Backends.get(" "), "unknown backend ' '");
    }

    private static void assertRejected(ThrowingCallable call, String... fragments) {
        assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class).message().contains(fragments);
    }

    /**
     * Buffers of every role, each filled with its own sentinel pattern, plus host arrays a failed read must not
     * touch: a closed buffer, one of another backend instance of the same kind, and one no backend made.
     */
    /** Masks that do not fit the layout, or ops that take none; f.dy serves as an 8 x 8 mask. */
    private static void masked(List<Case> cases, Backend b, Fixture f) {
        Activation softmax = Activation.SOFTMAX;
        RowLayout square = RowLayout.of(8, 8);
        RowMask mask = RowMask.none().add(f.dy);
        cases.add(new Case("applyRows: null mask", NullPointerException.class,
                () -> b.applyRows(softmax, f.x, f.y, square, null), "mask"));
        cases.add(new Case("applyRows: maxout with a mask", IllegalArgumentException.class,
                () -> b.applyRows(Activation.maxout(2), f.x, f.y, square, mask), "only softmax and log_softmax take a RowMask"));
        cases.add(new Case("applyRows: mask one short", IllegalArgumentException.class,
                () -> b.applyRows(softmax, f.x, f.y, square, RowMask.none().add(f.shorter)), "mask holds 63 elements",
                "8 rows in groups of 1 need 8 rows of 8 (64)"));
        cases.add(new Case("applyRows: mask for groups of 2 is too long", IllegalArgumentException.class,
                () -> b.applyRows(softmax, f.x, f.y, square, RowMask.none().add(f.dy, 2)), "mask holds 64 elements",
                "need 4 rows of 8 (32)"));
        cases.add(new Case("applyRows: y is the mask", IllegalArgumentException.class,
                () -> b.applyRows(softmax, f.x, f.dy, square, mask), "y must not be the mask buffer"));
        cases.add(new Case("applyRows: closed mask", IllegalStateException.class,
                () -> b.applyRows(softmax, f.x, f.y, square, RowMask.none().add(f.closed)), "mask is a closed buffer"));
        cases.add(new Case("applyRows: mask of another instance", IllegalArgumentException.class,
                () -> b.applyRows(softmax, f.x, f.y, square, RowMask.none().add(f.foreign)), "mask belongs to another"));
        cases.add(new Case("applyRows: too few lengths", IllegalArgumentException.class,
                () -> b.applyRows(softmax, f.x, f.y, square, RowMask.none().lengths(new int[7])),
                "lengths holds 7 values but 8 rows in groups of 1 need 8"));
        cases.add(new Case("applyRows: a length beyond cols", IllegalArgumentException.class,
                () -> b.applyRows(softmax, f.x, f.y, square, RowMask.none().lengths(new int[] {8, 9}, 4)),
                "lengths[1] is 9, more than the 8 columns of a row"));
        cases.add(new Case("applyRows: masked in place with different strides", IllegalArgumentException.class,
                () -> b.applyRows(softmax, f.x, f.x, new RowLayout(4, 8, 16, 8), RowMask.none().causal(0)),
                "y may be the same buffer as x only with equal strides"));
        cases.add(new Case("applyRows: masked, x too short", IllegalArgumentException.class,
                () -> b.applyRows(softmax, f.x, f.y, RowLayout.of(8, 9), RowMask.none().causal(0)), "x holds 64 elements"));
        cases.add(new Case("applyRowsBackward: masked, dx is x", IllegalArgumentException.class,
                () -> b.applyRowsBackward(softmax, f.x, f.dy, f.x, square, RowMask.none().causal(0)),
                "dx must be a buffer of its own"));
        cases.add(new Case("applyRowsBackward: dx is the mask", IllegalArgumentException.class,
                () -> b.applyRowsBackward(softmax, f.x, f.y, f.dx, square, RowMask.none().add(f.dx)),
                "dx must not be the mask buffer"));
        cases.add(new Case("applyRowsBackward: maxout with a mask", IllegalArgumentException.class,
                () -> b.applyRowsBackward(Activation.maxout(2), f.x, f.dy, f.dx, square, mask),
                "only softmax and log_softmax take a RowMask"));
        cases.add(new Case("RowMask: negative length", IllegalArgumentException.class,
                () -> RowMask.none().lengths(new int[] {3, -1}), "lengths[1] is -1; a valid length is >= 0"));
        cases.add(new Case("RowMask: int64 length past int", IllegalArgumentException.class,
                () -> RowMask.none().lengths(new long[] {1L << 40}, 1), "lengths[0] is " + (1L << 40)));
        cases.add(new Case("RowMask: zero rows per mask row", IllegalArgumentException.class,
                () -> RowMask.none().add(f.dy, 0), "rowsPerMaskRow must be >= 1, got 0"));
        cases.add(new Case("RowMask: negative rows per query", IllegalArgumentException.class,
                () -> RowMask.none().causal(0, -1), "rowsPerQuery must be >= 0"));
    }

    static final class Fixture implements AutoCloseable {
        final List<DeviceBuffer> buffers = new ArrayList<>();
        final DeviceBuffer x;
        final DeviceBuffer y;
        final DeviceBuffer dy;
        final DeviceBuffer dx;
        final DeviceBuffer w;
        final DeviceBuffer dw;
        final DeviceBuffer c1;
        final DeviceBuffer c2;
        final DeviceBuffer shorter;
        final DeviceBuffer half;
        final DeviceBuffer bfloat16;
        final DeviceBuffer closed;
        final DeviceBuffer foreign;
        final DeviceBuffer alien;
        final float[] host = sentinel(99, 8);
        final FloatBuffer hostBuffer = FloatBuffer.wrap(sentinel(98, 8));
        private final List<float[]> contents = new ArrayList<>();

        Fixture(Backend b, Backend other) {
            x = filled(b, N);
            y = filled(b, N);
            dy = filled(b, N);
            dx = filled(b, N);
            w = filled(b, CHANNELS);
            dw = filled(b, CHANNELS);
            c1 = filled(b, CHANNELS);
            c2 = filled(b, CHANNELS);
            shorter = filled(b, N - 1);
            half = filled(b, N / 2);
            bfloat16 = b.allocate(DType.BFLOAT16, N);
            buffers.add(bfloat16);
            contents.add(new float[N]);
            closed = b.allocate(N);
            closed.close();
            foreign = other.allocate(N);
            alien = new AlienBuffer(b, N);
        }

        private DeviceBuffer filled(Backend b, int length) {
            float[] pattern = sentinel(buffers.size(), length);
            DeviceBuffer buffer = b.upload(pattern);
            buffers.add(buffer);
            contents.add(pattern);
            return buffer;
        }

        /** Distinct, exactly representable values per buffer, none of which any activation returns unchanged by chance. */
        static float[] sentinel(int seed, int length) {
            float[] v = new float[length];
            for (int i = 0; i < length; i++) {
                v[i] = -1000.5f * (seed + 1) - i;
            }
            return v;
        }

        long bytes() {
            return buffers.stream().mapToLong(DeviceBuffer::byteSize).sum();
        }

        void assertUntouched(String afterCase) {
            for (int i = 0; i < buffers.size(); i++) {
                assertThat(buffers.get(i).toArray()).as("buffer %d after '%s'", i, afterCase).containsExactly(contents.get(i));
            }
            assertThat(host).as("host array after '%s'", afterCase).containsExactly(sentinel(99, 8));
            assertThat(hostBuffer.position()).as("FloatBuffer position after '%s'", afterCase).isZero();
            assertThat(hostBuffer.array()).as("FloatBuffer after '%s'", afterCase).containsExactly(sentinel(98, 8));
        }

        @Override
        public void close() {
            buffers.forEach(DeviceBuffer::close);
            foreign.close();
        }
    }

    /** A DeviceBuffer written by a user, claiming to belong to a backend that never made it. */
    private record AlienBuffer(Backend backend, long length) implements DeviceBuffer {
        @Override
        public DType dtype() {
            return DType.FLOAT32;
        }

        @Override
        public void write(long offset, float[] src, int srcOffset, int count) {
            throw new AssertionError("a backend wrote through a buffer it did not make");
        }

        @Override
        public void read(long offset, float[] dst, int dstOffset, int count) {
            throw new AssertionError("a backend read through a buffer it did not make");
        }

        @Override
        public void write(long offset, FloatBuffer src) {
            throw new AssertionError("a backend wrote through a buffer it did not make");
        }

        @Override
        public void read(long offset, FloatBuffer dst) {
            throw new AssertionError("a backend read through a buffer it did not make");
        }

        @Override
        public void write(long offset, short[] bits, int srcOffset, int count) {
            throw new AssertionError("a backend wrote through a buffer it did not make");
        }

        @Override
        public void read(long offset, short[] bits, int dstOffset, int count) {
            throw new AssertionError("a backend read through a buffer it did not make");
        }

        @Override
        public boolean isClosed() {
            return false;
        }

        @Override
        public void close() {
        }
    }
}
