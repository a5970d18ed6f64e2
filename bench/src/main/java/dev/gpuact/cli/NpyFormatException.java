package dev.gpuact.cli;

import java.io.IOException;
import java.nio.file.Path;

/** A file that is not a .npy file this tool reads (bad magic, header, dtype, layout or size); names the file. */
public class NpyFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String problem;

    public NpyFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.problem = problem;
    }

    /** The message without the file name. */
    public String problem() {
        return problem;
    }
}
