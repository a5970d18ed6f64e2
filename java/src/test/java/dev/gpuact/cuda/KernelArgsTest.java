package dev.gpuact.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class KernelArgsTest {
    @Test
    void valuesLandInTheirSlotsInOrder() {
        KernelArgs args = new KernelArgs().reset().i64(0x7f00_0000_0100L).i64(42).f32(0.5f).i32(1);
        assertThat(args.count()).isEqualTo(4);
        assertThat(args.longs[0][0]).isEqualTo(0x7f00_0000_0100L);
        assertThat(args.longs[1][0]).isEqualTo(42);
        assertThat(args.floats[2][0]).isEqualTo(0.5f);
        assertThat(args.ints[3][0]).isEqualTo(1);
        assertThat(args.type(2)).isEqualTo(KernelArgs.Type.F32);
    }

    @Test
    void theSignatureTellsTypeSequencesApart() {
        KernelArgs args = new KernelArgs();
        long a = args.reset().i64(1).f32(1).signature();
        long b = args.reset().f32(1).i64(1).signature();
        long c = args.reset().i64(1).f32(1).i32(0).signature();
        long d = args.reset().i64(1).f32(1).signature();
        assertThat(a).isNotEqualTo(b).isNotEqualTo(c).isEqualTo(d);
        assertThat(args.reset().signature()).isZero();
    }

    @Test
    void longArgsFollowTheCudaStructLayout() {
        KernelArgs args = new KernelArgs().reset().i64(7).longArgs(3, 100_000, 100_001, 100_002, 8192, 0.5f, 1, 13);
        ByteBuffer b = ByteBuffer.wrap(args.longArgs).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getLong(0)).isEqualTo(3);
        assertThat(b.getLong(8)).isEqualTo(100_000);
        assertThat(b.getLong(16)).isEqualTo(100_001);
        assertThat(b.getLong(24)).isEqualTo(100_002);
        assertThat(b.getLong(32)).isEqualTo(8192);
        assertThat(b.getFloat(40)).isEqualTo(0.5f);
        assertThat(b.getInt(44)).isEqualTo(1);
        assertThat(b.getInt(48)).isEqualTo(13);
        assertThat(args.type(1)).isEqualTo(KernelArgs.Type.LONG_ARGS);
    }

    @Test
    void channelArgumentsFollowPreluCuh() {
        KernelArgs args = new KernelArgs().reset().channelOf(3, 49);
        assertThat(args.count()).isEqualTo(6);
        assertThat(args.longs[0][0]).isEqualTo(3);
        assertThat(args.longs[1][0]).isEqualTo(49);
        assertThat(args.longs[2][0]).isEqualTo(FastDivision.of(49).magic());
        assertThat(args.ints[3][0]).isEqualTo(FastDivision.of(49).shift());
        assertThat(args.longs[4][0]).isEqualTo(FastDivision.of(3).magic());
        assertThat(args.ints[5][0]).isEqualTo(FastDivision.of(3).shift());
        assertThat(args.type(3)).isEqualTo(KernelArgs.Type.I32);
    }

    @Test
    void tooManyArgumentsOrStructsAreRefused() {
        KernelArgs args = new KernelArgs().reset();
        for (int i = 0; i < KernelArgs.MAX_ARGS; i++) {
            args.i32(i);
        }
        assertThatThrownBy(() -> args.i32(0)).isInstanceOf(IllegalStateException.class).hasMessageContaining("at most 16");
        KernelArgs twice = new KernelArgs().reset().longArgs(1, 1, 1, 1, 1, 1, 0, 1);
        assertThatThrownBy(() -> twice.longArgs(1, 1, 1, 1, 1, 1, 0, 1)).hasMessageContaining("only one LongArgs");
    }
}
