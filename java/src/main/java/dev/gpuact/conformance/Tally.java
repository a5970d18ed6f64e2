package dev.gpuact.conformance;

import java.util.ArrayList;
import java.util.List;

/** The running result of one op's checks: worst errors, points compared and the first failures. */
final class Tally {
    static final int LISTED_FAILURES = 10;

    private final String name;
    private final List<String> failures = new ArrayList<>();
    private long failureCount;
    private double maxForward;
    private double maxBackward;
    private long points;

    Tally(String name) {
        this.name = name;
    }

    void forward(double ulps) {
        maxForward = Math.max(maxForward, ulps);
        points++;
    }

    void backward(double ulps) {
        maxBackward = Math.max(maxBackward, ulps);
        points++;
    }

    /** A compared output that needs no ULP figure (a flag, an exact index, untouched padding). */
    void point() {
        points++;
    }

    void fail(String line) {
        if (failureCount++ < LISTED_FAILURES) {
            failures.add(line);
        }
    }

    OpReport report() {
        List<String> lines = new ArrayList<>(failures);
        if (failureCount > LISTED_FAILURES) {
            lines.add("... and " + (failureCount - LISTED_FAILURES) + " more failures (" + failureCount + " in all)");
        }
        return new OpReport(name, maxForward, maxBackward, points, lines);
    }
}
