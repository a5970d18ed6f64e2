#!/usr/bin/env bash
# The project's test command (the README's, and what CI runs through .ci/run).
# Sets up what the tests need on a fresh machine, then runs every module's tests.
#   - OpenCL: installs PoCL (a real OpenCL CPU device) when no OpenCL runtime is present and apt-get can run as root,
#     and then requires the OpenCL backend, so a broken OpenCL setup fails instead of skipping.
#   - CUDA: when nvcc is present, rebuilds the committed fatbin and fails if it is stale.
set -euo pipefail
cd "$(dirname "$0")"

have_opencl() {
    [ -e /usr/lib/x86_64-linux-gnu/libOpenCL.so ] || ldconfig -p 2>/dev/null | grep -q 'libOpenCL\.so '
}
has_icd() {
    ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1
}

if ! (have_opencl && has_icd); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "test.sh: installing PoCL (OpenCL on the CPU) for the OpenCL tests"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq ocl-icd-libopencl1 ocl-icd-opencl-dev pocl-opencl-icd >/dev/null
    else
        echo "test.sh: no OpenCL runtime and no root apt-get: OpenCL tests will be skipped with the reason"
    fi
fi

# The Java backend is always required, so a class path that lost its provider fails instead of testing nothing.
required="cpu"
if have_opencl && has_icd; then
    required="cpu,opencl"
fi
required="${GPUACT_REQUIRE_BACKENDS:-$required}"

if [ -x kernels-cuda/check-fatbin.sh ]; then
    kernels-cuda/check-fatbin.sh
fi

mvn -B -ntp verify -Dgpuact.requireBackends="$required" "$@"

# A one-minute soak per required backend: random checked calls from several threads, every result against the
# double-precision reference and the memory given back (bench/gpuact needs the jar the build above made).
for backend in ${required//,/ }; do
    bench/gpuact soak --backend "$backend" --minutes 1 --threads 2
done
