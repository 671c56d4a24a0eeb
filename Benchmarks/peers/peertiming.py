"""Timing shared by the peer scripts: the same sampling rule as the Swift
benchmarks' configuration (warm-up calls, then samples until a time budget
or a sample count is reached), reported as the median in microseconds."""
import statistics
import time


def median_us(fn, min_time=2.0, max_samples=200, warmup=2):
    """Median wall time of `fn()` in µs, and the number of samples taken."""
    for _ in range(warmup):
        fn()
    samples = []
    start = time.perf_counter()
    while len(samples) < max_samples and time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(samples), len(samples)
