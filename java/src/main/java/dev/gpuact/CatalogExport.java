package dev.gpuact;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;
import java.util.stream.Collectors;

/**
 * What is written from {@link Op} rather than by hand: the README's function table, {@value #KERNEL_LIST}, the
 * X-macro list of elementwise ops the CUDA and OpenCL kernels are generated from (the op code is the position),
 * and {@value #DUMP}, the catalog as JSON for the mpmath golden values ({@code
 * java/src/test/python/make_golden.py}: the ops, their parameters, the settings they are checked at and the kinks
 * those put). Tests fail when any differs from what this writes; {@link #REGENERATE} rewrites all three.
 */
final class CatalogExport {
    static final String REGENERATE = "mvn -B -ntp -q -pl java -am package -DskipTests"
            + " && java -cp java/target/classes dev.gpuact.CatalogExport .";
    /** The dump, relative to the repository root. */
    static final String DUMP = "java/src/test/resources/golden/catalog.json";
    /** The kernels' op list, relative to the repository root. */
    static final String KERNEL_LIST = "kernels-opencl/src/main/resources/dev/gpuact/kernels/activations.def";
    static final String TABLE_START = "<!-- The table below is written by dev.gpuact.CatalogExport from Op. -->";
    static final String TABLE_END = "<!-- End of the generated table. -->";

    private CatalogExport() {
    }

    /** Rewrites the README table, the kernels' op list and the dump under the repository root given (default: .). */
    public static void main(String[] args) throws IOException {
        Path root = Path.of(args.length > 0 ? args[0] : ".");
        Path readme = root.resolve("README.md");
        Files.writeString(readme, withTable(Files.readString(readme, StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
        Files.writeString(root.resolve(KERNEL_LIST), kernelList(), StandardCharsets.UTF_8);
        Files.writeString(root.resolve(DUMP), json(), StandardCharsets.UTF_8);
    }

    /** activations.def: one {@code GPUACT_OP(NAME, id)} per elementwise op, in catalog order. */
    static String kernelList() {
        StringBuilder sb = new StringBuilder("""
                /* Written by dev.gpuact.CatalogExport from dev.gpuact.Op: edit Op, then regenerate (see README).
                 * The elementwise activations in catalog order: the op code is the position, from 0. The CUDA and
                 * OpenCL kernels are generated from this list: define GPUACT_OP(NAME, id) and include it. */
                """);
        for (Op op : Op.ELEMENTWISE) {
            sb.append("GPUACT_OP(").append(op.name()).append(", ").append(op.id()).append(")\n");
        }
        return sb.toString();
    }

    /** The markdown table of every op: id, kind, parameters with defaults and meaning. */
    static String table() {
        StringBuilder sb = new StringBuilder("| op | kind | parameters (default) |\n|---|---|---|\n");
        for (Op op : Op.values()) {
            sb.append("| `").append(op.id()).append("` | ").append(kindText(op)).append(" | ")
                    .append(parameterText(op)).append(" |\n");
        }
        return sb.toString();
    }

    /** {@code readme} with the text between {@link #TABLE_START} and {@link #TABLE_END} replaced by {@link #table}. */
    static String withTable(String readme) {
        int start = readme.indexOf(TABLE_START);
        int end = readme.indexOf(TABLE_END);
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("README.md has no '" + TABLE_START + "' ... '" + TABLE_END
                    + "' section to write the table into");
        }
        return readme.substring(0, start + TABLE_START.length()) + "\n" + table() + readme.substring(end);
    }

    private static String kindText(Op op) {
        return switch (op.kind()) {
            case ELEMENTWISE -> "elementwise";
            case CHANNELWISE -> "channel-wise";
            case ROWWISE -> "row-wise";
            case GATED -> op.activatesFirstHalf() ? "gated: `" + op.activated().id() + "(a) * b`"
                    : "gated: `a * " + op.activated().id() + "(b)`";
        };
    }

    private static String parameterText(Op op) {
        if (op.kind() == Op.Kind.CHANNELWISE) {
            return "`weight[C]` buffer, one slope per channel";
        }
        if (op.params().isEmpty()) {
            return "–";
        }
        return op.params().stream().map(p -> "`" + p.name() + "` = " + Param.format(p.defaultValue()) + " ("
                + p.doc() + ")").collect(Collectors.joining("; "));
    }

    /**
     * The catalog as JSON: for each elementwise or channel-wise op its id, kind, parameters, and the settings
     * checked (defaults first; for PReLU, the sample weights as {@code a}) with the kinks each puts.
     */
    static String json() {
        StringJoiner ops = new StringJoiner(",\n", "{\"ops\": [\n", "\n]}\n");
        for (Op op : Op.values()) {
            if (op.isRowwise() || op.kind() == Op.Kind.GATED) {
                continue; // a gated op's reference is its activated op's, which the dump holds
            }
            String params = op.params().stream().map(p -> String.format(Locale.ROOT,
                    "{\"name\": \"%s\", \"default\": %s}", p.name(), p.defaultValue()))
                    .collect(Collectors.joining(", ", "[", "]"));
            String settings = settings(op).stream().map(ab -> String.format(Locale.ROOT,
                    "{\"a\": %s, \"b\": %s, \"kinks\": %s}", ab[0], ab[1], kinks(op, ab)))
                    .collect(Collectors.joining(",\n    ", "[\n    ", "]"));
            ops.add(String.format(Locale.ROOT,
                    "  {\"id\": \"%s\", \"kind\": \"%s\", \"params\": %s,\n   \"settings\": %s}",
                    op.id(), op.kind().name().toLowerCase(Locale.ROOT), params, settings));
        }
        return ops.toString();
    }

    /** (a, b) of each setting checked, as the float32 the kernels receive; %s of a double is its shortest decimal. */
    private static List<double[]> settings(Op op) {
        if (op.kind() == Op.Kind.CHANNELWISE) {
            return op.info().samples().stream().map(w -> new double[] {(float) w[0], 0}).toList();
        }
        return op.checkedSettings().stream().map(s -> new double[] {s.a(), s.b()}).toList();
    }

    private static String kinks(Op op, double[] ab) {
        return Arrays.stream(op.info().kinks(ab[0], ab[1])).filter(Double::isFinite).mapToObj(Double::toString)
                .collect(Collectors.joining(", ", "[", "]"));
    }
}
