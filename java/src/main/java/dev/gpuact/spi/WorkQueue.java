package dev.gpuact.spi;

/**
 * A backend's native queue of work (an OpenCL command queue, a CUDA stream), handed to every {@code compute*}
 * method of {@link AbstractBackend} so that the call's work goes there: the backend's own queue for the
 * {@link dev.gpuact.Backend}'s methods, a stream's for a {@link dev.gpuact.Stream}'s.
 */
public interface WorkQueue {
    /** The queue of a backend that runs everything on the calling thread: each call has finished when it returns. */
    WorkQueue IMMEDIATE = new WorkQueue() {
        @Override
        public boolean waits() {
            return true;
        }

        @Override
        public void synchronize() {
        }

        @Override
        public void release() {
        }
    };

    /** Whether a call waits for its work before it returns (a backend's own queue) or leaves it in flight (a stream's). */
    boolean waits();

    /** Blocks until every command enqueued so far has finished. */
    void synchronize();

    /** Waits for the enqueued work, then frees what the queue holds; called once, by the stream that owns it. */
    void release();
}
