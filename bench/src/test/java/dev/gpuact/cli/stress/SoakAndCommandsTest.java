package dev.gpuact.cli.stress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.Op;
import dev.gpuact.conformance.Conformance;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code gpuact soak} for about two seconds, and its options' bad values. */
class SoakAndCommandsTest {
    private static final Duration LIMIT = Duration.ofSeconds(60);
    /** Every op, every elementwise op with a bias, softmax and log_softmax with a mask. */
    private static final int KINDS = Op.values().length + Op.ELEMENTWISE.size() + Conformance.MASKABLE.size();

    @Test
    void aTwoSecondSoakCountsCallsAndErrorsAndGivesBackAllMemory() {
        Gpuact.Result r = Gpuact.run(LIMIT, "soak", "--backend", "cpu", "--minutes", "0.035", "--threads", "4");
        System.out.print(r.out());
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).contains("soak on cpu", "4 threads", "memory before: 0 buffers, 0 bytes; after: 0 buffers, 0 bytes")
                .containsPattern("kinds of call \\(ops, <op>\\+bias, <op>\\+mask\\): \\d+ of " + KINDS + " made")
                .containsPattern("fused calls \\(gated, <op>\\+bias, <op>\\+mask\\): [1-9]");
        Matcher counts = Pattern.compile("calls: (\\d+) \\((\\d+) calls/s\\), errors: (\\d+)").matcher(r.out());
        assertThat(counts.find()).as(r.out()).isTrue();
        assertThat(Long.parseLong(counts.group(1))).isGreaterThan(100);
        long errors = Long.parseLong(counts.group(3));
        // Exit 1 exactly when a result was wrong,
        assertThat(r.exitCode()).isEqualTo(errors == 0 ? 0 : 1);
        // and then the first failure of each failing op is listed, one line each.
        long failingOps = r.out().lines().filter(l -> l.startsWith("errors by kind: ")).findFirst()
                .map(l -> l.split(", ").length).orElse(0);
        assertThat(r.out().lines().filter(l -> l.startsWith("error: ")).count()).isEqualTo(failingOps);
        assertThat(failingOps == 0).isEqualTo(errors == 0);
    }

    @Test
    void aSoakOfAWrongBackendFailsNamingTheOp() {
        // test-skewed is the cpu backend with sigmoid 2^-18 too large (a test-only provider of this module).
        Gpuact.Result r = Gpuact.run(LIMIT, "soak", "--backend", "test-skewed", "--minutes", "0.03", "--threads", "2");
        assertThat(r.exitCode()).as(r.out()).isEqualTo(1);
        // sigmoid is wrong alone, with a bias, and as glu's gate
        assertThat(r.out()).containsPattern("errors: [1-9]").containsPattern("error: (sigmoid|glu)")
                .containsPattern("errors by kind: [^\\n]*(sigmoid|sigmoid\\+bias|glu) \\d+");
    }

    @Test
    void badSoakOptionsAreOneLine() {
        Gpuact.run(LIMIT, "soak", "--minutes", "0").rejected("--minutes must be > 0", "got 0.0");
        Gpuact.run(LIMIT, "soak", "--minutes", "-1").rejected("--minutes must be > 0");
        Gpuact.run(LIMIT, "soak", "--minutes", "NaN").rejected("--minutes", "NaN");
        Gpuact.run(LIMIT, "soak", "--minutes", "1e9").rejected("--minutes must be > 0 and <= 1440");
        Gpuact.run(LIMIT, "soak", "--minutes", "soon").rejected("--minutes", "soon");
        Gpuact.run(LIMIT, "soak", "--threads", "0").rejected("--threads must be between 1 and 256, got 0");
        Gpuact.run(LIMIT, "soak", "--threads", "100000").rejected("--threads", "100000");
        Gpuact.run(LIMIT, "soak", "--threads", "99999999999").rejected("--threads", "99999999999");
        Gpuact.run(LIMIT, "soak", "--backend", "tpu").rejected("--backend", "unknown backend 'tpu'");
        Gpuact.run(LIMIT, "soak", "--seed").rejected("--seed");
    }

    @Test
    void parametersThatOverflowFloat32AreBadInput() {
        Gpuact.run(LIMIT, "apply", "--op", "leaky_relu", "--param", "alpha=1e300", "--in", "x.npy", "--out", "y.npy")
                .rejected("--param", "alpha", "float32");
        Gpuact.run(LIMIT, "apply", "--op", "celu", "--param", "alpha=1e-50", "--in", "x.npy", "--out", "y.npy")
                .rejected("--param", "alpha", "float32");
    }
}
