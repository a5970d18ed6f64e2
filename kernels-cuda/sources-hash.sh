#!/usr/bin/env bash
# One SHA-256 over everything the fatbin is compiled from (names and contents, in a fixed order).
#   kernels-cuda/sources-hash.sh [dir-of-activation_math.h]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
shared="$here/../kernels-opencl/src/main/resources/dev/gpuact/kernels"
math_dir="${1:-$shared}"
cd "$here"
{
    for f in build-fatbin.sh $(ls src/main/cuda/*.cu src/main/cuda/*.cuh | LC_ALL=C sort); do
        echo "== $f"; cat "$f"
    done
    echo "== activations.def"; cat "$shared/activations.def"
    echo "== gated.def"; cat "$shared/gated.def"
    echo "== activation_math.h"; cat "$math_dir/activation_math.h"
} | sha256sum | cut -d' ' -f1
