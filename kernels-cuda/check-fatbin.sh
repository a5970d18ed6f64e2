#!/usr/bin/env bash
# Fails when the committed fatbin does not match the CUDA sources (called by .ci/run).
#  1. Always: the manifest's source hash must equal the hash of today's sources (no nvcc needed).
#  2. With nvcc: rebuild into a temporary folder; with the same nvcc release the bytes must be identical
#     (nvcc output is byte-deterministic), with another release the kernel lists must be.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
committed="$here/src/main/resources/dev/gpuact/kernels/cuda"
manifest="$committed/gpuact.manifest"
rebuild_hint="run kernels-cuda/build-fatbin.sh and commit src/main/resources/dev/gpuact/kernels/cuda/"

fail() {
    echo "check-fatbin: STALE: $*; $rebuild_hint" >&2
    exit 1
}

[[ -f "$committed/gpuact.fatbin" && -f "$manifest" ]] || fail "gpuact.fatbin or gpuact.manifest is missing"
field() { sed -n "s/^$1: //p" "$2"; }

expected_hash="$(field sources-sha256 "$manifest")"
actual_hash="$("$here/sources-hash.sh")"
[[ "$expected_hash" == "$actual_hash" ]] \
    || fail "the CUDA sources or the shared math header changed since the fatbin was built (manifest $expected_hash, sources $actual_hash)"

if ! command -v nvcc > /dev/null; then
    echo "check-fatbin: sources match the manifest; nvcc not found: skipped rebuild check"
    exit 0
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
"$here/build-fatbin.sh" "$scratch" > "$scratch/build.log" 2>&1 || { cat "$scratch/build.log" >&2; fail "the rebuild failed"; }

if [[ "$(field nvcc "$manifest")" == "$(field nvcc "$scratch/gpuact.manifest")" ]]; then
    cmp -s "$committed/gpuact.fatbin" "$scratch/gpuact.fatbin" \
        || fail "rebuilding with the same nvcc gives different bytes"
    echo "check-fatbin: up to date (rebuilt byte-identical with nvcc $(field nvcc "$manifest"))"
else
    diff <(grep '^kernel:' "$manifest") <(grep '^kernel:' "$scratch/gpuact.manifest") > /dev/null \
        || fail "the rebuilt fatbin has other kernels than the committed one"
    echo "check-fatbin: up to date (same sources and kernels; committed with nvcc $(field nvcc "$manifest"), bytes not compared across nvcc releases)"
fi
