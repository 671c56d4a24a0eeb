"""mumott side of the tomography benchmarks (Benchmarks/Benchmarks/ReconstructionBenchmarks).

Times mumott 2.3's SAXSProjector (numba, CPU, float64) on the same cases:
single-axis geometry over 180 degrees (mumott's default axes), cubic volume
n^3, detector n x n, random volume with C channels; forward and adjoint, and
20 iterations of mumott's SIRT (gradient descent with SIRT weights and
preconditioner, as pipelines.run_sirt builds it).
The first call of each case (numba compilation, 2-12 s) is excluded.
Prints: name, median wall time (ms), samples, ray samples per second.

Install: pip install --no-deps mumott && pip install numba numpy scipy h5py
         scikit-image tqdm colorcet colorspacious 'matplotlib<3.9'
Run:     python3 Benchmarks/peers/mumott_peers.py [--quick] [--json out.json]
(--quick: only the 50^3 x 120 cases of the issue, and SIRT with 5 iterations
scaled to 20; the 128^3 cases take minutes per call in mumott.)
"""
import argparse
import json
import statistics
import time

import numpy as np
from mumott import Geometry
from mumott.core.geometry import GeometryTuple
from mumott.methods.projectors import SAXSProjector
from mumott.methods.utilities.preconditioning import get_sirt_preconditioner, get_sirt_weights


def geometry(n, projections):
    g = Geometry()
    for a in np.arange(projections) * np.pi / projections:
        g.append(GeometryTuple(rotation=np.eye(3), j_offset=0.0, k_offset=0.0, inner_angle=float(a), outer_angle=0.0,
                               inner_axis=np.array([0., 0., -1.]), outer_axis=np.array([1., 0., 0.])))
    g.volume_shape = np.array([n, n, n])
    g.projection_shape = np.array([n, n])
    return g


def median_ms(fn, samples):
    fn()  # compile / warm up
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    cases = [(50, 120, 1), (50, 120, 45)] if args.quick else \
        [(50, 120, 1), (50, 120, 45), (64, 180, 1), (64, 180, 45), (128, 180, 1)]
    results = {}
    rng = np.random.default_rng(0)
    for n, projections, channels in cases:
        g = geometry(n, projections)
        p = SAXSProjector(g)
        volume = rng.random((n, n, n, channels))
        data = p.forward(volume)
        samples = projections * n * n * n * channels
        name = f"{n}_{projections}_c{channels}_f64"
        t = median_ms(lambda: p.forward(volume), args.samples)
        results["forward_" + name] = (t, samples / t * 1e3)
        t = median_ms(lambda: p.adjoint(data), args.samples)
        results["adjoint_" + name] = (t, samples / t * 1e3)
    for n, projections in ([(50, 120)] if args.quick else [(50, 120), (64, 180)]):
        g = geometry(n, projections)
        p = SAXSProjector(g)
        data = p.forward(rng.random((n, n, n, 1)))
        iterations = 5 if args.quick else 20

        def sirt():
            w = get_sirt_weights(p)
            c = get_sirt_preconditioner(p)
            x = np.zeros((n, n, n, 1))
            for _ in range(iterations):
                r = p.forward(x) - data
                x -= c * p.adjoint(w * r)
            return x
        t = median_ms(sirt, 1) * 20 / iterations
        results[f"sirt20_{n}_{projections}_f64"] = (t, None)
    for name, (t, rate) in results.items():
        extra = f"  {rate / 1e6:8.2f} M ray samples/s" if rate else ""
        print(f"{name:28s} {t:12.1f} ms{extra}")
    if args.json:
        with open(args.json, "w") as f:
            import mumott
            json.dump({"mumott": getattr(mumott, "__version__", "2.3"),
                       "median_us": {k: v[0] * 1e3 for k, v in results.items()},
                       "ray_samples_per_s": {k: v[1] for k, v in results.items() if v[1]}}, f, indent=1)


if __name__ == "__main__":
    main()
