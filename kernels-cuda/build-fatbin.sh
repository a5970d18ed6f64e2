#!/usr/bin/env bash
# Compiles src/main/cuda/gpuact.cu into the one fatbin the CUDA backend loads, and writes its manifest.
#
#   kernels-cuda/build-fatbin.sh [output-dir]   (default: the committed resource folder)
#
# SASS for every architecture below plus PTX of the newest, so a later GPU JIT-compiles it. -O3, IEEE math
# (no --use_fast_math): the accuracy bounds of ACTIVATIONS.md depend on it. The fatbin is left uncompressed so
# its kernel names can be read from the bytes (see CudaFatbinTest).
# GPUACT_MATH_DIR overrides where activation_math.h is found (default: next to activations.def).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
resources="$here/src/main/resources/dev/gpuact/kernels/cuda"
out="${1:-$resources}"
shared="$here/../kernels-opencl/src/main/resources/dev/gpuact/kernels"
math_dir="${GPUACT_MATH_DIR:-$shared}"
sass_archs=(75 80 86 89 90 100 120)
ptx_arch=120

if [[ ! -f "$math_dir/activation_math.h" ]]; then
    echo "build-fatbin: $math_dir/activation_math.h not found (the math header shared with OpenCL)" >&2
    exit 1
fi

gencode=()
for a in "${sass_archs[@]}"; do gencode+=("-gencode=arch=compute_$a,code=sm_$a"); done
gencode+=("-gencode=arch=compute_$ptx_arch,code=compute_$ptx_arch")
flags=(-fatbin -O3 -std=c++17 --compress-mode=none -Xptxas=-warn-spills)

mkdir -p "$out"
nvcc "${flags[@]}" "${gencode[@]}" --threads "${GPUACT_NVCC_THREADS:-2}" \
    -I"$math_dir" -I"$shared" -o "$out/gpuact.fatbin" "$here/src/main/cuda/gpuact.cu"

# The manifest names what the fatbin was built from, so a stale one is caught even where nvcc is absent.
{
    echo "# Written by build-fatbin.sh; check-fatbin.sh compares it with the sources. Do not edit."
    echo "sources-sha256: $("$here/sources-hash.sh" "$math_dir")"
    release="$(nvcc --version | grep -o 'release [0-9.]*' | cut -d' ' -f2)"
    echo "nvcc: $(nvcc --version | grep -o 'release [0-9.]*, V[0-9.]*')"
    # A fatbin from CUDA X.Y needs a driver that supports CUDA X.Y (cuDriverGetVersion() >= X*1000 + Y*10).
    echo "min-driver-api: $(( ${release%.*} * 1000 + ${release#*.} * 10 ))"
    echo "sass: ${sass_archs[*]}"
    echo "ptx: $ptx_arch"
    echo "flags: ${flags[*]}"
    grep -ao 'text\.gpuact_[A-Za-z0-9_]*' "$out/gpuact.fatbin" | sed 's/^text\./kernel: /' | sort -u
} > "$out/gpuact.manifest"
echo "build-fatbin: wrote $out/gpuact.fatbin ($(wc -c < "$out/gpuact.fatbin") bytes, $(grep -c '^kernel:' "$out/gpuact.manifest") kernels)"
