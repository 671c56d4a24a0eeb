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

--tensor: only the tensor-tomography cases (issue 19), as
ReconstructionBenchmarks' tt_* cases: 50^3 volume, 120 projections with tilts
(inner 2*pi*i/120 about (0, 0, -1), outer (i mod 4)*pi/12 about (1, 0, 0)),
detector 50 x 50, 8 segments, SphericalHarmonics(ell_max=8) (45 coefficients):
one GradientResidualCalculator.get_residuals(get_gradient=True,
get_weights=True) (tt_residual_gradient_50_120_l8_f64), the 45-channel
SAXSProjector forward + adjoint (tt_projector_fwd_adj_50_120_c45_f64), and
run_mitra (use_absorbances=False, SphericalHarmonics ell_max 8) and run_sigtt
(ell_max 8, ftol None so all 20 iterations may run) with maxiter=20 (mumott's defaults otherwise;
tt_mitra20_50_120_l8_f64, tt_sigtt20_50_120_l8_f64). mumott's CPU projector
is float64 only.
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
    angles = np.arange(projections) * np.pi / projections
    for a in angles:
        g.append(GeometryTuple(rotation=np.eye(3), j_offset=0.0, k_offset=0.0, inner_angle=float(a), outer_angle=0.0,
                               inner_axis=np.array([0., 0., -1.]), outer_axis=np.array([1., 0., 0.])))
    # GeometryTuple keeps the rotation it is given (the identity above);
    # setting inner_angles recomputes the rotations from the angles and
    # axes. Before 2026-12-03 (third session) this line was missing, so
    # every projection of the scalar cases looked along the same axis.
    g.inner_angles = angles
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


def tensor_cases(samples, only=None):
    from scipy.spatial.transform import Rotation
    from mumott import DataContainer
    from mumott.methods.basis_sets import SphericalHarmonics
    from mumott.methods.residual_calculators import GradientResidualCalculator
    from mumott.pipelines import run_mitra, run_sigtt

    g = Geometry()
    for i in range(120):
        inner, outer = 2 * np.pi * i / 120, (i % 4) * np.pi / 12
        r = Rotation.from_rotvec(outer * np.array([1., 0., 0.])).as_matrix() @ \
            Rotation.from_rotvec(inner * np.array([0., 0., -1.])).as_matrix()
        g.append(GeometryTuple(rotation=r, j_offset=0.0, k_offset=0.0))
    g.volume_shape = np.array([50, 50, 50])
    g.projection_shape = np.array([50, 50])
    g.detector_angles = np.arange(8) * np.pi / 8
    rng = np.random.default_rng(3)

    class Stack:
        pass

    class Container:
        def __init__(self):
            self.geometry = g
            self.data = np.abs(rng.normal(size=(120, 50, 50, 8)))
            self.projections = Stack()
            self.projections.weights = np.ones_like(self.data)
            self.projections.diode = None

    dc = Container()
    sh = SphericalHarmonics(ell_max=8)
    p = SAXSProjector(g)
    calc = GradientResidualCalculator(dc, sh, p)
    calc.coefficients = rng.normal(size=(50, 50, 50, 45))
    results = {}

    def wanted(case):
        return only is None or case in only
    if wanted("residual"):
        results["tt_residual_gradient_50_120_l8_f64"] = median_ms(
            lambda: calc.get_residuals(get_gradient=True, get_weights=True), samples)
        print("tt_residual_gradient_50_120_l8_f64", results["tt_residual_gradient_50_120_l8_f64"], "ms", flush=True)
    x = rng.normal(size=(50, 50, 50, 45))

    def fwd_adj():
        return p.adjoint(p.forward(x))
    if wanted("projector"):
        results["tt_projector_fwd_adj_50_120_c45_f64"] = median_ms(fwd_adj, samples)
        print("tt_projector_fwd_adj_50_120_c45_f64", results["tt_projector_fwd_adj_50_120_c45_f64"], "ms", flush=True)
    # The pipelines want a DataContainer: build one around the same arrays.
    real = DataContainer.__new__(DataContainer)
    real._correct_for_transmission_called = True
    real._skip_data = False
    real._nonfinite_replacement_value = None
    from mumott.core.projection_stack import ProjectionStack, Projection
    stack = ProjectionStack()
    for i in range(120):
        stack.append(Projection(data=dc.data[i], diode=np.ones((50, 50)), weights=np.ones((50, 50, 8)),
                                rotation=g.rotations[i], j_offset=0.0, k_offset=0.0))
    stack.geometry.volume_shape = g.volume_shape
    stack.geometry.detector_angles = g.detector_angles
    real._projections = stack

    def mitra():
        return run_mitra(real, use_absorbances=False, BasisSet=SphericalHarmonics, basis_set_kwargs=dict(ell_max=8),
                         maxiter=20, no_tqdm=True)
    if wanted("mitra"):
        t0 = time.perf_counter()
        mitra()
        results["tt_mitra20_50_120_l8_f64"] = (time.perf_counter() - t0) * 1e3
        print("tt_mitra20_50_120_l8_f64", results["tt_mitra20_50_120_l8_f64"], "ms", flush=True)

    def sigtt():
        # As Beamline's tt_sigtt20: 20 L-BFGS iterations, no value or gradient
        # tolerance, at most 20 * 20 + 20 evaluations (mumott's LBFGS would
        # otherwise stop at its default maxfun=20). SciPy wants numbers for
        # ftol and gtol (None fails in _minimize_lbfgsb). no_tqdm=True crashes
        # mumott 2.3's LBFGS, so its progress bar stays.
        return run_sigtt(real, maxiter=20, ftol=0.0, basis_set_kwargs=dict(ell_max=8),
                         optimizer_kwargs=dict(maxiter=20, ftol=0.0, gtol=0.0, maxfun=420))
    if wanted("sigtt"):
        t0 = time.perf_counter()
        out = sigtt()
        results["tt_sigtt20_50_120_l8_f64"] = (time.perf_counter() - t0) * 1e3
        print("tt_sigtt20_50_120_l8_f64", results["tt_sigtt20_50_120_l8_f64"], "ms", flush=True)
        print("sigtt result:", {k: v for k, v in out["result"].items() if k != "x"})
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tensor", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--json")
    parser.add_argument("--tensor-cases", help="comma-separated subset of residual,projector,mitra,sigtt (default: all)")
    args = parser.parse_args()
    if args.tensor:
        results = tensor_cases(args.samples, set(args.tensor_cases.split(",")) if args.tensor_cases else None)
        for name, t in results.items():
            print(f"{name:40s} {t:12.1f} ms")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"mumott": "2.3", "median_us": {k: v * 1e3 for k, v in results.items()}}, f, indent=1)
        return
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
