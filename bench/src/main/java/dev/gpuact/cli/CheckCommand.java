package dev.gpuact.cli;

import dev.gpuact.Backend;
import dev.gpuact.Op;
import dev.gpuact.conformance.Conformance;
import dev.gpuact.conformance.OpReport;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gpuact check}: the conformance suite of ACTIVATIONS.md on one backend, as a table; exit 1 on a failure. */
@Command(name = "check", mixinStandardHelpOptions = true,
        header = "Measures a backend's error against the reference for every activation: PASS or FAIL.",
        description = "Checks a backend against the double-precision reference of every activation (or the chosen ones): "
                + "the largest error forward and backward in ULPs, and PASS or FAIL; softmax and log_softmax also under masks "
                + "(<op>+mask: additive, valid lengths, causal). Exits 1 if any failed.")
final class CheckCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    BackendOption backend;

    @Option(names = "--op", paramLabel = "NAME", description = "Only this op; repeatable (default: all of them).")
    List<Op> ops = new ArrayList<>();

    @Override
    public Integer call() {
        List<Op> selected = ops.isEmpty() ? List.of(Op.values()) : ops;
        List<Op> masked = selected.stream().filter(Conformance.MASKABLE::contains).toList();
        PrintWriter out = spec.commandLine().getOut();
        List<OpReport> failed = new ArrayList<>();
        try (Backend b = backend.open()) {
            out.printf("conformance on %s: forward <= %.0f ULP, backward <= %.0f ULP%n", b, Conformance.FORWARD_ULP,
                    Conformance.BACKWARD_ULP);
            out.printf("%-16s %12s %12s %12s  %s%n", "op", "fwd max ULP", "bwd max ULP", "points", "result");
            for (Op op : selected) {
                print(out, Conformance.check(b, op), failed);
            }
            for (Op op : masked) {  // the same op under masks: additive, valid lengths, causal
                print(out, Conformance.checkMasked(b, op), failed);
            }
        }
        for (OpReport r : failed) {
            r.failures().forEach(line -> out.println(r.name() + ": " + line));
        }
        int checked = selected.size() + masked.size();
        out.printf("%d of %d passed%n", checked - failed.size(), checked);
        return failed.isEmpty() ? 0 : 1;
    }

    /** One line of the table; a failed report is kept for the failure lines after it. */
    private static void print(PrintWriter out, OpReport r, List<OpReport> failed) {
        out.printf("%-16s %12.2f %12.2f %12d  %s%n", r.name(), r.maxUlpForward(), r.maxUlpBackward(), r.points(),
                r.passed() ? "PASS" : "FAIL");
        out.flush();
        if (!r.passed()) {
            failed.add(r);
        }
    }
}
