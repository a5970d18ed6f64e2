package dev.gpuact.measure;

import dev.gpuact.Activation;
import dev.gpuact.Choice;
import dev.gpuact.Residency;
import dev.gpuact.WorkChooser;

/** The {@link WorkChooser} behind {@code Backends.forWork}: the cost model of {@link Calibration}. */
public final class CalibratedChooser implements WorkChooser {
    @Override
    public Choice choose(Activation activation, long elements, Residency where) {
        Workload workload = Workload.of(activation);
        return Calibration.model(workload).choose(workload, elements, where);
    }
}
