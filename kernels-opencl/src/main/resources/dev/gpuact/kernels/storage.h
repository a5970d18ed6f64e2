/* Storage types next to float32 math: float (float32), half (float16: vload_half / vstore_half_rte, core OpenCL,
 * need no cl_khr_fp16) and bfloat16, held as its ushort bits. Widening is exact; narrowing rounds to nearest, ties
 * to even, and keeps a NaN a quiet NaN (the rounding carry of a signalling payload could reach infinity). */
#ifndef GPUACT_STORAGE_H
#define GPUACT_STORAGE_H

inline float gpuact_bfloat16_to_float(ushort b) {
    return as_float((uint) b << 16);
}

inline ushort gpuact_float_to_bfloat16(float f) {
    uint bits = as_uint(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) {
        return (ushort) ((bits >> 16) | 0x40u);
    }
    return (ushort) ((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

#define GPUACT_STORAGE_T_float float
#define GPUACT_LOAD_float(p, i) ((p)[i])
#define GPUACT_STORE_float(p, i, v) ((p)[i] = (v))
#define GPUACT_STORAGE_T_half half
#define GPUACT_LOAD_half(p, i) vload_half((i), (p))
#define GPUACT_STORE_half(p, i, v) vstore_half_rte((v), (i), (p))
#define GPUACT_STORAGE_T_bfloat16 ushort
#define GPUACT_LOAD_bfloat16(p, i) gpuact_bfloat16_to_float((p)[i])
#define GPUACT_STORE_bfloat16(p, i, v) ((p)[i] = gpuact_float_to_bfloat16(v))

#define GPUACT_CAT_(a, b) a##b
#define GPUACT_CAT(a, b) GPUACT_CAT_(a, b)
#endif
