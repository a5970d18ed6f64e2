package dev.gpuact.cuda;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import dev.gpuact.Stream;
import java.nio.FloatBuffer;
import jcuda.driver.CUstream;

/**
 * A CUDA stream of its own: calls are checked as the backend's synchronous calls are, then enqueued without
 * waiting. Direct native-order {@link FloatBuffer}s (a pinned {@link CudaBackend#allocateHost} buffer above all)
 * are copied asynchronously; other host memory goes through the backend's staging buffer, in stream order but
 * waiting for the copy. Its own scratch memory lets multi-kernel ops run here while other threads use the
 * backend.
 */
final class CudaStream implements Stream {
    private final CudaBackend backend;
    private final CudaBackend.Target target;
    private boolean closed;

    CudaStream(CudaBackend backend, CUstream stream) {
        this.backend = backend;
        this.target = new CudaBackend.Target(stream, false, new DeviceScratch(backend.driver()));
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public void write(DeviceBuffer dst, long offset, FloatBuffer src) {
        CudaBackend.Target t = openTarget();
        CudaBuffer to = backend.ownBuffer(dst, "dst");
        backend.enqueue(t, () -> to.write(offset, src));
    }

    @Override
    public void read(DeviceBuffer src, long offset, FloatBuffer dst) {
        CudaBackend.Target t = openTarget();
        CudaBuffer from = backend.ownBuffer(src, "src");
        backend.enqueue(t, () -> from.read(offset, dst));
    }

    @Override
    public void apply(Activation activation, DeviceBuffer x, DeviceBuffer y) {
        backend.enqueue(openTarget(), () -> backend.apply(activation, x, y));
    }

    @Override
    public void applyRows(Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout) {
        backend.enqueue(openTarget(), () -> backend.applyRows(activation, x, y, layout));
    }

    @Override
    public void synchronize() {
        backend.synchronizeStream(openTarget());
    }

    @Override
    public boolean isAsynchronous() {
        return true;
    }

    /** Waits for the enqueued work, then frees the scratch and destroys the stream; a second close does nothing. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        backend.release(this, () -> {
            backend.waitFor(target);
            target.scratch().free();
            backend.driver().destroyStream(target.stream());
        });
    }

    private synchronized CudaBackend.Target openTarget() {
        if (closed) {
            throw new IllegalStateException("CUDA stream is closed");
        }
        return target;
    }
}
