#!/usr/bin/env bash
# Proves activation_math.h stays in the C subset nvcc accepts: compiles every generated forward and backward
# function of activations.def and every backward-from-output function of GPUACT_FROM_OUTPUT_OPS as CUDA device code. Needs nvcc; usage: kernels-opencl/check-cuda-header.sh [arch]
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
#define GPUACT_FROM_OUTPUT(NAME, id) \
__global__ void bwdy_##NAME(const float *y, const float *dy, float *dx, unsigned long long n, float a, float b) { \
    unsigned long long i = blockIdx.x * (unsigned long long) blockDim.x + threadIdx.x; \
    if (i < n) dx[i] = gpuact_bwdy_##NAME(y[i], dy[i], a, b); \
}
GPUACT_FROM_OUTPUT_OPS(GPUACT_FROM_OUTPUT)
__global__ void softmax_helpers(const float *x, float *y, float m, float t) {
    float sum = 0.0f, comp = 0.0f, lo;
    gpuact_kahan_add(&sum, &comp, gpuact_softmax_exp(x[0], m, t));
    y[0] = sum + gpuact_softmax_exponent(x[1], m, t, &lo) + lo;
}
CU
nvcc -arch="$arch" -Werror all-warnings -I "$kernels" -c "$work/check.cu" -o "$work/check.o"
echo "activation_math.h compiles as CUDA ($arch)"
