/* gpuact_convert_<from>_<to>: dst[i] = src[i] between storage types (storage.h), and gpuact_convert_bits, a copy of
 * 16-bit elements as they are (a conversion between buffers of one 16-bit type keeps every NaN's bits). */
#include "storage.h"

#define GPUACT_CONVERT(FROM, TO) \
__kernel void gpuact_convert_##FROM##_##TO(__global const GPUACT_STORAGE_T_##FROM *src, \
                                           __global GPUACT_STORAGE_T_##TO *dst, ulong n) { \
    size_t i = get_global_id(0); \
    if (i < n) { \
        GPUACT_STORE_##TO(dst, i, GPUACT_LOAD_##FROM(src, i)); \
    } \
}
GPUACT_CONVERT(float, half)
GPUACT_CONVERT(float, bfloat16)
GPUACT_CONVERT(half, float)
GPUACT_CONVERT(bfloat16, float)
GPUACT_CONVERT(half, bfloat16)
GPUACT_CONVERT(bfloat16, half)
#undef GPUACT_CONVERT

__kernel void gpuact_convert_bits(__global const ushort *src, __global ushort *dst, ulong n) {
    size_t i = get_global_id(0);
    if (i < n) {
        dst[i] = src[i];
    }
}
