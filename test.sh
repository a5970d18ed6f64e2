#!/usr/bin/env bash
# The project's test command (the README's, and what CI runs through .ci/run).
# Sets up what the tests need on a fresh machine, then runs every module's tests.
#   - OpenCL: installs PoCL (a real OpenCL CPU device) when no OpenCL runtime is present and apt-get can run as root,
#     and then requires the OpenCL backend, so a broken OpenCL setup fails instead of skipping.
#   - CUDA: when nvcc is present, rebuilds the committed fatbin and fails if it is stale; checks every kernel's
#     SASS instructions per element against kernels-cuda/sass-budget.txt (installs nvdisasm as root with apt-get);
#     with g++, builds the CUDA emulator and requires the cuda-emu backend (every CUDA kernel run on the CPU, see
#     kernels-cuda/README.md).
set -euo pipefail
cd "$(dirname "$0")"

# The tree holds source only: a tracked file that .gitignore ignores is a build or test output committed by mistake.
if git rev-parse --git-dir >/dev/null 2>&1; then
    tracked_ignored="$(git ls-files -ci --exclude-standard)"
    if [ -n "$tracked_ignored" ]; then
        echo "test.sh: tracked files that .gitignore ignores (outputs, not source); git rm --cached them:" >&2
        echo "$tracked_ignored" >&2
        exit 1
    fi
fi

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
kernels-cuda/sass-budget.sh --install

# The CUDA kernels run on the CPU under the emulator (kernels-cuda/emulator) as the cuda-emu backend.
if command -v g++ >/dev/null; then
    kernels-cuda/emulator/build.sh release >/dev/null
    required="$required,cuda-emu"
else
    echo "test.sh: no g++: the CUDA kernels will not run under the emulator"
fi

# install: the example project below builds on the installed artifacts, as a user's project would.
mvn -B -ntp install -Dgpuact.requireBackends="$required" "$@"

# Every jar names its module (Automatic-Module-Name) rather than leaving the JVM to derive one from its file name,
# the core and each backend artifact among them.
modules=""
for jar in $(sed -n 's|^ *<module>\(.*\)</module>$|\1/target/gpuact*.jar|p' pom.xml); do
    case "$jar" in *-sources.jar|*-javadoc.jar|*-tests.jar) continue ;; esac
    module=$(jar --describe-module --file "$jar" | sed -nE 's/^(dev\.gpuact\.[a-z.]+)(@[^ ]+)? automatic$/\1/p')
    [ -n "$module" ] || { echo "test.sh: $jar has no Automatic-Module-Name of dev.gpuact" >&2; exit 1; }
    modules="$modules $module"
done
for module in dev.gpuact.core dev.gpuact.opencl dev.gpuact.cuda; do
    [[ " $modules " == *" $module "* ]] || { echo "test.sh: no jar has the module name $module (found:$modules)" >&2; exit 1; }
done

# The README's library example, compiled and run on the Java backend with the core artifact alone (a class path under
# 1 MiB, no native library loaded), and with the OpenCL artifact added on OpenCL where OpenCL is required.
if [[ "$required" == *opencl* ]]; then
    examples/run.sh cpu opencl
else
    examples/run.sh cpu
fi

if [[ "$required" == *cuda-emu* ]]; then
    kernels-cuda/emulator/sanitize.sh java/cuda/target/surefire-reports
    kernels-cuda/emulator/summary.sh java/cuda/target/surefire-reports
fi

# A one-minute soak of the Java backend, and of OpenCL where it is required: random checked calls from several
# threads, every result against the double-precision reference and the memory given back (bench/gpuact needs the
# jar the build above made). Any error fails the run.
bench/gpuact soak --backend cpu --minutes 1 --threads 2
if [[ ",$required," == *,opencl,* ]]; then
    bench/gpuact soak --backend opencl --minutes 1 --threads 2
fi
