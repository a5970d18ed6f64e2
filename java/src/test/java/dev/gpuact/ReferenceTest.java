package dev.gpuact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Reference} against values computed with mpmath at 250 digits ({@code src/test/python/make_golden.py}).
 *
 * <p>The bound is a relative error of 1e-12 of {@code max(|true value|, scale)}, where the scale is
 * {@link Op#referenceDerivativeScale} for derivatives (the size of the terms f' is a sum of: near a zero of f'
 * such as gelu's at -0.7518 no double formula is relatively accurate) and the true value itself for f; plus
 * an absolute 1e-300, far below the smallest float32, for results that are subnormal in double.
 */
class ReferenceTest {
    private static final double RELATIVE = 1e-12;
    private static final double ABSOLUTE = 1e-300;

    record Golden(String op, double a, double b, double x, double f, double df) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s(x=%s, a=%s, b=%s)", op, x, a, b);
        }
    }

    private static List<Golden> golden;

    @BeforeAll
    static void load() throws IOException {
        golden = new ArrayList<>();
        try (InputStream in = ReferenceTest.class.getResourceAsStream("/golden/elementwise.csv")) {
            assertThat(in).as("golden/elementwise.csv on the test class path").isNotNull();
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("#") || line.startsWith("op,")) {
                    continue;
                }
                String[] c = line.split(",");
                golden.add(new Golden(c[0], Double.parseDouble(c[1]), Double.parseDouble(c[2]),
                        Double.parseDouble(c[3]), Double.parseDouble(c[4]), Double.parseDouble(c[5])));
            }
        }
    }

    @Test
    void goldenCoversEveryElementwiseOpAtItsDefaultsWithFloat32Inputs() {
        Set<String> covered = new TreeSet<>();
        for (Golden g : golden) {
            assertThat((double) (float) g.x()).as("x of %s is a float32", g).isEqualTo(g.x());
            Op op = Op.byName(g.op());
            Activation defaults = op.defaults();
            // PReLU's slope is a weight buffer, not a parameter: any value covers it
            if (op == Op.PRELU || defaults.a() == g.a() && defaults.b() == g.b()) {
                covered.add(g.op());
            }
        }
        assertThat(covered).containsAll(Op.ELEMENTWISE.stream().map(Op::id).toList()).contains(Op.PRELU.id());
        assertThat(golden).hasSizeGreaterThan(5000);
    }

    @Test
    void forwardMatchesMpmath() {
        List<String> failures = new ArrayList<>();
        for (Golden g : golden) {
            Op op = Op.byName(g.op());
            check(failures, g, "f", op.reference(g.x(), g.a(), g.b()), g.f(), Math.abs(g.f()));
        }
        assertThat(failures).as(summary(failures)).isEmpty();
    }

    @Test
    void derivativeMatchesMpmath() {
        List<String> failures = new ArrayList<>();
        for (Golden g : golden) {
            Op op = Op.byName(g.op());
            double scale = Math.max(Math.abs(g.df()), op.referenceDerivativeScale(g.x(), g.a(), g.b()));
            check(failures, g, "f'", op.referenceDerivative(g.x(), g.a(), g.b()), g.df(), scale);
        }
        assertThat(failures).as(summary(failures)).isEmpty();
    }

    /** gelu stands on erfc: checked on its own, densely, across the switch from series to continued fraction. */
    @Test
    void erfcMatchesMpmath() throws IOException {
        List<String> failures = new ArrayList<>();
        int rows = 0;
        try (InputStream in = ReferenceTest.class.getResourceAsStream("/golden/erfc.csv")) {
            assertThat(in).as("golden/erfc.csv on the test class path").isNotNull();
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("#") || line.startsWith("z,")) {
                    continue;
                }
                String[] c = line.split(",");
                double z = Double.parseDouble(c[0]);
                double want = Double.parseDouble(c[1]);
                check(failures, new Golden("erfc", 0, 0, z, want, 0), "erfc", Reference.erfc(z), want, Math.abs(want));
                rows++;
            }
        }
        assertThat(rows).isGreaterThan(3000);
        assertThat(failures).as(summary(failures)).isEmpty();
    }

    private static void check(List<String> failures, Golden g, String what, double got, double want, double scale) {
        double error = Math.abs(got - want);
        if (!(error <= RELATIVE * scale + ABSOLUTE)) {
            failures.add(String.format(Locale.ROOT, "%s %s: got %s want %s, error %.3g of scale %.3g", what, g, got,
                    want, error, error / scale));
        }
    }

    private static String summary(List<String> failures) {
        return failures.size() + " mismatches:\n" + String.join("\n", failures.subList(0, Math.min(40, failures.size())));
    }

    @Test
    void nanGivesNanEverywhere() {
        for (Op op : elementwiseAndPrelu()) {
            Activation act = op.defaults();
            assertThat(op.reference(Double.NaN, act.a(), act.b())).as("%s(NaN)", op).isNaN();
            assertThat(op.referenceDerivative(Double.NaN, act.a(), act.b())).as("%s'(NaN)", op).isNaN();
        }
    }

    @Test
    void infinitiesGiveTheContractLimits() {
        double inf = Double.POSITIVE_INFINITY;
        assertThat(Reference.sigmoid(-inf)).isZero();
        assertThat(Reference.gelu(-inf, 0, 0)).isZero();
        assertThat(Reference.silu(-inf, 0, 0)).isZero();
        assertThat(Reference.mish(-inf, 0, 0)).isZero();
        assertThat(Reference.softplus(inf, 1, 20)).isEqualTo(inf);
        assertThat(Reference.softplus(inf, 1, Float.MAX_VALUE)).isEqualTo(inf);
        assertThat(Reference.elu(-inf, 0.5, 0)).isEqualTo(-0.5);
        assertThat(Reference.gelu(-10, 0, 0)).isCloseTo(-7.619853024160526e-23, offset(1e-36));
    }

    /** f(+-inf) is the limit of f at +-1e300: equal where f is bounded, an infinity of the same sign otherwise. */
    @Test
    void infinitiesGiveTheLimitOfHugeInputs() {
        for (Op op : elementwiseAndPrelu()) {
            Activation act = op.defaults();
            for (double sign : new double[] {1, -1}) {
                checkLimit(op + "(" + sign + " inf)", op.reference(sign * Double.POSITIVE_INFINITY, act.a(), act.b()),
                        op.reference(sign * 1e300, act.a(), act.b()));
                checkLimit(op + "'(" + sign + " inf)", op.referenceDerivative(sign * Double.POSITIVE_INFINITY, act.a(), act.b()),
                        op.referenceDerivative(sign * 1e300, act.a(), act.b()));
            }
        }
    }

    private static void checkLimit(String what, double atInfinity, double atHuge) {
        assertThat(atInfinity).as(what).isNotNaN();
        if (Math.abs(atHuge) < 1e3) {
            assertThat(atInfinity).as(what).isCloseTo(atHuge, offset(1e-12));
        } else {
            assertThat(atInfinity).as(what).isEqualTo(Math.copySign(Double.POSITIVE_INFINITY, atHuge));
        }
    }

    @Test
    void derivativeScaleBoundsTheDerivativeAndIsLargerOnlyNearItsZeros() {
        for (Op op : elementwiseAndPrelu()) {
            Activation act = op.defaults();
            for (double x = -20; x <= 20; x += 0.0625) {
                double d = Math.abs(op.referenceDerivative(x, act.a(), act.b()));
                double scale = op.referenceDerivativeScale(x, act.a(), act.b());
                assertThat(scale).as("%s scale at %s", op, x).isGreaterThanOrEqualTo(d * (1 - 1e-15));
            }
        }
        // the relief is where f' cancels, not everywhere
        assertThat(Op.GELU.referenceDerivativeScale(-0.7518, 0, 0)).isGreaterThan(1e3 * Math.abs(Op.GELU.referenceDerivative(-0.7518, 0, 0)));
        assertThat(Op.GELU.referenceDerivativeScale(2, 0, 0)).isLessThan(1.2 * Op.GELU.referenceDerivative(2, 0, 0));
    }

    private static List<Op> elementwiseAndPrelu() {
        List<Op> ops = new ArrayList<>(Op.ELEMENTWISE);
        ops.add(Op.PRELU);
        return ops;
    }
}
