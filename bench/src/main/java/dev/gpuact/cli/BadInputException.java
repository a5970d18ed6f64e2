package dev.gpuact.cli;

/** The user's input is wrong (a file, an option value, a shape): exit code 2 and one line saying what. */
public class BadInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BadInputException(String message) {
        super(message);
    }
}
