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
    void badBackendsAndOpsAreBadInput() {
        Cli.run("check", "--backend", "test-unusable").rejected("backend 'test-unusable' is not usable");
        Cli.run("check", "--op", "swoosh").rejected("unknown activation 'swoosh'");
    }
}
