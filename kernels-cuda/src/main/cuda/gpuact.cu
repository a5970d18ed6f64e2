// The one translation unit nvcc compiles into gpuact.fatbin (see ../../../build-fatbin.sh).
// Per-op math comes from the header shared with OpenCL; this file and the .cuh files hold only launch logic.
#include "activation_math.h"
#include "common.cuh"
#include "elementwise.cuh"
#include "prelu.cuh"
#include "maxout.cuh"
#include "softmax.cuh"
#include "from_output.cuh"
#include "masked_softmax.cuh"
#include "bias.cuh"
#include "gated.cuh"
#include "storage.cuh"
