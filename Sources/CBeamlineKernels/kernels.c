// See include/CBeamlineKernels.h. Portable versions: plain loops, which the
// compiler vectorises for the baseline instruction set; contraction is off
// so each product and sum is rounded on its own, on every platform.
// x86-64: AVX2 + FMA versions with explicit intrinsics for the body and
// scalar fma() for the tail, so every element gets the same fused sequence
// whatever its position in the run.
#include "CBeamlineKernels.h"

#pragma STDC FP_CONTRACT OFF

#define BL_RESTRICT __restrict__

static void axpy1_d_portable(ptrdiff_t n, double *BL_RESTRICT y, double w0, const double *BL_RESTRICT a0) {
    for (ptrdiff_t i = 0; i < n; i++) y[i] = y[i] + w0 * a0[i];
}
static void axpy2_d_portable(ptrdiff_t n, double *BL_RESTRICT y, double w0, const double *BL_RESTRICT a0,
                             double w1, const double *BL_RESTRICT a1) {
    for (ptrdiff_t i = 0; i < n; i++) y[i] = (y[i] + w0 * a0[i]) + w1 * a1[i];
}
static void axpy4_d_portable(ptrdiff_t n, double *BL_RESTRICT y, double w0, const double *BL_RESTRICT a0,
                             double w1, const double *BL_RESTRICT a1, double w2, const double *BL_RESTRICT a2,
                             double w3, const double *BL_RESTRICT a3) {
    for (ptrdiff_t i = 0; i < n; i++) y[i] = (((y[i] + w0 * a0[i]) + w1 * a1[i]) + w2 * a2[i]) + w3 * a3[i];
}
static void axpy1_f_portable(ptrdiff_t n, float *BL_RESTRICT y, float w0, const float *BL_RESTRICT a0) {
    for (ptrdiff_t i = 0; i < n; i++) y[i] = y[i] + w0 * a0[i];
}
static void axpy2_f_portable(ptrdiff_t n, float *BL_RESTRICT y, float w0, const float *BL_RESTRICT a0,
                             float w1, const float *BL_RESTRICT a1) {
    for (ptrdiff_t i = 0; i < n; i++) y[i] = (y[i] + w0 * a0[i]) + w1 * a1[i];
}
static void axpy4_f_portable(ptrdiff_t n, float *BL_RESTRICT y, float w0, const float *BL_RESTRICT a0,
                             float w1, const float *BL_RESTRICT a1, float w2, const float *BL_RESTRICT a2,
                             float w3, const float *BL_RESTRICT a3) {
    for (ptrdiff_t i = 0; i < n; i++) y[i] = (((y[i] + w0 * a0[i]) + w1 * a1[i]) + w2 * a2[i]) + w3 * a3[i];
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <math.h>
#define BL_AVX2 __attribute__((target("avx2,fma")))

int bl_kernels_have_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

BL_AVX2 static void axpy1_d_avx2(ptrdiff_t n, double *BL_RESTRICT y, double w0, const double *BL_RESTRICT a0) {
    __m256d v0 = _mm256_set1_pd(w0);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256d y0 = _mm256_loadu_pd(y + i), y1 = _mm256_loadu_pd(y + i + 4);
        y0 = _mm256_fmadd_pd(v0, _mm256_loadu_pd(a0 + i), y0);
        y1 = _mm256_fmadd_pd(v0, _mm256_loadu_pd(a0 + i + 4), y1);
        _mm256_storeu_pd(y + i, y0); _mm256_storeu_pd(y + i + 4, y1);
    }
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(y + i, _mm256_fmadd_pd(v0, _mm256_loadu_pd(a0 + i), _mm256_loadu_pd(y + i)));
    for (; i < n; i++) y[i] = fma(w0, a0[i], y[i]);
}
BL_AVX2 static void axpy2_d_avx2(ptrdiff_t n, double *BL_RESTRICT y, double w0, const double *BL_RESTRICT a0,
                                 double w1, const double *BL_RESTRICT a1) {
    __m256d v0 = _mm256_set1_pd(w0), v1 = _mm256_set1_pd(w1);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256d y0 = _mm256_loadu_pd(y + i), y1 = _mm256_loadu_pd(y + i + 4);
        y0 = _mm256_fmadd_pd(v0, _mm256_loadu_pd(a0 + i), y0);
        y1 = _mm256_fmadd_pd(v0, _mm256_loadu_pd(a0 + i + 4), y1);
        y0 = _mm256_fmadd_pd(v1, _mm256_loadu_pd(a1 + i), y0);
        y1 = _mm256_fmadd_pd(v1, _mm256_loadu_pd(a1 + i + 4), y1);
        _mm256_storeu_pd(y + i, y0); _mm256_storeu_pd(y + i + 4, y1);
    }
    for (; i + 4 <= n; i += 4) {
        __m256d y0 = _mm256_fmadd_pd(v0, _mm256_loadu_pd(a0 + i), _mm256_loadu_pd(y + i));
        _mm256_storeu_pd(y + i, _mm256_fmadd_pd(v1, _mm256_loadu_pd(a1 + i), y0));
    }
    for (; i < n; i++) y[i] = fma(w1, a1[i], fma(w0, a0[i], y[i]));
}
BL_AVX2 static void axpy4_d_avx2(ptrdiff_t n, double *BL_RESTRICT y, double w0, const double *BL_RESTRICT a0,
                                 double w1, const double *BL_RESTRICT a1, double w2, const double *BL_RESTRICT a2,
                                 double w3, const double *BL_RESTRICT a3) {
    __m256d v0 = _mm256_set1_pd(w0), v1 = _mm256_set1_pd(w1), v2 = _mm256_set1_pd(w2), v3 = _mm256_set1_pd(w3);
    ptrdiff_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d y0 = _mm256_loadu_pd(y + i);
        y0 = _mm256_fmadd_pd(v0, _mm256_loadu_pd(a0 + i), y0);
        y0 = _mm256_fmadd_pd(v1, _mm256_loadu_pd(a1 + i), y0);
        y0 = _mm256_fmadd_pd(v2, _mm256_loadu_pd(a2 + i), y0);
        y0 = _mm256_fmadd_pd(v3, _mm256_loadu_pd(a3 + i), y0);
        _mm256_storeu_pd(y + i, y0);
    }
    for (; i < n; i++) y[i] = fma(w3, a3[i], fma(w2, a2[i], fma(w1, a1[i], fma(w0, a0[i], y[i]))));
}
BL_AVX2 static void axpy1_f_avx2(ptrdiff_t n, float *BL_RESTRICT y, float w0, const float *BL_RESTRICT a0) {
    __m256 v0 = _mm256_set1_ps(w0);
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 y0 = _mm256_loadu_ps(y + i), y1 = _mm256_loadu_ps(y + i + 8);
        y0 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(a0 + i), y0);
        y1 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(a0 + i + 8), y1);
        _mm256_storeu_ps(y + i, y0); _mm256_storeu_ps(y + i + 8, y1);
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(v0, _mm256_loadu_ps(a0 + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] = fmaf(w0, a0[i], y[i]);
}
BL_AVX2 static void axpy2_f_avx2(ptrdiff_t n, float *BL_RESTRICT y, float w0, const float *BL_RESTRICT a0,
                                 float w1, const float *BL_RESTRICT a1) {
    __m256 v0 = _mm256_set1_ps(w0), v1 = _mm256_set1_ps(w1);
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 y0 = _mm256_loadu_ps(y + i), y1 = _mm256_loadu_ps(y + i + 8);
        y0 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(a0 + i), y0);
        y1 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(a0 + i + 8), y1);
        y0 = _mm256_fmadd_ps(v1, _mm256_loadu_ps(a1 + i), y0);
        y1 = _mm256_fmadd_ps(v1, _mm256_loadu_ps(a1 + i + 8), y1);
        _mm256_storeu_ps(y + i, y0); _mm256_storeu_ps(y + i + 8, y1);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 y0 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(a0 + i), _mm256_loadu_ps(y + i));
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(v1, _mm256_loadu_ps(a1 + i), y0));
    }
    for (; i < n; i++) y[i] = fmaf(w1, a1[i], fmaf(w0, a0[i], y[i]));
}
BL_AVX2 static void axpy4_f_avx2(ptrdiff_t n, float *BL_RESTRICT y, float w0, const float *BL_RESTRICT a0,
                                 float w1, const float *BL_RESTRICT a1, float w2, const float *BL_RESTRICT a2,
                                 float w3, const float *BL_RESTRICT a3) {
    __m256 v0 = _mm256_set1_ps(w0), v1 = _mm256_set1_ps(w1), v2 = _mm256_set1_ps(w2), v3 = _mm256_set1_ps(w3);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 y0 = _mm256_loadu_ps(y + i);
        y0 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(a0 + i), y0);
        y0 = _mm256_fmadd_ps(v1, _mm256_loadu_ps(a1 + i), y0);
        y0 = _mm256_fmadd_ps(v2, _mm256_loadu_ps(a2 + i), y0);
        y0 = _mm256_fmadd_ps(v3, _mm256_loadu_ps(a3 + i), y0);
        _mm256_storeu_ps(y + i, y0);
    }
    for (; i < n; i++) y[i] = fmaf(w3, a3[i], fmaf(w2, a2[i], fmaf(w1, a1[i], fmaf(w0, a0[i], y[i]))));
}
#define BL_DISPATCH(fused, avx, portable) if (fused) avx; else portable
#else
int bl_kernels_have_avx2_fma(void) { return 0; }
#define BL_DISPATCH(fused, avx, portable) (void)(fused); portable
#endif

void bl_axpy1_d(int fused, ptrdiff_t n, double *y, double w0, const double *a0) {
    BL_DISPATCH(fused, axpy1_d_avx2(n, y, w0, a0), axpy1_d_portable(n, y, w0, a0));
}
void bl_axpy2_d(int fused, ptrdiff_t n, double *y, double w0, const double *a0, double w1, const double *a1) {
    BL_DISPATCH(fused, axpy2_d_avx2(n, y, w0, a0, w1, a1), axpy2_d_portable(n, y, w0, a0, w1, a1));
}
void bl_axpy4_d(int fused, ptrdiff_t n, double *y, double w0, const double *a0, double w1, const double *a1,
                double w2, const double *a2, double w3, const double *a3) {
    BL_DISPATCH(fused, axpy4_d_avx2(n, y, w0, a0, w1, a1, w2, a2, w3, a3),
                axpy4_d_portable(n, y, w0, a0, w1, a1, w2, a2, w3, a3));
}
void bl_axpy1_f(int fused, ptrdiff_t n, float *y, float w0, const float *a0) {
    BL_DISPATCH(fused, axpy1_f_avx2(n, y, w0, a0), axpy1_f_portable(n, y, w0, a0));
}
void bl_axpy2_f(int fused, ptrdiff_t n, float *y, float w0, const float *a0, float w1, const float *a1) {
    BL_DISPATCH(fused, axpy2_f_avx2(n, y, w0, a0, w1, a1), axpy2_f_portable(n, y, w0, a0, w1, a1));
}
void bl_axpy4_f(int fused, ptrdiff_t n, float *y, float w0, const float *a0, float w1, const float *a1,
                float w2, const float *a2, float w3, const float *a3) {
    BL_DISPATCH(fused, axpy4_f_avx2(n, y, w0, a0, w1, a1, w2, a2, w3, a3),
                axpy4_f_portable(n, y, w0, a0, w1, a1, w2, a2, w3, a3));
}
