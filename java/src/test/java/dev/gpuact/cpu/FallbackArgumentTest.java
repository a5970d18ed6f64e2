package dev.gpuact.cpu;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.fallback.ElementwiseKernel;
import dev.gpuact.fallback.Prelu;
import dev.gpuact.fallback.Rowwise;
import org.junit.jupiter.api.Test;

/** The cpu-fallback entry points, used without the gpuact API, reject bad input naming the argument. */
class FallbackArgumentTest {
    private final float[] four = new float[4];

    @Test
    void elementwiseChecksCountAndRanges() {
        assertThatThrownBy(() -> ElementwiseKernel.TANH.forward(four, 0, four, 0, -1, 0, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("n must be >= 0, got -1");
        assertThatThrownBy(() -> ElementwiseKernel.TANH.backward(four, 0, four, 1, four, 0, 4, 0, 0))
                .isInstanceOf(IndexOutOfBoundsException.class).hasMessage("dy: offset 1 + n 4 is outside an array of 4");
        assertThatThrownBy(() -> ElementwiseKernel.TANH.forward(null, 0, four, 0, 0, 0, 0))
                .isInstanceOf(NullPointerException.class).hasMessage("x");
    }

    @Test
    void rowwiseChecksLayoutPiecesAndExtents() {
        assertThatThrownBy(() -> new Rowwise.Layout(-1, 2, 0, 2, 0, 2))
                .hasMessage("rows and cols must be >= 0, got -1 x 2");
        assertThatThrownBy(() -> new Rowwise.Layout(1, 3, 0, 2, 0, 3))
                .hasMessage("xStride must be >= cols (3) and yStride >= 0, got 2 and 3");
        Rowwise.Layout twoByTwo = new Rowwise.Layout(2, 2, 0, 2, 1, 2);
        assertThatThrownBy(() -> Rowwise.softmax(four, four, twoByTwo, 1, false))
                .isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessage("y: rows 2 x 2 at offset 1 with stride 2 need 5 elements, the array has 4");
        assertThatThrownBy(() -> Rowwise.maxout(four, four, new Rowwise.Layout(1, 4, 0, 4, 0, 4), 3))
                .hasMessage("maxout: pieces must be >= 1 and divide cols (4), got 3");
    }

    @Test
    void preluChecksChannelsInnerAndWeight() {
        assertThatThrownBy(() -> Prelu.forward(four, 0, four, four, 0, 4, 0, 1)).hasMessage("channels must be >= 1, got 0");
        assertThatThrownBy(() -> Prelu.forward(four, 0, four, four, 0, 4, 1, 0)).hasMessage("inner must be >= 1, got 0");
        assertThatThrownBy(() -> Prelu.forward(four, 0, new float[1], four, 0, 4, 2, 1))
                .hasMessage("weight: offset 0 + n 2 is outside an array of 1");
    }
}
