package dev.gpuact;

import dev.gpuact.measure.Calibration;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decision users call, on a real calibration of this machine, cached in a folder of the test's own. Here, not in
 * bench: bench's test class path adds cpu clones as backends, and a clone against the cpu is a coin flip.
 */
class ForWorkTest {
    @TempDir
    static Path cache;
    private static String previous;

    @BeforeAll
    static void useOwnCache() {
        previous = System.getProperty(Calibration.CACHE_DIR_PROPERTY);
        System.setProperty(Calibration.CACHE_DIR_PROPERTY, cache.toString());
    }

    @AfterAll
    static void restoreCache() {
        if (previous == null) {
            System.clearProperty(Calibration.CACHE_DIR_PROPERTY);
        } else {
            System.setProperty(Calibration.CACHE_DIR_PROPERTY, previous);
        }
    }

    @Test
    void tinyHostWorkGoesToTheCpuAndTheModelIsKept() throws Exception {
        Choice choice = Backends.forWork(Activation.RELU, 1000, Residency.HOST);
        assertThat(choice.backend()).as(choice.reason()).isEqualTo("cpu");
        assertThat(choice.reason()).startsWith("cpu: 1000 relu on host data: ").contains(" on cpu");
        assertThat(choice.predictedNanos()).isPositive();
        Path file = Calibration.cacheFile();
        assertThat(file.getParent()).isEqualTo(cache);
        assertThat(Files.readString(file)).startsWith("# gpuact cost model: ").contains("cpu\te2e:relu\t4096\t");
        long start = System.nanoTime();
        assertThat(Backends.forWork(Activation.RELU, 1000, Residency.HOST).backend()).isEqualTo("cpu");
        assertThat(System.nanoTime() - start).as("a cached answer measures nothing").isLessThan(50_000_000L);
    }

    @Test
    void anOpOutsideTheFirstCalibrationIsMeasuredOnFirstUse() throws Exception {
        Backends.forWork(Activation.RELU, 1, Residency.HOST);
        assertThat(Files.readString(Calibration.cacheFile())).doesNotContain("e2e:mish");
        assertThat(Backends.forWork(Activation.MISH, 1 << 16, Residency.HOST).reason()).contains("64K mish on host data");
        assertThat(Files.readString(Calibration.cacheFile())).contains("cpu\te2e:mish\t65536\t");
    }

    @Test
    void aCorruptCachedModelIsMeasuredAgainNotTrusted() throws Exception {
        Backends.forWork(Activation.RELU, 1, Residency.HOST);
        Path file = Calibration.cacheFile();
        String good = Files.readString(file);
        for (String corruption : new String[] {
                "ghost\te2e:relu\t4096\t1.0\nghost\tresident:relu\t4096\t1.0\n",
                good.lines().filter(l -> l.startsWith("cpu\te2e:relu\t")).findFirst().orElseThrow()
                        .replaceAll("\t[^\t]+$", "\tNaN") + "\n",
                good.lines().filter(l -> l.startsWith("cpu\te2e:relu\t")).findFirst().orElseThrow()
                        .replaceAll("\t[^\t]+$", "\t-5.0") + "\n",
                good.lines().filter(l -> l.startsWith("cpu\tresident:relu\t")).findFirst().orElseThrow()
                        .replaceAll("\t[^\t]+$", "\t1e15") + "\n"}) {
            Files.writeString(file, good + corruption);
            Calibration.forget();
            Choice choice = Backends.forWork(Activation.RELU, 1000, Residency.HOST);
            assertThat(choice.backend()).as(corruption).isIn(Backends.selectableNames());
            String kept = Files.readString(file);
            assertThat(kept).as(corruption).doesNotContain("ghost", "NaN", "-5.0", "1e15", "1000000000000000");
        }
    }

    @Test
    void forWorkAsyncReturnsAtOnceAndAnswersAsForWorkDoes() throws Exception {
        java.util.concurrent.CompletableFuture<Choice> later = Backends.forWorkAsync(Activation.GELU, 1 << 20,
                Residency.DEVICE);
        Choice now = Backends.forWork(Activation.GELU, 1 << 20, Residency.DEVICE);
        assertThat(later.get(120, java.util.concurrent.TimeUnit.SECONDS).backend()).isEqualTo(now.backend());
        assertThatThrownBy(() -> Backends.forWorkAsync(Activation.RELU, -1, Residency.HOST))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("elements must be >= 0, got -1");
    }

    @Test
    void badArgumentsNameThemselves() {
        assertThatThrownBy(() -> Backends.forWork(Activation.RELU, -1, Residency.HOST))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("elements must be >= 0, got -1");
        assertThatThrownBy(() -> Backends.forWork(null, 1, Residency.HOST)).hasMessage("activation");
    }
}
