package dev.gpuact.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The reports: info, bench and the version. */
class InfoBenchTest {
    @Test
    void infoListsEveryBackendWithWhyAndWhatAutoPicks() {
        String out = Cli.run("info").succeeded().out();
        assertThat(out).contains("gpuact ", "Java " + System.getProperty("java.version"), "OS " + System.getProperty("os.name"));
        assertThat(out).containsPattern("(?m)^  cpu +usable: ");
        assertThat(out).contains("  test-unusable NOT usable: " + TestProviders.Unusable.REASON,
                "          detail line of the test provider");
        // auto picks the most preferred usable backend: opencl where PoCL or a GPU is installed, else cpu
        assertThat(out).contains("auto picks: " + dev.gpuact.Backends.usableNames().get(0) + "\n");
        assertThat(out).contains("Activations: identity, step, abs,", "softmax, log_softmax, maxout\n");
    }

    @Test
    void versionNamesJavaAndTheOs() {
        String out = Cli.run("--version").succeeded().out();
        assertThat(out.lines().toList()).hasSize(3).first().asString().startsWith("gpuact ");
    }

    @Test
    void benchTimesEveryCaseAgainstAnArrayCopy() {
        String out = Cli.run("bench", "--backend", "cpu", "--sizes", "1024,8192", "--warmup", "1", "--repeat", "3")
                .succeeded().out();
        Pattern row = Pattern.compile("(?m)^cpu +(\\w+) +(\\d+) +([\\d.]+) +([\\d.]+) +([\\d.]+) +([\\d.]+)%$");
        Matcher m = row.matcher(out);
        List<String> seen = new ArrayList<>();
        while (m.find()) {
            seen.add(m.group(1) + "@" + m.group(2));
            assertThat(Double.parseDouble(m.group(4))).as("GB/s of %s", m.group()).isPositive();
            assertThat(Double.parseDouble(m.group(5))).as("copy GB/s of %s", m.group()).isPositive();
        }
        assertThat(seen).containsExactly("relu@1024", "sigmoid@1024", "gelu@1024", "silu@1024", "softmax@1024",
                "relu@8192", "sigmoid@8192", "gelu@8192", "silu@8192", "softmax@8192");
    }
}
