/* FFTW's own planned execution, the floor for Beamline's FFT benchmarks.
 *
 * Plans once with FFTW_ESTIMATE (Beamline's default planning) on the same
 * sizes as Benchmarks/Benchmarks/TensorBenchmarks, then times fftw_execute
 * (out of place, new output each time is not needed: FFTW writes in place of
 * the output buffer) and prints the median in microseconds.
 * Build and run:  Benchmarks/peers/run_fftw_peer.sh  [threads]
 */
#include <fftw3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec * 1e-3;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_time(fftw_plan plan, int samples) {
    double *t = malloc(sizeof(double) * samples);
    fftw_execute(plan);
    for (int i = 0; i < samples; i++) {
        double start = now_us();
        fftw_execute(plan);
        t[i] = now_us() - start;
    }
    qsort(t, samples, sizeof(double), compare);
    double m = t[samples / 2];
    free(t);
    return m;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    fftw_init_threads();
    fftw_plan_with_nthreads(threads);
    srand(5);

    int n = 1024;
    fftw_complex *c = fftw_alloc_complex((size_t)n * n), *cout = fftw_alloc_complex((size_t)n * n);
    for (int i = 0; i < n * n; i++) { c[i][0] = rand() / (double)RAND_MAX; c[i][1] = 0; }
    fftw_plan p = fftw_plan_dft_2d(n, n, c, cout, FFTW_FORWARD, FFTW_ESTIMATE);
    printf("fft2_1024sq_c128 %.1f us (threads %d)\n", median_time(p, 50), threads);
    fftw_destroy_plan(p);

    double *r = fftw_alloc_real((size_t)n * n);
    for (int i = 0; i < n * n; i++) r[i] = rand() / (double)RAND_MAX;
    p = fftw_plan_dft_r2c_2d(n, n, r, cout, FFTW_ESTIMATE);
    printf("rfft2_1024sq_f64 %.1f us (threads %d)\n", median_time(p, 50), threads);
    fftw_destroy_plan(p);

    int m = 128;
    fftw_complex *v = fftw_alloc_complex((size_t)m * m * m), *vout = fftw_alloc_complex((size_t)m * m * m);
    for (int i = 0; i < m * m * m; i++) { v[i][0] = rand() / (double)RAND_MAX; v[i][1] = 0; }
    p = fftw_plan_dft_3d(m, m, m, v, vout, FFTW_FORWARD, FFTW_ESTIMATE);
    printf("fftn_128cube_c128 %.1f us (threads %d)\n", median_time(p, 50), threads);
    fftw_destroy_plan(p);
    return 0;
}
