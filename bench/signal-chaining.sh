# Sourced by every launcher of a JVM that may list OpenCL platforms (bench/gpuact, the bundle's bin/gpuact,
# bench/gpu-run.sh, kernels-cuda/emulator/sanitize.sh); the Maven test run sets the same variable in the parent
# pom. OpenCL platforms built on LLVM (PoCL) replace the JVM's signal handlers, and the JVM, which uses SIGSEGV
# itself, then crashes at random; the JDK's libjsig chains the handlers. Without it gpuact leaves such platforms
# out, and `gpuact info` says why.
#
# gpuact_signal_chaining JAVA_HOME: puts JAVA_HOME's lib/libjsig.so first in LD_PRELOAD, where that runtime has one.
gpuact_signal_chaining() {
    if [ -f "$1/lib/libjsig.so" ]; then
        export LD_PRELOAD="$1/lib/libjsig.so${LD_PRELOAD:+:$LD_PRELOAD}"
    fi
}
