package dev.gpuact;

/**
 * What {@link Backends#forWork} asks for the backend predicted fastest for a piece of work. The library's own
 * chooser, measured once per machine and cached, lives in {@code dev.gpuact.measure}, which is built on this
 * package: {@link Backends} finds it with {@link java.util.ServiceLoader} rather than naming it, so the
 * dependency points one way.
 */
public interface WorkChooser {
    /** As {@link Backends#forWork}, whose caller has checked the arguments. */
    Choice choose(Activation activation, long elements, Residency where);
}
