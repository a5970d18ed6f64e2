package dev.gpuact.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Op;
import dev.gpuact.cuda.SoftmaxPlan.Path;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SoftmaxPlanTest {
    private static final int SMS = 132;

    @ParameterizedTest(name = "cols {0}: {1}, {2} lanes x {3}")
    @CsvSource({
        "1, WARP, 1, 1", "2, WARP, 2, 1", "3, WARP, 4, 1", "16, WARP, 16, 1", "17, WARP, 32, 1", "31, WARP, 32, 1",
        "32, WARP, 32, 1", "33, WARP, 32, 2", "64, WARP, 32, 2", "65, WARP, 32, 4", "257, WARP, 32, 16",
        "512, WARP, 32, 16", "513, BLOCK, 0, 0", "1024, BLOCK, 0, 0", "1025, BLOCK, 0, 0", "8192, BLOCK, 0, 0",
        "12160, BLOCK, 0, 0", "12161, LONG, 0, 0", "32768, LONG, 0, 0", "262144, LONG, 0, 0"})
    void pathByRowLength(long cols, Path path, int lanes, int perLane) {
        SoftmaxPlan plan = SoftmaxPlan.of(1000, cols, SMS);
        assertThat(plan.path()).isEqualTo(path);
        assertThat(plan.lanesPerRow()).isEqualTo(lanes);
        assertThat(plan.perLane()).isEqualTo(perLane);
    }

    @Test
    void tinyRowsShareAWarp() {
        SoftmaxPlan plan = SoftmaxPlan.of(10_000, 3, SMS);
        assertThat(32 / plan.lanesPerRow()).isEqualTo(8);
        // 128 threads = 4 warps x 8 rows per block.
        assertThat(plan.launch().grid()).isEqualTo(313);
        assertThat(SoftmaxPlan.of(1 << 20, 3, SMS).launch().grid()).isEqualTo(LaunchGeometry.gridCap(SMS, 128));
        assertThat(plan.kernel(Op.SOFTMAX, false)).isEqualTo("gpuact_softmax_fwd_warp1");
    }

    @Test
    void blockPathStagesTheRowInSharedMemory() {
        SoftmaxPlan plan = SoftmaxPlan.of(10, 8192, SMS);
        assertThat(plan.launch()).isEqualTo(new Launch(10, 1024, 8192 * 4));
        assertThat(SoftmaxPlan.of(10, 513, SMS).launch()).isEqualTo(new Launch(10, 128, 513 * 4));
        assertThat(plan.kernel(Op.LOG_SOFTMAX, true)).isEqualTo("gpuact_log_softmax_bwd_block");
    }

    @Test
    void optInSharedMemoryKeepsRowsOfTensOfThousandsOnTheBlockPath() {
        int h200 = 232_448;  // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN of an H100 or H200: 227 KiB
        assertThat(SoftmaxPlan.blockMaxCols(h200)).isEqualTo(57_984);
        SoftmaxPlan plan = SoftmaxPlan.of(100, 57_984, SMS, h200);
        assertThat(plan.path()).isEqualTo(Path.BLOCK);
        assertThat(plan.launch()).isEqualTo(new Launch(100, 1024, 57_984 * 4));
        assertThat(SoftmaxPlan.of(100, 57_985, SMS, h200).path()).isEqualTo(Path.LONG);
        assertThat(SoftmaxPlan.of(100, 57_984, SMS).path()).isEqualTo(Path.LONG);
        // A device reporting less than the default (or nothing) still gets the default.
        assertThat(SoftmaxPlan.of(100, 12_160, SMS, 0).path()).isEqualTo(Path.BLOCK);
    }

    @Test
    void longRowsWithManyRowsAreOneChunkAndNeedNoPartials() {
        SoftmaxPlan plan = SoftmaxPlan.of(1024, 262144, SMS);
        assertThat(plan.chunks()).isEqualTo(1);
        assertThat(plan.usesPartials()).isFalse();
        assertThat(plan.partialDoubles()).isZero();
        assertThat(plan.launch().grid()).isEqualTo(1024);
        // Fewer rows than two blocks per SM: split just enough to fill the device.
        assertThat(SoftmaxPlan.of(256, 262144, SMS).chunks()).isEqualTo(2);
    }

    @Test
    void aFewLongRowsAreSplitAcrossBlocks() {
        SoftmaxPlan plan = SoftmaxPlan.of(1, 262144, SMS);
        assertThat(plan.path()).isEqualTo(Path.LONG);
        assertThat(plan.chunks()).isEqualTo(32);
        assertThat(plan.chunkCols()).isEqualTo(8192);
        assertThat(plan.partialDoubles()).isEqualTo(32 * 3);
        assertThat(plan.dotDoubles()).isEqualTo(32);
        SoftmaxPlan million = SoftmaxPlan.of(1, 1 << 20, SMS);
        assertThat(million.chunks()).isEqualTo(128);
        assertThat(million.launch().grid()).isEqualTo(128);
    }

    @Test
    void moreThan2To31ElementsStayWithinGridLimits() {
        for (SoftmaxPlan plan : new SoftmaxPlan[] {SoftmaxPlan.of(1L << 33, 2, SMS), SoftmaxPlan.of(1L << 22, 1000, SMS),
                SoftmaxPlan.of(1L << 20, 4096, SMS), SoftmaxPlan.of(1 << 16, 1L << 16, SMS), SoftmaxPlan.of(3, 1L << 32, SMS)}) {
            assertThat(plan.launch().grid()).isBetween(1, LaunchGeometry.gridCap(SMS, plan.launch().block()));
        }
    }

    @Test
    void emptyMatricesHaveNoPlan() {
        assertThatThrownBy(() -> SoftmaxPlan.of(0, 5, SMS)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("rows >= 1 and cols >= 1, got 0 x 5");
    }

    @Property
    void everyPlanCoversItsRow(@ForAll @LongRange(min = 1, max = 1L << 24) long rows,
                               @ForAll @LongRange(min = 1, max = 1L << 22) long cols,
                               @ForAll @IntRange(min = 1, max = 200) int sms,
                               @ForAll @IntRange(min = 48 * 1024, max = 256 * 1024) int blockShared) {
        SoftmaxPlan plan = SoftmaxPlan.of(rows, cols, sms, blockShared);
        switch (plan.path()) {
            case WARP -> {
                assertThat(Integer.bitCount(plan.lanesPerRow())).isOne();
                assertThat(plan.lanesPerRow()).isBetween(1, 32);
                assertThat(plan.perLane()).isIn(1, 2, 4, 8, 16);
                assertThat((long) plan.lanesPerRow() * plan.perLane()).isGreaterThanOrEqualTo(cols);
                assertThat((long) plan.lanesPerRow() * plan.perLane() / 2).isLessThan(cols);
            }
            case BLOCK -> assertThat(plan.launch().sharedBytes()).isEqualTo(cols * 4)
                    .isLessThanOrEqualTo(blockShared - SoftmaxPlan.BLOCK_STATIC_SHARED_BYTES);
            case LONG -> {
                assertThat(plan.chunkCols() * plan.chunks()).isGreaterThanOrEqualTo(cols);
                assertThat(plan.chunkCols() * (plan.chunks() - 1)).isLessThan(cols);
            }
        }
        assertThat(KernelNames.all()).contains(plan.kernel(Op.SOFTMAX, false), plan.kernel(Op.LOG_SOFTMAX, true));
    }
}
