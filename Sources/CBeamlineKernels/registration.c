// Registration kernels (BeamlineRegistration): the phase cross-correlation's
// cross-power spectrum and its peak search, for double data. See
// include/CBeamlineKernels.h. The AVX2 versions use no fused multiply-add,
// and every product, sum, square root and division is the same IEEE
// operation in the same order as the portable loop, so both versions give
// bit-identical results (the energies, sums over a row, are added in a
// different order: they only feed the error estimates).
#include "CBeamlineKernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

static void cross_power_portable(ptrdiff_t n, const double *a, const double *b, double *o, int phase, double floor,
                                 double *energies) {
    double ea = 0, eb = 0;
    for (ptrdiff_t j = 0; j < n; j++) {
        double ar = a[2 * j], ai = a[2 * j + 1], br = b[2 * j], bi = b[2 * j + 1];
        ea += ar * ar + ai * ai;
        eb += br * br + bi * bi;
        double re = ar * br + ai * bi, im = ai * br - ar * bi;
        if (phase) {
            double m = sqrt(re * re + im * im);
            double scale = 1 / (m < floor ? floor : m);
            re *= scale;
            im *= scale;
        }
        o[2 * j] = re;
        o[2 * j + 1] = im;
    }
    energies[0] = ea;
    energies[1] = eb;
}

static ptrdiff_t abs_argmax_portable(ptrdiff_t n, const double *x) {
    double top = -INFINITY;
    ptrdiff_t at = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        double v = fabs(x[i]);
        if (v > top) { top = v; at = i; }
    }
    return at;
}

// First stage of the Hermitian upsampled DFT (see bl_fold_dft_d in the
// header): row pairs r, −r folded on the fly, every output lane summed over
// j in order, each product and sum rounded on its own.
#define BL_FOLD_PORTABLE(NAME, T)                                                                             \
static void NAME(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t n0, ptrdiff_t h1, ptrdiff_t m, ptrdiff_t u, ptrdiff_t ldk, \
                 const T *product, const T *c, const T *s, T *out) {                                          \
    for (ptrdiff_t r = r0; r < r1; r++) {                                                                     \
        const T *plus = product + 2 * r * h1, *minus = product + 2 * ((n0 - r) % n0) * h1;                   \
        T *re = out + 2 * r * u, *im = re + u;                                                                \
        for (ptrdiff_t b = 0; b < u; b++) { re[b] = 0; im[b] = 0; }                                           \
        for (ptrdiff_t j = 1; j <= m; j++) {                                                                  \
            T pr = plus[2 * j], pi = plus[2 * j + 1], qr = minus[2 * j], qi = minus[2 * j + 1];               \
            T sre = pr + qr, sim = pi - qi, dre = pr - qr, dimn = -(pi + qi);                                 \
            const T *cj = c + (j - 1) * ldk, *sj = s + (j - 1) * ldk;                                         \
            for (ptrdiff_t b = 0; b < u; b++) {                                                               \
                re[b] = re[b] + cj[b] * sre;                                                                  \
                re[b] = re[b] + sj[b] * dimn;                                                                 \
                im[b] = im[b] + cj[b] * sim;                                                                  \
                im[b] = im[b] + sj[b] * dre;                                                                  \
            }                                                                                                 \
        }                                                                                                     \
    }                                                                                                         \
}
BL_FOLD_PORTABLE(fold_dft_d_portable, double)
BL_FOLD_PORTABLE(fold_dft_f_portable, float)

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define BL_AVX2_ONLY __attribute__((target("avx2")))

static int bl_have_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

// Two complex numbers a vector, (re0, im0, re1, im1), two vectors a step so
// that one square root and one division serve four moduli.
BL_AVX2_ONLY static inline __m256d product_pairs(__m256d va, __m256d vb) {
    __m256d t1 = _mm256_mul_pd(va, vb);                          // (ar·br, ai·bi, …)
    __m256d t2 = _mm256_mul_pd(va, _mm256_permute_pd(vb, 0x5));  // (ar·bi, ai·br, …)
    __m256d re = _mm256_hadd_pd(t1, t1);                         // ar·br + ai·bi
    __m256d negim = _mm256_hsub_pd(t2, t2);                      // ar·bi − ai·br = −im
    __m256d im = _mm256_sub_pd(_mm256_setzero_pd(), negim);
    return _mm256_blend_pd(re, im, 0xA);                         // (re0, im0, re1, im1)
}

BL_AVX2_ONLY static void cross_power_avx2(ptrdiff_t n, const double *a, const double *b, double *o, int phase,
                                          double floor, double *energies) {
    __m256d ea = _mm256_setzero_pd(), eb = _mm256_setzero_pd();
    const __m256d floors = _mm256_set1_pd(floor), ones = _mm256_set1_pd(1);
    ptrdiff_t j = 0;
    for (; j + 4 <= n; j += 4) {
        __m256d va0 = _mm256_loadu_pd(a + 2 * j), vb0 = _mm256_loadu_pd(b + 2 * j);
        __m256d va1 = _mm256_loadu_pd(a + 2 * j + 4), vb1 = _mm256_loadu_pd(b + 2 * j + 4);
        ea = _mm256_add_pd(ea, _mm256_hadd_pd(_mm256_mul_pd(va0, va0), _mm256_mul_pd(va1, va1)));  // |a|² per number
        eb = _mm256_add_pd(eb, _mm256_hadd_pd(_mm256_mul_pd(vb0, vb0), _mm256_mul_pd(vb1, vb1)));
        __m256d p0 = product_pairs(va0, vb0), p1 = product_pairs(va1, vb1);
        if (phase) {
            // (|p0|², |p2|², |p1|², |p3|²): re·re + im·im per number, then one sqrt and one division.
            __m256d m = _mm256_sqrt_pd(_mm256_hadd_pd(_mm256_mul_pd(p0, p0), _mm256_mul_pd(p1, p1)));
            m = _mm256_blendv_pd(m, floors, _mm256_cmp_pd(m, floors, _CMP_LT_OQ));
            __m256d r = _mm256_div_pd(ones, m);                  // (s0, s2, s1, s3)
            p0 = _mm256_mul_pd(p0, _mm256_permute_pd(r, 0x0));   // (s0, s0, s1, s1)
            p1 = _mm256_mul_pd(p1, _mm256_permute_pd(r, 0xF));   // (s2, s2, s3, s3)
        }
        _mm256_storeu_pd(o + 2 * j, p0);
        _mm256_storeu_pd(o + 2 * j + 4, p1);
    }
    double sums[4], sumsB[4];
    _mm256_storeu_pd(sums, ea);
    _mm256_storeu_pd(sumsB, eb);
    double rest[2];
    cross_power_portable(n - j, a + 2 * j, b + 2 * j, o + 2 * j, phase, floor, rest);
    energies[0] = ((sums[0] + sums[1]) + (sums[2] + sums[3])) + rest[0];
    energies[1] = ((sumsB[0] + sumsB[1]) + (sumsB[2] + sumsB[3])) + rest[1];
}

BL_AVX2_ONLY static ptrdiff_t abs_argmax_avx2(ptrdiff_t n, const double *x) {
    if (n < 8) return abs_argmax_portable(n, x);
    const __m256d sign = _mm256_set1_pd(-0.0);
    __m256d top = _mm256_set1_pd(-INFINITY);
    __m256d index = _mm256_setzero_pd(), lane = _mm256_setr_pd(0, 1, 2, 3), step = _mm256_set1_pd(4);
    ptrdiff_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_andnot_pd(sign, _mm256_loadu_pd(x + i));
        __m256d greater = _mm256_cmp_pd(v, top, _CMP_GT_OQ);      // strictly greater: first occurrence per lane
        top = _mm256_blendv_pd(top, v, greater);
        index = _mm256_blendv_pd(index, lane, greater);
        lane = _mm256_add_pd(lane, step);
    }
    double tops[4], indices[4];
    _mm256_storeu_pd(tops, top);
    _mm256_storeu_pd(indices, index);
    double best = -INFINITY;
    ptrdiff_t at = 0;
    for (int l = 0; l < 4; l++) {                                  // the largest, then the smallest position
        ptrdiff_t k = (ptrdiff_t)indices[l];
        if (tops[l] > best || (tops[l] == best && k < at)) { best = tops[l]; at = k; }
    }
    for (; i < n; i++) {
        double v = fabs(x[i]);
        if (v > best) { best = v; at = i; }
    }
    return at;
}
// 16 output lanes (four vectors of real parts, four of imaginary parts) per
// pass over j; the folded values are the portable loop's scalar operations,
// and each lane takes the same products and sums in the same order.
BL_AVX2_ONLY static void fold_dft_d_avx2(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t n0, ptrdiff_t h1, ptrdiff_t m, ptrdiff_t u,
                                         ptrdiff_t ldk, const double *product, const double *c, const double *s,
                                         double *out) {
    for (ptrdiff_t r = r0; r < r1; r++) {
        const double *plus = product + 2 * r * h1, *minus = product + 2 * ((n0 - r) % n0) * h1;
        double *re = out + 2 * r * u, *im = re + u;
        for (ptrdiff_t bb = 0; bb < u; bb += 16) {
            __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (ptrdiff_t j = 1; j <= m; j++) {
                double pr = plus[2 * j], pi = plus[2 * j + 1], qr = minus[2 * j], qi = minus[2 * j + 1];
                __m256d sre = _mm256_set1_pd(pr + qr), sim = _mm256_set1_pd(pi - qi);
                __m256d dre = _mm256_set1_pd(pr - qr), dimn = _mm256_set1_pd(-(pi + qi));
                const double *cj = c + (j - 1) * ldk + bb, *sj = s + (j - 1) * ldk + bb;
                // One kernel vector live at a time (eight accumulators and four
                // broadcasts fill the other registers).
#define BL_FOLD_STEP(A, B, offset)                                                              \
                {                                                                               \
                    __m256d k = _mm256_loadu_pd(cj + offset);                                   \
                    A = _mm256_add_pd(A, _mm256_mul_pd(k, sre));                                \
                    B = _mm256_add_pd(B, _mm256_mul_pd(k, sim));                                \
                    k = _mm256_loadu_pd(sj + offset);                                           \
                    A = _mm256_add_pd(A, _mm256_mul_pd(k, dimn));                               \
                    B = _mm256_add_pd(B, _mm256_mul_pd(k, dre));                                \
                }
                BL_FOLD_STEP(a0, b0, 0)
                BL_FOLD_STEP(a1, b1, 4)
                BL_FOLD_STEP(a2, b2, 8)
                BL_FOLD_STEP(a3, b3, 12)
#undef BL_FOLD_STEP
            }
            double lanes[32];
            _mm256_storeu_pd(lanes, a0); _mm256_storeu_pd(lanes + 4, a1);
            _mm256_storeu_pd(lanes + 8, a2); _mm256_storeu_pd(lanes + 12, a3);
            _mm256_storeu_pd(lanes + 16, b0); _mm256_storeu_pd(lanes + 20, b1);
            _mm256_storeu_pd(lanes + 24, b2); _mm256_storeu_pd(lanes + 28, b3);
            ptrdiff_t count = u - bb < 16 ? u - bb : 16;
            memcpy(re + bb, lanes, (size_t)count * sizeof(double));
            memcpy(im + bb, lanes + 16, (size_t)count * sizeof(double));
        }
    }
}

/// Whether the AVX2 versions run: the CPU check once, cached with relaxed
/// atomics (every thread computes the same answer). The environment
/// variable BEAMLINE_PORTABLE_KERNELS (set, and not "0") forces the portable versions, as it
/// does for the projector's kernels.
static int bl_registration_avx2(void) {
    static int cached = -1;
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        const char *portable = getenv("BEAMLINE_PORTABLE_KERNELS");
        value = (portable && portable[0] != '\0' && strcmp(portable, "0") != 0) ? 0 : bl_have_avx2();
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
}
#endif

void bl_cross_power_d(ptrdiff_t count, const double *a, const double *b, double *product, int phase, double floor,
                      double *energies) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (bl_registration_avx2()) { cross_power_avx2(count, a, b, product, phase, floor, energies); return; }
#endif
    cross_power_portable(count, a, b, product, phase, floor, energies);
}

ptrdiff_t bl_abs_argmax_d(ptrdiff_t count, const double *x) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (bl_registration_avx2()) return abs_argmax_avx2(count, x);
#endif
    return abs_argmax_portable(count, x);
}

void bl_fold_dft_d(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t n0, ptrdiff_t h1, ptrdiff_t m, ptrdiff_t u, ptrdiff_t ldk,
                   const double *product, const double *c, const double *s, double *out) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (bl_registration_avx2()) { fold_dft_d_avx2(r0, r1, n0, h1, m, u, ldk, product, c, s, out); return; }
#endif
    fold_dft_d_portable(r0, r1, n0, h1, m, u, ldk, product, c, s, out);
}

void bl_fold_dft_f(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t n0, ptrdiff_t h1, ptrdiff_t m, ptrdiff_t u, ptrdiff_t ldk,
                   const float *product, const float *c, const float *s, float *out) {
    fold_dft_f_portable(r0, r1, n0, h1, m, u, ldk, product, c, s, out);
}
