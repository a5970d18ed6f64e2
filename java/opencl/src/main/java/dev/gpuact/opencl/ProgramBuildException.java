package dev.gpuact.opencl;

/** The OpenCL compiler rejected a program; {@link #buildLog()} holds what it said. */
public class ProgramBuildException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String buildLog;

    public ProgramBuildException(String device, String options, String buildLog, Throwable cause) {
        super("OpenCL program build failed on " + device + " with options '" + options + "':\n" + buildLog, cause);
        this.buildLog = buildLog;
    }

    /** The compiler's log for the device, as returned by {@code CL_PROGRAM_BUILD_LOG}. */
    public String buildLog() {
        return buildLog;
    }
}
