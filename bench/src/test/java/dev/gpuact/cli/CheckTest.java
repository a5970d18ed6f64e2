package dev.gpuact.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** gpuact check: the conformance table, its failure lines and its exit code. */
class CheckTest {
    @Test
    void passingOpsGiveATableAndExitZero() {
        String out = Cli.run("check", "--backend", "cpu", "--op", "relu", "--op", "softmax", "--op", "maxout")
                .succeeded().out();
        assertThat(out).startsWith("conformance on cpu (").contains("forward <= 4 ULP, backward <= 8 ULP");
        assertThat(out).containsPattern("(?m)^relu +\\d+\\.\\d\\d +\\d+\\.\\d\\d +[1-9]\\d* +PASS$");
        assertThat(out).containsPattern("(?m)^softmax +\\d+\\.\\d\\d +\\d+\\.\\d\\d +[1-9]\\d* +PASS$");
        assertThat(out).containsPattern("(?m)^maxout +\\d+\\.\\d\\d +\\d+\\.\\d\\d +[1-9]\\d* +PASS$");
        assertThat(out).as("softmax under masks, listed after the ops")
                .containsPattern("(?m)^softmax\\+mask +\\d+\\.\\d\\d +\\d+\\.\\d\\d +[1-9]\\d* +PASS$");
        assertThat(out).doesNotContain("log_softmax+mask");
        assertThat(out).containsPattern("(?m)^relu\\+bias +\\d+\\.\\d\\d +\\d+\\.\\d\\d +[1-9]\\d* +PASS$");
        assertThat(out).doesNotContain("softmax+bias", "maxout+bias");
        assertThat(out).endsWith("5 of 5 passed\n");
    }

    @Test
    void aFailingOpIsMarkedWithItsFailuresAndExitsOne() {
        Cli.Result r = Cli.run("check", "--backend", "test-skewed", "--op", "sigmoid", "--op", "relu");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).containsPattern("(?m)^sigmoid +\\d+\\.\\d\\d +\\d+\\.\\d\\d +\\d+ +FAIL$");
        assertThat(r.out()).containsPattern("(?m)^relu .* PASS$");
        assertThat(r.out()).containsPattern("(?m)^sigmoid: .*ULP > 4");
        assertThat(r.out()).containsPattern("(?m)^sigmoid\\+bias .* PASS$");
        assertThat(r.out()).endsWith("3 of 4 passed\n");
    }

    @Test
    void storageTypesCheckEveryChosenOpAgainOnThoseBuffers() {
        String out = Cli.run("check", "--backend", "cpu", "--op", "gelu", "--op", "softmax", "--storage", "float16",
                "--storage", "BFLOAT16").succeeded().out();
        for (String row : new String[] {"gelu@float16", "softmax@float16", "gelu@bfloat16", "softmax@bfloat16"}) {
            assertThat(out).containsPattern("(?m)^" + row + " +\\d+\\.\\d\\d +\\d+\\.\\d\\d +[1-9]\\d* +PASS$");
        }
        assertThat(out).endsWith("8 of 8 passed\n");
    }

    @Test
    void badBackendsAndOpsAreBadInput() {
        Cli.run("check", "--backend", "test-unusable").rejected("backend 'test-unusable' is not usable");
        Cli.run("check", "--op", "swoosh").rejected("unknown activation 'swoosh'");
        Cli.run("check", "--storage", "float32").rejected("'float32' is not a 16-bit storage type");
        Cli.run("check", "--storage", "half").rejected("'half' is not a 16-bit storage type: float16 or bfloat16");
    }
}
