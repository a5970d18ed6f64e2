package dev.gpuact.fallback;

import java.lang.System.Logger.Level;

/**
 * Chooses, once, whether the kernels run on the JDK's Vector API ({@code jdk.incubator.vector}) or on scalar
 * loops. The vector classes are compiled separately and loaded by name only when the module is in the boot layer
 * (the JVM was started with {@code --add-modules jdk.incubator.vector}), so this jar runs on any Java 17+ without
 * it. {@code -Dgpuact.cpu.vector=false} forces the scalar loops.
 */
public final class Vectorization {
    public static final String PROPERTY = "gpuact.cpu.vector";
    static final String MODULE = "jdk.incubator.vector";

    private static final VectorLoops SCALAR = new VectorLoops() {
        @Override
        public String description() {
            return "scalar";
        }

        @Override
        public int forward(ElementwiseKernel op, float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            return 0;
        }

        @Override
        public int backward(ElementwiseKernel op, float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n,
                            float a, float b) {
            return 0;
        }

        @Override
        public int backwardFromOutput(OutputBackward op, float[] y, float[] dy, float[] dx, int from, int n, float a,
                                      float b) {
            return 0;
        }

        @Override
        public int expPrefix(float[] x, int from, float[] out, int at, int n) {
            return 0;
        }

        @Override
        public int maxPrefix(int n) {
            return 0;
        }

        @Override
        public float maxOfPrefix(float[] x, int from, int n) {
            return Float.NEGATIVE_INFINITY;
        }

        @Override
        public boolean takesRows(float t) {
            return false;
        }

        @Override
        public float softmaxRow(float[] x, int xb, float[] y, int yb, int cols, float m, float t, int aheadXb) {
            throw new UnsupportedOperationException("the scalar path takes no rows");
        }

        @Override
        public float logSoftmaxRow(float[] x, int xb, float[] y, int yb, int cols, float m, float t, int aheadXb) {
            throw new UnsupportedOperationException("the scalar path takes no rows");
        }
    };

    static final VectorLoops LOOPS = choose();
    /** The float16/bfloat16 conversions, vectorised where the kernels are. */
    static final HalfLoops HALF_LOOPS = LOOPS == SCALAR ? HalfLoops.SCALAR : chooseHalfLoops();
    private static final String DESCRIPTION = describe();

    private Vectorization() {
    }

    /** One line for {@code gpuact info}: which path runs and, for the scalar one, why. */
    public static String description() {
        return DESCRIPTION;
    }

    public static boolean vectorised() {
        return LOOPS != SCALAR;
    }

    private static boolean disabled() {
        return "false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim());
    }

    private static boolean modulePresent() {
        return ModuleLayer.boot().findModule(MODULE).isPresent();
    }

    private static VectorLoops choose() {
        if (disabled()) {
            return SCALAR;
        }
        if (!modulePresent()) {
            System.getLogger("dev.gpuact.cpu").log(Level.WARNING, "gpuact: the cpu backend runs its scalar kernels "
                    + "because the module " + MODULE + " is not loaded; start the JVM with --add-modules " + MODULE
                    + " for the vectorised ones (several times faster on sigmoid, tanh, gelu, silu, ...), or set -D"
                    + PROPERTY + "=false to choose the scalar kernels and silence this line");
            return SCALAR;
        }
        try {
            return (VectorLoops) Class.forName("dev.gpuact.fallback.VectorKernels").getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            System.getLogger("dev.gpuact.cpu").log(Level.WARNING, "gpuact: the cpu backend's vector kernels did not "
                    + "load (" + e + "); it runs its scalar kernels");
            return SCALAR;
        }
    }

    private static HalfLoops chooseHalfLoops() {
        try {
            return (HalfLoops) Class.forName("dev.gpuact.fallback.VectorHalfFloats").getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            System.getLogger("dev.gpuact.cpu").log(Level.WARNING, "gpuact: the cpu backend's vector float16/bfloat16 "
                    + "conversions did not load (" + e + "); it runs its scalar ones");
            return HalfLoops.SCALAR;
        }
    }

    private static String describe() {
        if (LOOPS != SCALAR) {
            return "Vector API (" + LOOPS.description() + ")";
        }
        return disabled() ? "scalar (-D" + PROPERTY + "=false)"
                : modulePresent() ? "scalar (the vector kernels did not load)"
                : "scalar (start the JVM with --add-modules " + MODULE + " for the Vector API path)";
    }
}
