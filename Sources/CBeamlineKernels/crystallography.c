// See include/CBeamlineKernels.h: the CBC scaling criterion over one block
// of rows (BeamlineCrystallography's IntensityScaler).
//
// Portable version: the rows in order, one libm call per term, contraction
// off, so every platform rounds alike. x86-64 AVX2 + FMA version: four rows
// a vector, with a vector logarithm; a run of one streak's lone rows takes
// a_s and b_s once and keeps its sums in registers; two-row pixels go two to
// a vector (a crossing of two streaks keeps its sums in registers); larger
// pixels go in chunks of at most BL_CBC_CHUNK rows (modelled counts, terms,
// pixel sums a chunk at a time). The two versions agree to a few units in
// the last place per row; within one version the result depends only on the
// block's lists, never on the thread that runs it.
#include "CBeamlineKernels.h"

#include <float.h>
#include <math.h>
#include <stdint.h>

#pragma STDC FP_CONTRACT OFF

#define BL_CBC_CHUNK 256

static const double bl_huber_delta = 1.345;

// f(I, λ) and ∂f/∂λ for λ > 0 (the caller skips λ ≤ 0).
static inline void cbc_term(int kind, int constant_sigma, double counts, double lambda, double *value, double *slope) {
    if (kind == BL_CBC_POISSON) {
        *value = lambda - counts * log(lambda);
        *slope = 1 - counts / lambda;
        return;
    }
    double sigma = sqrt(lambda);
    double r = (counts - lambda) / sigma;
    double drdl = constant_sigma ? -1 / sigma : -(lambda + counts) / (2 * lambda * sigma);
    double a = fabs(r), lv, ls;
    switch (kind) {
    case BL_CBC_LEAST_SQUARES_L1:
        lv = a;
        ls = r > 0 ? 1 : (r < 0 ? -1 : 0);
        break;
    case BL_CBC_LEAST_SQUARES_HUBER:
        if (a <= bl_huber_delta) { lv = r * r; ls = 2 * r; }
        else { lv = 2 * bl_huber_delta * a - bl_huber_delta * bl_huber_delta; ls = r > 0 ? 2 * bl_huber_delta : -2 * bl_huber_delta; }
        break;
    case BL_CBC_LEAST_SQUARES_CBCLIB_HUBER:
        if (a < 1.345) { lv = r * r; ls = 2 * r; }
        else { lv = 2.69 * (a - 0.7625); ls = r > 0 ? 2.69 : -2.69; }
        break;
    default:
        lv = r * r;
        ls = 2 * r;
        break;
    }
    *value = lv;
    *slope = ls * drdl;
}

// One pixel group (rows lo..<hi sharing a pixel), portable arithmetic.
static inline double cbc_group(int kind, int constant_sigma, ptrdiff_t lo, ptrdiff_t hi, const int32_t *streak,
                               const float *weight, const float *counts, const float *background, const double *a,
                               const double *b, double *g_intercept, double *g_theta, double *streak_values) {
    double total = 0, sum = 0, slope = 0;
    for (ptrdiff_t j = lo; j < hi; j++) { int32_t s = streak[j]; sum += a[s] * (double)weight[j] + b[s]; }
    for (ptrdiff_t j = lo; j < hi; j++) {
        double lambda = sum + (double)background[j];
        if (lambda > 0) {
            double v, d;
            cbc_term(kind, constant_sigma, (double)counts[j], lambda, &v, &d);
            total += v;
            slope += d;
            if (streak_values) streak_values[streak[j]] += v;
        }
    }
    for (ptrdiff_t j = lo; j < hi; j++) {
        int32_t s = streak[j];
        g_intercept[s] += slope;
        g_theta[s] += slope * (double)weight[j];
    }
    return total;
}

// One run of streak s's lone rows lo..<hi, portable arithmetic.
static double cbc_run(int kind, int constant_sigma, ptrdiff_t lo, ptrdiff_t hi, int32_t s, const float *weight,
                      const float *counts, const float *background, const double *a, const double *b,
                      double *g_intercept, double *g_theta, double *streak_values) {
    double total = 0;
    for (ptrdiff_t j = lo; j < hi; j++) {
        double w = (double)weight[j];
        double lambda = a[s] * w + b[s] + (double)background[j];
        if (lambda > 0) {
            double v, d;
            cbc_term(kind, constant_sigma, (double)counts[j], lambda, &v, &d);
            total += v;
            g_intercept[s] += d;
            g_theta[s] += d * w;
            if (streak_values) streak_values[s] += v;
        }
    }
    return total;
}

static double cbc_block_portable(int kind, int constant_sigma, const int32_t *streak, const float *weight,
                                 const float *counts, const float *background, ptrdiff_t run_count, const int32_t *runs,
                                 ptrdiff_t group_count, const int32_t *groups, const double *a, const double *b,
                                 double *g_intercept, double *g_theta, double *streak_values) {
    double total = 0;
    for (ptrdiff_t r = 0; r < run_count; r++)
        total += cbc_run(kind, constant_sigma, runs[3 * r], runs[3 * r + 1], runs[3 * r + 2], weight, counts, background,
                         a, b, g_intercept, g_theta, streak_values);
    for (ptrdiff_t g = 0; g < group_count; g++)
        total += cbc_group(kind, constant_sigma, groups[2 * g], groups[2 * g + 1], streak, weight, counts, background, a, b,
                           g_intercept, g_theta, streak_values);
    return total;
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define BL_CBC_AVX2 __attribute__((target("avx2,fma")))

// Natural logarithm of four positive, normal, finite doubles: x = 2^e m with
// m in [√½, √2], log m = 2 atanh f = 2f + 2f·f²·p(f²), f = (m − 1)/(m + 1),
// |f| ≤ 0.1716, p a degree-6 minimax polynomial; e ln 2 in two parts. Within
// 2 units in the last place (checked on 5·10⁵ arguments against 50-digit logs).
BL_CBC_AVX2 static inline __attribute__((always_inline)) __m256d cbc_log4(__m256d x) {
    const __m256d one = _mm256_set1_pd(1.0);
    __m256i bits = _mm256_castpd_si256(x);
    __m256i biased = _mm256_srli_epi64(bits, 52);
    // Exponent to double: 2⁵² + e as a double's bits, minus 2⁵² + 1023.
    __m256d e = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(biased, _mm256_set1_epi64x(0x4330000000000000LL))),
                              _mm256_set1_pd(4503599627370496.0 + 1023.0));
    __m256d m = _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000FFFFFFFFFFFFFLL)),
                                                    _mm256_set1_epi64x(0x3FF0000000000000LL)));
    __m256d high = _mm256_cmp_pd(m, _mm256_set1_pd(1.4142135623730951), _CMP_GT_OQ);
    m = _mm256_blendv_pd(m, _mm256_mul_pd(m, _mm256_set1_pd(0.5)), high);
    e = _mm256_add_pd(e, _mm256_and_pd(high, one));
    __m256d f = _mm256_div_pd(_mm256_sub_pd(m, one), _mm256_add_pd(m, one));
    __m256d s = _mm256_mul_pd(f, f);
    // Minimax fit (Remez, 50 digits; scripts/cbc_log_coefficients.py) of
    // (atanh(f)/f − 1)/f² on f² ∈ [0, 0.02944]: error 1.6e-16, so the
    // series' error in log m is below 5e-18 relative.
    __m256d p = _mm256_set1_pd(0.07308868384969246);
    p = _mm256_fmadd_pd(p, s, _mm256_set1_pd(0.07665803983968768));
    p = _mm256_fmadd_pd(p, s, _mm256_set1_pd(0.09091446443561689));
    p = _mm256_fmadd_pd(p, s, _mm256_set1_pd(0.11111105538699867));
    p = _mm256_fmadd_pd(p, s, _mm256_set1_pd(0.14285714313185627));
    p = _mm256_fmadd_pd(p, s, _mm256_set1_pd(0.19999999999949253));
    p = _mm256_fmadd_pd(p, s, _mm256_set1_pd(0.3333333333333335));
    __m256d twof = _mm256_add_pd(f, f);
    __m256d logm = _mm256_fmadd_pd(_mm256_mul_pd(twof, s), p, twof);
    const __m256d ln2 = _mm256_set1_pd(0.6931471805599453), ln2_low = _mm256_set1_pd(2.3190468138462996e-17);
    return _mm256_fmadd_pd(e, ln2, _mm256_fmadd_pd(e, ln2_low, logm));
}

// log of lanes that cbc_log4 cannot take (subnormal or infinite), by libm.
BL_CBC_AVX2 static inline __m256d cbc_log4_checked(__m256d x) {
    __m256d odd = _mm256_or_pd(_mm256_cmp_pd(x, _mm256_set1_pd(DBL_MIN), _CMP_LT_OQ),
                               _mm256_cmp_pd(x, _mm256_set1_pd(DBL_MAX), _CMP_GT_OQ));
    if (!_mm256_movemask_pd(odd)) return cbc_log4(x);
    double lanes[4];
    _mm256_storeu_pd(lanes, x);
    for (int l = 0; l < 4; l++) lanes[l] = log(lanes[l]);
    return _mm256_loadu_pd(lanes);
}

// Whether every argument collected in range[0..1] suits cbc_log4 (normal, finite).
BL_CBC_AVX2 static inline int cbc_range_ok(const __m256d *range) {
    __m256d odd = _mm256_or_pd(_mm256_cmp_pd(range[0], _mm256_set1_pd(DBL_MIN), _CMP_LT_OQ),
                               _mm256_cmp_pd(range[1], _mm256_set1_pd(DBL_MAX), _CMP_GT_OQ));
    return !_mm256_movemask_pd(odd);
}

BL_CBC_AVX2 static inline __m256d cbc_sign4(__m256d r, __m256d magnitude) {
    __m256d zero = _mm256_setzero_pd();
    __m256d pos = _mm256_and_pd(_mm256_cmp_pd(r, zero, _CMP_GT_OQ), magnitude);
    __m256d neg = _mm256_and_pd(_mm256_cmp_pd(r, zero, _CMP_LT_OQ), magnitude);
    return _mm256_sub_pd(pos, neg);
}

// Terms of four rows; lanes with λ ≤ 0 (or NaN) or outside `live` give (0, 0).
// With `range` NULL every vector's logarithm is checked for arguments it
// cannot take; otherwise the smallest and largest argument are collected in
// range[0] and range[1] for the caller to check once (cbc_range_ok).
BL_CBC_AVX2 static inline __attribute__((always_inline)) void cbc_term4(int kind, int constant_sigma, __m256d counts, __m256d lambda, __m256d live,
                                         __m256d *value, __m256d *slope, __m256d *range) {
    const __m256d one = _mm256_set1_pd(1.0);
    __m256d valid = _mm256_and_pd(_mm256_cmp_pd(lambda, _mm256_setzero_pd(), _CMP_GT_OQ), live);
    __m256d l = _mm256_blendv_pd(one, lambda, valid);
    __m256d v, d;
    if (kind == BL_CBC_POISSON) {
        __m256d logarithm;
        if (range) {
            range[0] = _mm256_min_pd(range[0], l);
            range[1] = _mm256_max_pd(range[1], l);
            logarithm = cbc_log4(l);
        } else {
            logarithm = cbc_log4_checked(l);
        }
        v = _mm256_fnmadd_pd(counts, logarithm, l);
        d = _mm256_sub_pd(one, _mm256_div_pd(counts, l));
    } else {
        __m256d q = _mm256_div_pd(one, l), sigma = _mm256_sqrt_pd(l);
        __m256d sq = _mm256_mul_pd(sigma, q);  // 1/σ
        __m256d r = _mm256_mul_pd(_mm256_sub_pd(counts, l), sq);
        __m256d drdl = constant_sigma
                           ? _mm256_sub_pd(_mm256_setzero_pd(), sq)
                           : _mm256_mul_pd(_mm256_mul_pd(_mm256_add_pd(l, counts), _mm256_set1_pd(-0.5)), _mm256_mul_pd(sq, q));
        __m256d absr = _mm256_andnot_pd(_mm256_set1_pd(-0.0), r), lv, ls;
        switch (kind) {
        case BL_CBC_LEAST_SQUARES_L1:
            lv = absr;
            ls = cbc_sign4(r, one);
            break;
        case BL_CBC_LEAST_SQUARES_HUBER: {
            const __m256d delta = _mm256_set1_pd(bl_huber_delta);
            __m256d inside = _mm256_cmp_pd(absr, delta, _CMP_LE_OQ);
            __m256d twodelta = _mm256_add_pd(delta, delta);
            lv = _mm256_blendv_pd(_mm256_fmsub_pd(twodelta, absr, _mm256_mul_pd(delta, delta)), _mm256_mul_pd(r, r), inside);
            ls = _mm256_blendv_pd(cbc_sign4(r, twodelta), _mm256_add_pd(r, r), inside);
            break;
        }
        case BL_CBC_LEAST_SQUARES_CBCLIB_HUBER: {
            __m256d inside = _mm256_cmp_pd(absr, _mm256_set1_pd(1.345), _CMP_LT_OQ);
            __m256d outer = _mm256_mul_pd(_mm256_set1_pd(2.69), _mm256_sub_pd(absr, _mm256_set1_pd(0.7625)));
            lv = _mm256_blendv_pd(outer, _mm256_mul_pd(r, r), inside);
            ls = _mm256_blendv_pd(cbc_sign4(r, _mm256_set1_pd(2.69)), _mm256_add_pd(r, r), inside);
            break;
        }
        default:
            lv = _mm256_mul_pd(r, r);
            ls = _mm256_add_pd(r, r);
            break;
        }
        v = lv;
        d = _mm256_mul_pd(ls, drdl);
    }
    *value = _mm256_and_pd(v, valid);
    *slope = _mm256_and_pd(d, valid);
}

BL_CBC_AVX2 static inline double cbc_sum4(__m256d x) {
    double t[4];
    _mm256_storeu_pd(t, x);
    return (t[0] + t[1]) + (t[2] + t[3]);
}

// Lane masks for 0…4 live lanes of 4.
static const int64_t bl_cbc_lanes[5][4] = {{0, 0, 0, 0}, {-1, 0, 0, 0}, {-1, -1, 0, 0}, {-1, -1, -1, 0}, {-1, -1, -1, -1}};

// Rows c..<c+n, with the pixel groups groups[g0..<g1] inside them.
BL_CBC_AVX2 static double cbc_chunk_avx2(int kind, int constant_sigma, ptrdiff_t c, ptrdiff_t n, const int32_t *streak,
                                        const float *weight, const float *counts, const float *background,
                                        ptrdiff_t g0, ptrdiff_t g1, const int32_t *groups, const double *a,
                                        const double *b, double *g_intercept, double *g_theta, double *streak_values) {
    double model[BL_CBC_CHUNK + 4], lambda[BL_CBC_CHUNK + 4], value[BL_CBC_CHUNK + 4], slope[BL_CBC_CHUNK + 4];
    // Modelled counts of each row on its own: a_s w + b_s, plus the background.
    for (ptrdiff_t k = 0; k < n; k += 4) {
        __m128i s;
        __m256d w, bg;
        if (n - k >= 4) {
            s = _mm_loadu_si128((const __m128i *)(streak + c + k));
            w = _mm256_cvtps_pd(_mm_loadu_ps(weight + c + k));
            bg = _mm256_cvtps_pd(_mm_loadu_ps(background + c + k));
        } else {  // the last rows, padded with streak 0, weight 0, background 0
            int32_t ts[4] = {0, 0, 0, 0};
            float tw[4] = {0, 0, 0, 0}, tb[4] = {0, 0, 0, 0};
            for (ptrdiff_t l = 0; l < n - k; l++) { ts[l] = streak[c + k + l]; tw[l] = weight[c + k + l]; tb[l] = background[c + k + l]; }
            s = _mm_loadu_si128((const __m128i *)ts);
            w = _mm256_cvtps_pd(_mm_loadu_ps(tw));
            bg = _mm256_cvtps_pd(_mm_loadu_ps(tb));
        }
        __m256d av = _mm256_i32gather_pd(a, s, 8), bv = _mm256_i32gather_pd(b, s, 8);
        __m256d m = _mm256_fmadd_pd(av, w, bv);
        _mm256_storeu_pd(model + k, m);
        _mm256_storeu_pd(lambda + k, _mm256_add_pd(m, bg));
    }
    // Rows sharing a pixel: the pixel's sum.
    for (ptrdiff_t g = g0; g < g1; g++) {
        ptrdiff_t lo = groups[2 * g] - c, hi = groups[2 * g + 1] - c;
        double sum = 0;
        for (ptrdiff_t j = lo; j < hi; j++) sum += model[j];
        for (ptrdiff_t j = lo; j < hi; j++) lambda[j] = sum + (double)background[c + j];
    }
    __m256d total = _mm256_setzero_pd();
    for (ptrdiff_t k = 0; k < n; k += 4) {
        ptrdiff_t live = n - k < 4 ? n - k : 4;
        __m256d cnt;
        if (live == 4) {
            cnt = _mm256_cvtps_pd(_mm_loadu_ps(counts + c + k));
        } else {
            float tc[4] = {0, 0, 0, 0};
            for (ptrdiff_t l = 0; l < live; l++) tc[l] = counts[c + k + l];
            cnt = _mm256_cvtps_pd(_mm_loadu_ps(tc));
        }
        __m256d v, d;
        cbc_term4(kind, constant_sigma, cnt, _mm256_loadu_pd(lambda + k),
                  _mm256_castsi256_pd(_mm256_loadu_si256((const __m256i *)bl_cbc_lanes[live])), &v, &d, NULL);
        total = _mm256_add_pd(total, v);
        _mm256_storeu_pd(value + k, v);
        _mm256_storeu_pd(slope + k, d);
    }
    // A group's rows all take the group's slope.
    for (ptrdiff_t g = g0; g < g1; g++) {
        ptrdiff_t lo = groups[2 * g] - c, hi = groups[2 * g + 1] - c;
        double sum = 0;
        for (ptrdiff_t j = lo; j < hi; j++) sum += slope[j];
        for (ptrdiff_t j = lo; j < hi; j++) slope[j] = sum;
    }
    // Per-streak sums over runs of rows of one streak.
    int32_t current = streak[c];
    double si = 0, st = 0, sv = 0;
    for (ptrdiff_t j = 0; j < n; j++) {
        int32_t s = streak[c + j];
        if (s != current) {
            g_intercept[current] += si;
            g_theta[current] += st;
            if (streak_values) streak_values[current] += sv;
            current = s;
            si = st = sv = 0;
        }
        si += slope[j];
        st += slope[j] * (double)weight[c + j];
        sv += value[j];
    }
    g_intercept[current] += si;
    g_theta[current] += st;
    if (streak_values) streak_values[current] += sv;
    double t[4];
    _mm256_storeu_pd(t, total);
    return (t[0] + t[1]) + (t[2] + t[3]);
}


// Runs of rows of one streak, each row alone on its pixel: a_s and b_s
// broadcast, the sums kept in registers.
BL_CBC_AVX2 static inline __attribute__((always_inline)) double cbc_runs_avx2(int kind, int constant_sigma, ptrdiff_t row_limit, ptrdiff_t run_count, const int32_t *runs,
                                       const int32_t *streak, const float *weight, const float *counts,
                                       const float *background, const double *a, const double *b, double *g_intercept,
                                       double *g_theta, double *streak_values) {
    double total = 0;
    for (ptrdiff_t r = 0; r < run_count; r++) {
        ptrdiff_t lo = runs[3 * r], hi = runs[3 * r + 1];
        int32_t s = runs[3 * r + 2];
        const __m256d as = _mm256_set1_pd(a[s]), bs = _mm256_set1_pd(b[s]);
        __m256d si = _mm256_setzero_pd(), st = _mm256_setzero_pd(), sv = _mm256_setzero_pd();
        __m256d range[2] = {_mm256_set1_pd(1.0), _mm256_set1_pd(1.0)};
        for (ptrdiff_t k = lo; k < hi; k += 4) {
            ptrdiff_t live = hi - k < 4 ? hi - k : 4;
            __m256d w, bg, cnt;
            if (k + 4 <= row_limit) {  // lanes past the run read the next rows, and are masked off
                w = _mm256_cvtps_pd(_mm_loadu_ps(weight + k));
                bg = _mm256_cvtps_pd(_mm_loadu_ps(background + k));
                cnt = _mm256_cvtps_pd(_mm_loadu_ps(counts + k));
            } else {  // the columns' last rows, padded with zeros
                float tw[4] = {0, 0, 0, 0}, tb[4] = {0, 0, 0, 0}, tc[4] = {0, 0, 0, 0};
                for (ptrdiff_t l = 0; l < live; l++) { tw[l] = weight[k + l]; tb[l] = background[k + l]; tc[l] = counts[k + l]; }
                w = _mm256_cvtps_pd(_mm_loadu_ps(tw));
                bg = _mm256_cvtps_pd(_mm_loadu_ps(tb));
                cnt = _mm256_cvtps_pd(_mm_loadu_ps(tc));
            }
            __m256d lambda = _mm256_add_pd(_mm256_fmadd_pd(as, w, bs), bg), v, d;
            cbc_term4(kind, constant_sigma, cnt, lambda, _mm256_castsi256_pd(_mm256_loadu_si256((const __m256i *)bl_cbc_lanes[live])),
                      &v, &d, range);
            si = _mm256_add_pd(si, d);
            st = _mm256_fmadd_pd(d, w, st);
            sv = _mm256_add_pd(sv, v);
        }
        if (kind == BL_CBC_POISSON && !cbc_range_ok(range)) {  // a subnormal or infinite λ: the run again, by libm
            total += cbc_run(kind, constant_sigma, lo, hi, s, weight, counts, background, a, b, g_intercept, g_theta,
                             streak_values);
            continue;
        }
        // (si, st) summed pairwise in one vector: lanes 0 and 1 hold Σ si and Σ st.
        __m256d pair = _mm256_hadd_pd(si, st);
        __m128d sums = _mm_add_pd(_mm256_castpd256_pd128(pair), _mm256_extractf128_pd(pair, 1));
        double value = cbc_sum4(sv);
        g_intercept[s] += _mm_cvtsd_f64(sums);
        g_theta[s] += _mm_cvtsd_f64(_mm_unpackhi_pd(sums, sums));
        if (streak_values) streak_values[s] += value;
        total += value;
    }
    return total;
}

// Adds the sums of a crossing (lanes 0 and 2: streak s0; 1 and 3: s1).
BL_CBC_AVX2 static inline void cbc_flush_pairs(int32_t s0, int32_t s1, __m256d acc_i, __m256d acc_t, __m256d acc_v,
                                              double *g_intercept, double *g_theta, double *streak_values) {
    if (s0 < 0) return;
    __m128d i2 = _mm_add_pd(_mm256_castpd256_pd128(acc_i), _mm256_extractf128_pd(acc_i, 1));
    __m128d t2 = _mm_add_pd(_mm256_castpd256_pd128(acc_t), _mm256_extractf128_pd(acc_t, 1));
    g_intercept[s0] += _mm_cvtsd_f64(i2);
    g_intercept[s1] += _mm_cvtsd_f64(_mm_unpackhi_pd(i2, i2));
    g_theta[s0] += _mm_cvtsd_f64(t2);
    g_theta[s1] += _mm_cvtsd_f64(_mm_unpackhi_pd(t2, t2));
    if (streak_values) {
        __m128d v2 = _mm_add_pd(_mm256_castpd256_pd128(acc_v), _mm256_extractf128_pd(acc_v, 1));
        streak_values[s0] += _mm_cvtsd_f64(v2);
        streak_values[s1] += _mm_cvtsd_f64(_mm_unpackhi_pd(v2, v2));
    }
}

// Pixels of two rows, rows lo..<hi (two to a pixel, pixels consecutive): two
// pixels a vector, each lane's pixel sum by swapping the lanes of a pair;
// while consecutive vectors hold pixels of one pair of streaks (a crossing,
// with the layout's order), their sums stay in registers.
BL_CBC_AVX2 static inline __attribute__((always_inline)) double cbc_pairs_avx2(
    int kind, int constant_sigma, ptrdiff_t row_limit, ptrdiff_t lo, ptrdiff_t hi, const int32_t *streak,
    const float *weight, const float *counts, const float *background, const double *a, const double *b,
    double *g_intercept, double *g_theta, double *streak_values) {
    __m256d total = _mm256_setzero_pd();
    // Sums over consecutive vectors of the streak pair (current0, current1):
    // lanes 0 and 2 belong to current0, lanes 1 and 3 to current1.
    __m256d acc_i = _mm256_setzero_pd(), acc_t = _mm256_setzero_pd(), acc_v = _mm256_setzero_pd();
    int32_t current0 = -1, current1 = -1;
    __m256d pair_a = _mm256_setzero_pd(), pair_b = _mm256_setzero_pd();
    for (ptrdiff_t k = lo; k < hi; k += 4) {
        ptrdiff_t live = hi - k < 4 ? hi - k : 4;
        int32_t padded[4] = {0, 0, 0, 0};
        const int32_t *ts = streak + k;
        __m256d w, bg, cnt;
        if (k + 4 <= row_limit) {  // lanes past the last pair read the next rows, and are masked off
            w = _mm256_cvtps_pd(_mm_loadu_ps(weight + k));
            bg = _mm256_cvtps_pd(_mm_loadu_ps(background + k));
            cnt = _mm256_cvtps_pd(_mm_loadu_ps(counts + k));
        } else {
            float tw[4] = {0, 0, 0, 0}, tb[4] = {0, 0, 0, 0}, tc[4] = {0, 0, 0, 0};
            for (ptrdiff_t l = 0; l < live; l++) { padded[l] = streak[k + l]; tw[l] = weight[k + l]; tb[l] = background[k + l]; tc[l] = counts[k + l]; }
            ts = padded;
            w = _mm256_cvtps_pd(_mm_loadu_ps(tw));
            bg = _mm256_cvtps_pd(_mm_loadu_ps(tb));
            cnt = _mm256_cvtps_pd(_mm_loadu_ps(tc));
        }
        // Two pixels of one pair of streaks (lanes 0, 2 and 1, 3): that pair's
        // a and b, loaded once per crossing; otherwise gathered lane by lane.
        int crossing = live == 4 && ts[0] == ts[2] && ts[1] == ts[3];
        __m256d av, bv;
        if (crossing) {
            if (ts[0] != current0 || ts[1] != current1) {
                cbc_flush_pairs(current0, current1, acc_i, acc_t, acc_v, g_intercept, g_theta, streak_values);
                current0 = ts[0];
                current1 = ts[1];
                acc_i = acc_t = acc_v = _mm256_setzero_pd();
                pair_a = _mm256_setr_pd(a[current0], a[current1], a[current0], a[current1]);
                pair_b = _mm256_setr_pd(b[current0], b[current1], b[current0], b[current1]);
            }
            av = pair_a;
            bv = pair_b;
        } else {
            __m128i s = _mm_loadu_si128((const __m128i *)ts);
            av = _mm256_i32gather_pd(a, s, 8);
            bv = _mm256_i32gather_pd(b, s, 8);
        }
        __m256d m = _mm256_fmadd_pd(av, w, bv);
        __m256d lambda = _mm256_add_pd(_mm256_add_pd(m, _mm256_permute_pd(m, 0x5)), bg), v, d;
        cbc_term4(kind, constant_sigma, cnt, lambda, _mm256_castsi256_pd(_mm256_loadu_si256((const __m256i *)bl_cbc_lanes[live])),
                  &v, &d, NULL);
        total = _mm256_add_pd(total, v);
        __m256d slope = _mm256_add_pd(d, _mm256_permute_pd(d, 0x5));  // the pixel's slope, on both of its rows
        __m256d dw = _mm256_mul_pd(slope, w);
        if (crossing) {
            acc_i = _mm256_add_pd(acc_i, slope);
            acc_t = _mm256_add_pd(acc_t, dw);
            acc_v = _mm256_add_pd(acc_v, v);
        } else {
            double ds[4], dws[4], vs[4];
            _mm256_storeu_pd(ds, slope);
            _mm256_storeu_pd(dws, dw);
            _mm256_storeu_pd(vs, v);
            for (ptrdiff_t l = 0; l < live; l++) {
                g_intercept[ts[l]] += ds[l];
                g_theta[ts[l]] += dws[l];
                if (streak_values) streak_values[ts[l]] += vs[l];
            }
        }
    }
    cbc_flush_pairs(current0, current1, acc_i, acc_t, acc_v, g_intercept, g_theta, streak_values);
    return cbc_sum4(total);
}

BL_CBC_AVX2 static double cbc_block_avx2(int kind, int constant_sigma, ptrdiff_t row_limit, const int32_t *streak, const float *weight,
                                        const float *counts, const float *background, ptrdiff_t run_count,
                                        const int32_t *runs, ptrdiff_t group_count, const int32_t *groups,
                                        const double *a, const double *b, double *g_intercept, double *g_theta,
                                        double *streak_values) {
    double total;
    // One copy of the runs' loop per row term, so that its constants and branches are resolved once.
#define BL_CBC_RUNS(K, C) cbc_runs_avx2(K, C, row_limit, run_count, runs, streak, weight, counts, background, a, b, g_intercept, g_theta, streak_values)
    switch (kind * 2 + (constant_sigma != 0)) {
    case 2 * BL_CBC_POISSON: case 2 * BL_CBC_POISSON + 1: total = BL_CBC_RUNS(BL_CBC_POISSON, 0); break;
    case 2 * BL_CBC_LEAST_SQUARES_L1: total = BL_CBC_RUNS(BL_CBC_LEAST_SQUARES_L1, 0); break;
    case 2 * BL_CBC_LEAST_SQUARES_L1 + 1: total = BL_CBC_RUNS(BL_CBC_LEAST_SQUARES_L1, 1); break;
    case 2 * BL_CBC_LEAST_SQUARES_HUBER: total = BL_CBC_RUNS(BL_CBC_LEAST_SQUARES_HUBER, 0); break;
    case 2 * BL_CBC_LEAST_SQUARES_HUBER + 1: total = BL_CBC_RUNS(BL_CBC_LEAST_SQUARES_HUBER, 1); break;
    case 2 * BL_CBC_LEAST_SQUARES_CBCLIB_HUBER: total = BL_CBC_RUNS(BL_CBC_LEAST_SQUARES_CBCLIB_HUBER, 0); break;
    case 2 * BL_CBC_LEAST_SQUARES_CBCLIB_HUBER + 1: total = BL_CBC_RUNS(BL_CBC_LEAST_SQUARES_CBCLIB_HUBER, 1); break;
    case 2 * BL_CBC_LEAST_SQUARES_L2 + 1: total = BL_CBC_RUNS(BL_CBC_LEAST_SQUARES_L2, 1); break;
    default: total = BL_CBC_RUNS(BL_CBC_LEAST_SQUARES_L2, 0); break;
    }
#undef BL_CBC_RUNS
    // Shared pixels: consecutive two-row pixels two to a vector; other
    // consecutive groups a chunk at a time; a group longer than a chunk on its own.
    ptrdiff_t g = 0;
    while (g < group_count) {
        ptrdiff_t lo = groups[2 * g], end = groups[2 * g + 1];
        if (end - lo == 2) {
            ptrdiff_t g1 = g + 1;
            while (g1 < group_count && groups[2 * g1] == end && groups[2 * g1 + 1] - end == 2) end = groups[2 * g1++ + 1];
#define BL_CBC_PAIRS(K, C) cbc_pairs_avx2(K, C, row_limit, lo, end, streak, weight, counts, background, a, b, g_intercept, g_theta, streak_values)
            switch (kind * 2 + (constant_sigma != 0)) {
            case 2 * BL_CBC_POISSON: case 2 * BL_CBC_POISSON + 1: total += BL_CBC_PAIRS(BL_CBC_POISSON, 0); break;
            case 2 * BL_CBC_LEAST_SQUARES_HUBER: total += BL_CBC_PAIRS(BL_CBC_LEAST_SQUARES_HUBER, 0); break;
            default: total += BL_CBC_PAIRS(kind, constant_sigma); break;
            }
#undef BL_CBC_PAIRS
            g = g1;
            continue;
        }
        if (end - lo > BL_CBC_CHUNK) {
            total += cbc_group(kind, constant_sigma, lo, end, streak, weight, counts, background, a, b, g_intercept,
                               g_theta, streak_values);
            g++;
            continue;
        }
        ptrdiff_t g1 = g + 1;
        while (g1 < group_count && groups[2 * g1] == end && groups[2 * g1 + 1] - end != 2 && groups[2 * g1 + 1] - lo <= BL_CBC_CHUNK)
            end = groups[2 * g1++ + 1];
        total += cbc_chunk_avx2(kind, constant_sigma, lo, end - lo, streak, weight, counts, background, g, g1, groups, a, b,
                                g_intercept, g_theta, streak_values);
        g = g1;
    }
    return total;
}
#endif

double bl_cbc_criterion_block(int fused, int kind, int constant_sigma, ptrdiff_t row_limit, const int32_t *streak, const float *weight,
                              const float *counts, const float *background, ptrdiff_t run_count, const int32_t *runs,
                              ptrdiff_t group_count, const int32_t *groups, const double *a, const double *b,
                              double *g_intercept, double *g_theta, double *streak_values) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (fused)
        return cbc_block_avx2(kind, constant_sigma, row_limit, streak, weight, counts, background, run_count, runs, group_count,
                              groups, a, b, g_intercept, g_theta, streak_values);
#else
    (void)fused;
#endif
    return cbc_block_portable(kind, constant_sigma, streak, weight, counts, background, run_count, runs, group_count,
                              groups, a, b, g_intercept, g_theta, streak_values);
}
