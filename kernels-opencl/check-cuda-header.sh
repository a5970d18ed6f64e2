#!/usr/bin/env bash
# Proves activation_math.h stays in the C subset nvcc accepts: compiles every generated forward and backward
# function of activations.def as CUDA device code. Needs nvcc; usage: kernels-opencl/check-cuda-header.sh [arch]
set -euo pipefail
kernels="$(cd "$(dirname "$0")/src/main/resources/dev/gpuact/kernels" && pwd)"
arch="${1:-sm_90}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/check.cu" <<'CU'
#include "activation_math.h"
#define GPUACT_OP(NAME, id) \
__global__ void fwd_##NAME(const float *x, float *y, unsigned long long n, float a, float b) { \
    unsigned long long i = blockIdx.x * (unsigned long long) blockDim.x + threadIdx.x; \
    if (i < n) y[i] = gpuact_fwd_##NAME(x[i], a, b); \
} \
__global__ void bwd_##NAME(const float *x, const float *dy, float *dx, unsigned long long n, float a, float b) { \
    unsigned long long i = blockIdx.x * (unsigned long long) blockDim.x + threadIdx.x; \
    if (i < n) dx[i] = gpuact_bwd_##NAME(x[i], dy[i], a, b); \
}
#include "activations.def"
__global__ void softmax_helpers(const float *x, float *y, float m, float t) {
    float sum = 0.0f, comp = 0.0f, lo;
    gpuact_kahan_add(&sum, &comp, gpuact_softmax_exp(x[0], m, t));
    y[0] = sum + gpuact_softmax_exponent(x[1], m, t, &lo) + lo;
}
CU
for variant in "" "-DGPUACT_NO_FP64"; do
    nvcc -arch="$arch" -Werror all-warnings $variant -I "$kernels" -c "$work/check.cu" -o "$work/check.o"
done
echo "activation_math.h compiles as CUDA ($arch), with and without fp64"
