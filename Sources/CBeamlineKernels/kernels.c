// See include/CBeamlineKernels.h. Portable versions: plain loops, which the
// compiler vectorises for the baseline instruction set; contraction is off
// so each product and sum is rounded on its own, on every platform.
// x86-64: AVX2 + FMA versions with explicit intrinsics; partial vectors at
// the end of a run use masked loads and stores, so every element gets the
// same fused sequence whatever its position in the run.
#include "CBeamlineKernels.h"

#pragma STDC FP_CONTRACT OFF

#define BL_RESTRICT __restrict__

#define BL_PORTABLE(NAME, GNAME, T)                                                                  \
static void NAME(ptrdiff_t n, T *BL_RESTRICT y, T w0, const T *BL_RESTRICT a0) {                       \
    for (ptrdiff_t i = 0; i < n; i++) y[i] = y[i] + w0 * a0[i];                                      \
}                                                                                                    \
static void GNAME(ptrdiff_t n, T *BL_RESTRICT y, int add, ptrdiff_t terms, const T *BL_RESTRICT w,             \
                  const ptrdiff_t *BL_RESTRICT offsets, const T *BL_RESTRICT base) {                  \
    ptrdiff_t i = 0;                                                                                 \
    for (; i + 8 <= n; i += 8) {                                                                     \
        T acc[8];                                                                                    \
        for (int l = 0; l < 8; l++) acc[l] = add ? y[i + l] : 0;                                     \
        for (ptrdiff_t t = 0; t < terms; t++) {                                                      \
            const T *p = base + offsets[t] + i;                                                      \
            T wt = w[t];                                                                             \
            for (int l = 0; l < 8; l++) acc[l] = acc[l] + wt * p[l];                                 \
        }                                                                                            \
        for (int l = 0; l < 8; l++) y[i + l] = acc[l];                                               \
    }                                                                                                \
    for (; i < n; i++) {                                                                             \
        T acc = add ? y[i] : 0;                                                                      \
        for (ptrdiff_t t = 0; t < terms; t++) acc = acc + w[t] * base[offsets[t] + i];               \
        y[i] = acc;                                                                                  \
    }                                                                                                \
}
BL_PORTABLE(axpy_d_portable, gather_d_portable, double)
BL_PORTABLE(axpy_f_portable, gather_f_portable, float)

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <math.h>
#define BL_AVX2 __attribute__((target("avx2,fma")))

int bl_kernels_have_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// Lane masks for 0...8 remaining elements (64-bit lanes use the first 4 of 8 pairs).
static const int bl_mask32[17][8] = {
    {0, 0, 0, 0, 0, 0, 0, 0}, {-1, 0, 0, 0, 0, 0, 0, 0}, {-1, -1, 0, 0, 0, 0, 0, 0},
    {-1, -1, -1, 0, 0, 0, 0, 0}, {-1, -1, -1, -1, 0, 0, 0, 0}, {-1, -1, -1, -1, -1, 0, 0, 0},
    {-1, -1, -1, -1, -1, -1, 0, 0}, {-1, -1, -1, -1, -1, -1, -1, 0}, {-1, -1, -1, -1, -1, -1, -1, -1},
};
BL_AVX2 static inline __m256i mask_ps(ptrdiff_t r) {
    r = r < 0 ? 0 : (r > 8 ? 8 : r);
    return _mm256_loadu_si256((const __m256i *)bl_mask32[r]);
}
BL_AVX2 static inline __m256i mask_pd(ptrdiff_t r) {
    r = r < 0 ? 0 : (r > 4 ? 4 : r);
    return _mm256_loadu_si256((const __m256i *)bl_mask32[2 * r]);
}

// y += w0 a0, whole vectors then one masked vector.
#define BL_AXPY_AVX2(NAME, T, VT, LANES, LOAD, STORE, MLOAD, MSTORE, FMA, SET1, MASK)                  \
BL_AVX2 static void NAME(ptrdiff_t n, T *BL_RESTRICT y, T w0, const T *BL_RESTRICT a0) {                \
    VT v0 = SET1(w0);                                                                                  \
    ptrdiff_t i = 0;                                                                                   \
    for (; i + LANES <= n; i += LANES) STORE(y + i, FMA(v0, LOAD(a0 + i), LOAD(y + i)));               \
    if (i < n) {                                                                                       \
        __m256i m = MASK(n - i);                                                                       \
        MSTORE(y + i, m, FMA(v0, MLOAD(a0 + i, m), MLOAD(y + i, m)));                                  \
    }                                                                                                  \
}
BL_AXPY_AVX2(axpy_d_avx2, double, __m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_maskload_pd,
             _mm256_maskstore_pd, _mm256_fmadd_pd, _mm256_set1_pd, mask_pd)
BL_AXPY_AVX2(axpy_f_avx2, float, __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_maskload_ps,
             _mm256_maskstore_ps, _mm256_fmadd_ps, _mm256_set1_ps, mask_ps)

// Gather: eight accumulators (eight independent FMA chains) per block of
// 8 vectors; the last block of 1–8 vectors is masked. A block of at most 4
// vectors uses four accumulators.
#define BL_GATHER_AVX2(NAME, T, VT, LANES, LOAD, STORE, MLOAD, MSTORE, FMA, BCAST, MASK, ZERO)              \
BL_AVX2 static void NAME(ptrdiff_t n, T *BL_RESTRICT y, int add, ptrdiff_t terms, const T *BL_RESTRICT w,               \
                         const ptrdiff_t *BL_RESTRICT offsets, const T *BL_RESTRICT base) {                   \
    ptrdiff_t i = 0;                                                                                         \
    for (; i + 8 * LANES <= n; i += 8 * LANES) {                                                             \
        T *q = y + i;                                                                                        \
        VT a0 = (add ? LOAD(q) : ZERO()), a1 = (add ? LOAD(q + LANES) : ZERO()), a2 = (add ? LOAD(q + 2 * LANES) : ZERO()), a3 = (add ? LOAD(q + 3 * LANES) : ZERO());           \
        VT a4 = (add ? LOAD(q + 4 * LANES) : ZERO()), a5 = (add ? LOAD(q + 5 * LANES) : ZERO()), a6 = (add ? LOAD(q + 6 * LANES) : ZERO()), a7 = (add ? LOAD(q + 7 * LANES) : ZERO()); \
        int ahead = i + 16 * LANES <= n;  /* the next block is whole: fetch its lines now */                 \
        for (ptrdiff_t t = 0; t < terms; t++) {                                                              \
            const T *p = base + offsets[t] + i;                                                              \
            VT wt = BCAST(w + t);                                                                            \
            if (ahead) {                                                                                     \
                const char *f = (const char *)(p + 8 * LANES);                                               \
                _mm_prefetch(f, _MM_HINT_T0); _mm_prefetch(f + 64, _MM_HINT_T0);                             \
                _mm_prefetch(f + 128, _MM_HINT_T0); _mm_prefetch(f + 192, _MM_HINT_T0);                      \
            }                                                                                                \
            a0 = FMA(wt, LOAD(p), a0); a1 = FMA(wt, LOAD(p + LANES), a1);                                    \
            a2 = FMA(wt, LOAD(p + 2 * LANES), a2); a3 = FMA(wt, LOAD(p + 3 * LANES), a3);                    \
            a4 = FMA(wt, LOAD(p + 4 * LANES), a4); a5 = FMA(wt, LOAD(p + 5 * LANES), a5);                    \
            a6 = FMA(wt, LOAD(p + 6 * LANES), a6); a7 = FMA(wt, LOAD(p + 7 * LANES), a7);                    \
        }                                                                                                    \
        STORE(q, a0); STORE(q + LANES, a1); STORE(q + 2 * LANES, a2); STORE(q + 3 * LANES, a3);              \
        STORE(q + 4 * LANES, a4); STORE(q + 5 * LANES, a5); STORE(q + 6 * LANES, a6); STORE(q + 7 * LANES, a7); \
    }                                                                                                        \
    ptrdiff_t r = n - i;                                                                                     \
    if (r <= 0) return;                                                                                      \
    T *q = y + i;                                                                                            \
    if (r > 4 * LANES) {                                                                                     \
        __m256i m0 = MASK(r), m1 = MASK(r - LANES), m2 = MASK(r - 2 * LANES), m3 = MASK(r - 3 * LANES);      \
        __m256i m4 = MASK(r - 4 * LANES), m5 = MASK(r - 5 * LANES), m6 = MASK(r - 6 * LANES), m7 = MASK(r - 7 * LANES); \
        VT a0 = (add ? LOAD(q) : ZERO()), a1 = (add ? LOAD(q + LANES) : ZERO()), a2 = (add ? LOAD(q + 2 * LANES) : ZERO()), a3 = (add ? LOAD(q + 3 * LANES) : ZERO());           \
        VT a4 = (add ? MLOAD(q + 4 * LANES, m4) : ZERO()), a5 = (add ? MLOAD(q + 5 * LANES, m5) : ZERO());                                     \
        VT a6 = (add ? MLOAD(q + 6 * LANES, m6) : ZERO()), a7 = (add ? MLOAD(q + 7 * LANES, m7) : ZERO());                                     \
        (void)m0; (void)m1; (void)m2; (void)m3;                                                              \
        for (ptrdiff_t t = 0; t < terms; t++) {                                                              \
            const T *p = base + offsets[t] + i;                                                              \
            VT wt = BCAST(w + t);                                                                            \
            a0 = FMA(wt, LOAD(p), a0); a1 = FMA(wt, LOAD(p + LANES), a1);                                    \
            a2 = FMA(wt, LOAD(p + 2 * LANES), a2); a3 = FMA(wt, LOAD(p + 3 * LANES), a3);                    \
            a4 = FMA(wt, MLOAD(p + 4 * LANES, m4), a4); a5 = FMA(wt, MLOAD(p + 5 * LANES, m5), a5);          \
            a6 = FMA(wt, MLOAD(p + 6 * LANES, m6), a6); a7 = FMA(wt, MLOAD(p + 7 * LANES, m7), a7);          \
        }                                                                                                    \
        STORE(q, a0); STORE(q + LANES, a1); STORE(q + 2 * LANES, a2); STORE(q + 3 * LANES, a3);              \
        MSTORE(q + 4 * LANES, m4, a4); MSTORE(q + 5 * LANES, m5, a5);                                        \
        MSTORE(q + 6 * LANES, m6, a6); MSTORE(q + 7 * LANES, m7, a7);                                        \
    } else {                                                                                                 \
        __m256i m0 = MASK(r), m1 = MASK(r - LANES), m2 = MASK(r - 2 * LANES), m3 = MASK(r - 3 * LANES);      \
        VT a0 = (add ? MLOAD(q, m0) : ZERO()), a1 = (add ? MLOAD(q + LANES, m1) : ZERO()), a2 = (add ? MLOAD(q + 2 * LANES, m2) : ZERO()), a3 = (add ? MLOAD(q + 3 * LANES, m3) : ZERO()); \
        for (ptrdiff_t t = 0; t < terms; t++) {                                                              \
            const T *p = base + offsets[t] + i;                                                              \
            VT wt = BCAST(w + t);                                                                            \
            a0 = FMA(wt, MLOAD(p, m0), a0); a1 = FMA(wt, MLOAD(p + LANES, m1), a1);                          \
            a2 = FMA(wt, MLOAD(p + 2 * LANES, m2), a2); a3 = FMA(wt, MLOAD(p + 3 * LANES, m3), a3);          \
        }                                                                                                    \
        MSTORE(q, m0, a0); MSTORE(q + LANES, m1, a1); MSTORE(q + 2 * LANES, m2, a2); MSTORE(q + 3 * LANES, m3, a3); \
    }                                                                                                        \
}
BL_GATHER_AVX2(gather_d_avx2, double, __m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_maskload_pd,
               _mm256_maskstore_pd, _mm256_fmadd_pd, _mm256_broadcast_sd, mask_pd, _mm256_setzero_pd)
BL_GATHER_AVX2(gather_f_avx2, float, __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_maskload_ps,
               _mm256_maskstore_ps, _mm256_fmadd_ps, _mm256_broadcast_ss, mask_ps, _mm256_setzero_ps)

#define BL_DISPATCH(fused, avx, portable) if (fused) avx; else portable
#else
int bl_kernels_have_avx2_fma(void) { return 0; }
#define BL_DISPATCH(fused, avx, portable) (void)(fused); portable
#endif

void bl_axpy_d(int fused, ptrdiff_t n, double *y, double w0, const double *a0) {
    BL_DISPATCH(fused, axpy_d_avx2(n, y, w0, a0), axpy_d_portable(n, y, w0, a0));
}
void bl_axpy_f(int fused, ptrdiff_t n, float *y, float w0, const float *a0) {
    BL_DISPATCH(fused, axpy_f_avx2(n, y, w0, a0), axpy_f_portable(n, y, w0, a0));
}
void bl_gather_d(int fused, ptrdiff_t n, double *y, int add, ptrdiff_t terms, const double *w,
                 const ptrdiff_t *offsets, const double *base) {
    BL_DISPATCH(fused, gather_d_avx2(n, y, add, terms, w, offsets, base),
                gather_d_portable(n, y, add, terms, w, offsets, base));
}
void bl_gather_f(int fused, ptrdiff_t n, float *y, int add, ptrdiff_t terms, const float *w,
                 const ptrdiff_t *offsets, const float *base) {
    BL_DISPATCH(fused, gather_f_avx2(n, y, add, terms, w, offsets, base),
                gather_f_portable(n, y, add, terms, w, offsets, base));
}
