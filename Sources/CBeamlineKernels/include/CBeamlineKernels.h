// Fused multiply-add kernels over contiguous runs, for the John-transform
// projector's column fast path (BeamlineTomography).
//
// Each kernel adds weighted sources to `y`, element by element, in a fixed
// order: y[n] = ((y[n] + w0 a0[n]) + w1 a1[n]) + ... . Two versions exist:
// a portable one (plain C, compiled with FP_CONTRACT OFF, so every product
// and sum is rounded separately on every platform) and, on x86-64, an
// AVX2 + FMA one that evaluates the same sequence with fused multiply-adds
// (one rounding per term instead of two). `bl_kernels_have_avx2_fma()` says
// whether the CPU can run the second; callers choose with the `fused`
// argument, once per operator, so a result never mixes the two.
// `y` must not overlap any source.
#ifndef C_BEAMLINE_KERNELS_H
#define C_BEAMLINE_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the AVX2 + FMA versions can run on this CPU (x86-64 only), else 0.
int bl_kernels_have_avx2_fma(void);

/// y[n] += w0 a0[n] for n < count.
void bl_axpy1_d(int fused, ptrdiff_t count, double *y, double w0, const double *a0);
/// y[n] += w0 a0[n] + w1 a1[n].
void bl_axpy2_d(int fused, ptrdiff_t count, double *y, double w0, const double *a0, double w1, const double *a1);
/// y[n] += w0 a0[n] + w1 a1[n] + w2 a2[n] + w3 a3[n].
void bl_axpy4_d(int fused, ptrdiff_t count, double *y, double w0, const double *a0, double w1, const double *a1,
                double w2, const double *a2, double w3, const double *a3);

/// Float versions of the above.
void bl_axpy1_f(int fused, ptrdiff_t count, float *y, float w0, const float *a0);
void bl_axpy2_f(int fused, ptrdiff_t count, float *y, float w0, const float *a0, float w1, const float *a1);
void bl_axpy4_f(int fused, ptrdiff_t count, float *y, float w0, const float *a0, float w1, const float *a1,
                float w2, const float *a2, float w3, const float *a3);

#ifdef __cplusplus
}
#endif

#endif
