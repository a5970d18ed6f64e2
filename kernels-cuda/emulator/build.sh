#!/usr/bin/env bash
# Builds the CUDA emulator library from the unmodified kernel sources.
#
#   kernels-cuda/emulator/build.sh [release|asan|mutant] [source-dir] [output-dir]
#
# release (default): -O2; asan: AddressSanitizer and UndefinedBehaviorSanitizer; mutant: -O1, which compiles
# three times faster, for the mutation checks' patched copies. source-dir holds gpuact.cu and
# its .cuh files (default src/main/cuda; the mutation checks pass patched copies). The library is rebuilt only
# when a source or this script changed (a hash of them names the build).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kind="${1:-release}"
src="$(cd "${2:-$here/../src/main/cuda}" && pwd)"
out="${3:-$here/../target/emulator/$kind}"
math="${GPUACT_MATH_DIR:-$here/../../kernels-opencl/src/main/resources/dev/gpuact/kernels}"
manifest="$here/../src/main/resources/dev/gpuact/kernels/cuda/gpuact.manifest"

case "$kind" in
    release) flags=(-O2) ;;
    mutant) flags=(-O1) ;;
    asan) flags=(-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer) ;;
    *) echo "build.sh: kind must be release, asan or mutant, got '$kind'" >&2; exit 2 ;;
esac

java_home="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}"
if [[ ! -f "$java_home/include/jni.h" ]]; then
    echo "build.sh: no jni.h under $java_home/include (set JAVA_HOME to a JDK)" >&2
    exit 1
fi

mkdir -p "$out"
hash="$(cat "$0" "$here"/*.h "$here"/*.cpp "$src"/*.cu "$src"/*.cuh "$math"/activation_math.h "$math"/activations.def "$math"/gated.def \
    "$manifest" | sha256sum | cut -c1-16)"
lib="$out/libgpuact_emu.so"
if [[ -f "$lib" && "$(cat "$out/build.hash" 2>/dev/null)" == "$hash" ]]; then
    echo "$lib"
    exit 0
fi

sed -n 's/^kernel: \(gpuact_[A-Za-z0-9_]*\)$/EMU_KERNEL(\1)/p' "$manifest" > "$out/kernels.inc"
common=(-std=c++17 -fPIC -Wall -Wno-unknown-pragmas -Wno-unused-variable -Wno-unused-function -U_FORTIFY_SOURCE
        -fno-strict-aliasing -ffp-contract=off "${flags[@]}")
# The runtime does not depend on the kernels: built once per kind, shared by every source directory (mutants).
runtime="$here/../target/emulator/runtime-$kind"
runtime_hash="$(cat "$0" "$here"/*.h "$here"/runtime.cpp "$here"/jni.cpp | sha256sum | cut -c1-16)"
mkdir -p "$runtime"
(
    flock 9
    if [[ "$(cat "$runtime/build.hash" 2>/dev/null)" != "$runtime_hash" ]]; then
        g++ "${common[@]}" -I"$here" -c "$here/runtime.cpp" -o "$runtime/runtime.o" &
        g++ "${common[@]}" -I"$here" -I"$java_home/include" -I"$java_home/include/linux" -c "$here/jni.cpp" \
            -o "$runtime/jni.o"
        wait $!
        echo "$runtime_hash" > "$runtime/build.hash"
    fi
) 9> "$runtime/.lock"
g++ "${common[@]}" -I"$here" -I"$src" -I"$math" -I"$out" -c "$here/kernels.cpp" -o "$out/kernels.o"
g++ "${flags[@]}" -shared -o "$lib.tmp" "$out/kernels.o" "$runtime/runtime.o" "$runtime/jni.o" -lpthread
mv "$lib.tmp" "$lib"
echo "$hash" > "$out/build.hash"
echo "$lib"
