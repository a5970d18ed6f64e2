package dev.gpuact;

/**
 * The backend the measured model predicts fastest for a piece of work, its predicted time, and why in words,
 * e.g. {@code "cpu: 1M relu on host data: 0.4 ms on cpu vs 2.1 ms end to end on opencl"}.
 */
public record Choice(String backend, double predictedNanos, String reason) {
}
