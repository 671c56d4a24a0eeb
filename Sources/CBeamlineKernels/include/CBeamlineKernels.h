// C kernels for the few hot loops that need wider vectors than the
// baseline x86-64 code Swift emits here: multiply-add runs for the
// John-transform projector's column fast path (BeamlineTomography, first
// part below) and the phase cross-correlation's cross-power spectrum and
// peak search (BeamlineRegistration, last part).
//
// Projector kernels.
//
// Each kernel adds weighted sources to `y`, element by element, in a fixed
// order: y[n] = ((y[n] + w0 a0[n]) + w1 a1[n]) + ... . Two versions exist:
// a portable one (plain C, compiled with FP_CONTRACT OFF, so every product
// and sum is rounded separately on every platform) and, on x86-64, an
// AVX2 + FMA one that evaluates the same sequence with fused multiply-adds
// (one rounding per term instead of two). `bl_kernels_have_avx2_fma()` says
// whether the CPU can run the second; callers choose with the `fused`
// argument (once per operator, so a result never mixes the two). Within one
// version every element of a run goes through the same sequence, whatever
// its position. `y` must not overlap any source.
#ifndef C_BEAMLINE_KERNELS_H
#define C_BEAMLINE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the AVX2 + FMA versions can run on this CPU (x86-64 only), else 0.
int bl_kernels_have_avx2_fma(void);

/// y[n] += w0 · a0[n] for n < count.
void bl_axpy_d(int fused, ptrdiff_t count, double *y, double w0, const double *a0);
/// y[n] = (accumulate ? y[n] : 0) + Σ_t w[t] · base[offsets[t] + n] for n < count,
/// t = 0, 1, ... in that order for every element (the partial sums stay in
/// registers across t).
void bl_gather_d(int fused, ptrdiff_t count, double *y, int accumulate, ptrdiff_t terms, const double *w, const ptrdiff_t *offsets,
                 const double *base);

/// Float versions of the above.
void bl_axpy_f(int fused, ptrdiff_t count, float *y, float w0, const float *a0);
void bl_gather_f(int fused, ptrdiff_t count, float *y, int accumulate, ptrdiff_t terms, const float *w, const ptrdiff_t *offsets,
                 const float *base);

// Registration kernels (registration.c), double data (and one float kernel). Each has a portable
// version and an AVX2 one (no fused multiply-add) chosen at run time; both
// give bit-identical products, square roots and quotients, so results do
// not depend on the CPU.

/// product[j] = a[j]·conj(b[j]) for `count` interleaved complex numbers
/// (re, im), divided by max(|a[j]·conj(b[j])|, floor) when `phase` is
/// non-zero (as a multiplication by the reciprocal); energies[0] = Σ|a|²,
/// energies[1] = Σ|b|². `product` may not overlap `a` or `b`.
void bl_cross_power_d(ptrdiff_t count, const double *a, const double *b, double *product, int phase, double floor,
                      double *energies);
/// The first position of the largest |x[i]| among `count` finite values (0 when count is 0).
ptrdiff_t bl_abs_argmax_d(ptrdiff_t count, const double *x);
/// First stage of the 2-d upsampled DFT of a Hermitian product, rows
/// r0 <= r < r1: with p = H[r, j] and q = H[(n0 − r) mod n0, j] from the
/// half spectrum `product` (interleaved complex, rows of h1 numbers),
///   out[2r·u + b]     = Σ_{j=1}^{m} c[(j−1)·ldk + b]·Re(p + q̄) + s[(j−1)·ldk + b]·(−Im(p − q̄))
///   out[(2r+1)·u + b] = Σ_{j=1}^{m} c[(j−1)·ldk + b]·Im(p + q̄) + s[(j−1)·ldk + b]·Re(p − q̄)
/// for b < u, summed over j in order (each product and sum rounded on its
/// own). `c` and `s` hold m rows of ldk values; ldk is a multiple of 16 and
/// lanes u ..< ldk are read (they should be 0) but not written.
void bl_fold_dft_d(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t n0, ptrdiff_t h1, ptrdiff_t m, ptrdiff_t u, ptrdiff_t ldk,
                   const double *product, const double *c, const double *s, double *out);
/// Float version of bl_fold_dft_d (portable only).
void bl_fold_dft_f(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t n0, ptrdiff_t h1, ptrdiff_t m, ptrdiff_t u, ptrdiff_t ldk,
                   const float *product, const float *c, const float *s, float *out);

// CBC scaling criterion (crystallography.c), BeamlineCrystallography's
// IntensityScaler: one block of rows in the scaler's (frame, y, x) order.

/// Row terms f(I, λ): Poisson λ − I log λ; least squares ℓ((I − λ)/√λ)
/// with ℓ = r², |r|, Huber (δ = 1.345, continuous) or cbclib's Huber
/// (2.69 (|r| − 0.7625) beyond 1.345).
#define BL_CBC_POISSON 0
#define BL_CBC_LEAST_SQUARES_L2 1
#define BL_CBC_LEAST_SQUARES_L1 2
#define BL_CBC_LEAST_SQUARES_HUBER 3
#define BL_CBC_LEAST_SQUARES_CBCLIB_HUBER 4

/// Sums f(I_j, λ_j) over the rows j of one block with λ_j > 0 and returns
/// it, where λ_j = bgd_j + Σ_{k in pixel(j)} (a[s_k] w_k + b[s_k]), s = streak.
/// The block's rows are given in two lists: `runs` holds `run_count`
/// triples (start, end, s) of rows of streak s, each alone on its pixel
/// (their `streak` entries are not read); `groups`
/// holds `group_count` pairs (start, end) of rows sharing a pixel, in
/// increasing order. Adds to g_intercept[s] and g_theta[s], for each row j
/// of streak s, ∂f/∂λ summed over j's pixel (once, times w_j for g_theta);
/// adds each row's term to streak_values[s] unless it is NULL.
/// `constant_sigma` takes ∂r/∂λ = −1/√λ (cbclib's approximation).
/// `row_limit` is the length of the columns: rows below it may be read
/// (and ignored) past the end of a run.
/// fused = 0: the portable version, rows in order. fused = 1 (only when
/// bl_kernels_have_avx2_fma() is 1): the AVX2 + FMA version, a few units in
/// the last place away from it.
double bl_cbc_criterion_block(int fused, int kind, int constant_sigma, ptrdiff_t row_limit, const int32_t *streak, const float *weight,
                              const float *counts, const float *background, ptrdiff_t run_count, const int32_t *runs,
                              ptrdiff_t group_count, const int32_t *groups, const double *a, const double *b,
                              double *g_intercept, double *g_theta, double *streak_values);

// Worker pool (parallel.c) behind BeamlineTensor's `Parallel` loops.

/// One iteration of a parallel loop: `body(context, iteration)`.
typedef void (*bl_parallel_body)(void *context, ptrdiff_t iteration);
/// Runs body(context, i) for 0 <= i < iterations on the calling thread and up
/// to threads − 1 pool workers, which take iterations as they free up, and
/// returns 1 once all have run. Returns 0 without running anything when the
/// pool is already running a job (a nested loop, or a loop on another
/// thread), when threads < 2, or when no worker thread can be started: the
/// caller then runs the loop another way. Idle workers stay awake for a
/// short while, so consecutive loops do not pay for waking them.
int bl_parallel_run(ptrdiff_t iterations, int threads, bl_parallel_body body, void *context);

#ifdef __cplusplus
}
#endif

#endif
