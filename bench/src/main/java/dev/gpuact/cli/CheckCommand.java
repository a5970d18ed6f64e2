package dev.gpuact.cli;

import dev.gpuact.Backend;
import dev.gpuact.DType;
import dev.gpuact.Op;
import dev.gpuact.conformance.Conformance;
import dev.gpuact.conformance.OpReport;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gpuact check}: the conformance suite of ACTIVATIONS.md on one backend, as a table; exit 1 on a failure. */
@Command(name = "check", mixinStandardHelpOptions = true,
        header = "Measures a backend's error against the reference for every activation: PASS or FAIL.",
        description = "Checks a backend against the double-precision reference of every activation (or the chosen ones), "
                + "of softmax and log_softmax under masks (<op>+mask: additive, valid lengths, causal) and of bias and "
                + "activation for each elementwise one (<op>+bias): the largest error forward and backward in ULPs, and "
                + "PASS or FAIL; with --storage, every op again on buffers of that 16-bit type (<op>@float16). Exits 1 "
                + "if any failed.")
final class CheckCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    BackendOption backend;

    @Option(names = "--op", paramLabel = "NAME", description = "Only this op; repeatable (default: all of them).")
    List<Op> ops = new ArrayList<>();

    @Option(names = "--storage", paramLabel = "TYPE", converter = StorageTypeConverter.class,
            description = "Also check every op on buffers of this storage type, float16 or bfloat16 (float32 math, the "
                    + "result rounded once to the type); repeatable.")
    List<DType> storage = new ArrayList<>();

    @Override
    public Integer call() {
        List<Op> selected = ops.isEmpty() ? List.of(Op.values()) : ops;
        List<Op> masked = selected.stream().filter(Conformance.MASKABLE::contains).toList();
        PrintWriter out = spec.commandLine().getOut();
        List<OpReport> reports = new ArrayList<>();
        try (Backend b = backend.open()) {
            out.printf("conformance on %s: forward <= %.0f ULP, backward <= %.0f ULP%n", b, Conformance.FORWARD_ULP,
                    Conformance.BACKWARD_ULP);
            out.printf("%-16s %12s %12s %12s  %s%n", "op", "fwd max ULP", "bwd max ULP", "points", "result");
            for (Op op : selected) {
                reports.add(print(out, Conformance.check(b, op)));
            }
            for (Op op : masked) {  // the same op under masks: additive, valid lengths, causal
                reports.add(print(out, Conformance.checkMasked(b, op)));
            }
            // bias and activation: each elementwise op again, as <op>+bias
            for (Op op : selected) {
                if (op.kind() == Op.Kind.ELEMENTWISE) {
                    reports.add(print(out, Conformance.checkBias(b, op)));
                }
            }
            for (DType type : storage) {
                for (Op op : selected) {
                    reports.add(print(out, Conformance.checkStorage(b, op, type)));
                }
            }
        }
        List<OpReport> failed = reports.stream().filter(r -> !r.passed()).toList();
        for (OpReport r : failed) {
            r.failures().forEach(line -> out.println(r.name() + ": " + line));
        }
        out.printf("%d of %d passed%n", reports.size() - failed.size(), reports.size());
        return failed.isEmpty() ? 0 : 1;
    }

    /** float16 or bfloat16, by those names; anything else is a one-line usage error naming the two. */
    static final class StorageTypeConverter implements ITypeConverter<DType> {
        @Override
        public DType convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "float16" -> DType.FLOAT16;
                case "bfloat16" -> DType.BFLOAT16;
                default -> throw new TypeConversionException("'" + value + "' is not a 16-bit storage type: float16 or "
                        + "bfloat16 (float32 is what the checks without --storage run)");
            };
        }
    }

    /** One line of the table; a failed report is kept for the failure lines after it. */
    private static OpReport print(PrintWriter out, OpReport r) {
        out.printf("%-16s %12.2f %12.2f %12d  %s%n", r.name(), r.maxUlpForward(), r.maxUlpBackward(), r.points(),
                r.passed() ? "PASS" : "FAIL");
        out.flush();
        return r;
    }
}
