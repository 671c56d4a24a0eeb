"""mumott 2.3 side of AlignmentBenchmarks' phase_matching_50: its own
`run_phase_matching_alignment` on the issue's case, a 50³ volume (random
balls inside a central ball), 120 projections over 180° about mumott's
default inner axis, offsets in ±2 px, 3 alignment iterations of run_mitra
with maxiter 5, upsampling 1 (masked correlation), every projection
sampled. mumott rebuilds (and numba recompiles) its projector in every
iteration; that is part of what a user waits for, so it is timed.

Install: pip install --no-deps mumott==2.3 && pip install numba h5py tqdm
         colorcet colorspacious scikit-image 'matplotlib<3.9'
Run:     python3 Benchmarks/peers/mumott_alignment_peer.py [--repeats 3]
Prints: name, median seconds, runs.
"""
import argparse
import logging
import statistics
import time

import numpy as np
from mumott import Geometry
from mumott.core.geometry import GeometryTuple
from mumott.methods.projectors import SAXSProjector
from mumott.pipelines.phase_matching_alignment import run_phase_matching_alignment
from mumott.pipelines.reconstruction import run_mitra

logging.disable(logging.WARNING)


def geometry(n, angles, j, k):
    g = Geometry()
    g.volume_shape = np.array([n, n, n])
    g.projection_shape = np.array([n, n])
    for i in range(len(angles)):
        g.append(GeometryTuple(rotation=np.eye(3), j_offset=float(j[i]), k_offset=float(k[i]),
                               inner_angle=float(angles[i]), outer_angle=0.0,
                               inner_axis=np.array([0., 0., -1.]), outer_axis=np.array([1., 0., 0.])))
    g.inner_angles = angles          # recomputes the rotations from the angles
    g.detector_angles = np.array([0.0])
    return g


class Stack:
    pass


class Container:
    def __init__(self, g, absorbances):
        self.geometry = g
        self.projections = Stack()
        self.projections.weights = np.ones(absorbances.shape)
        self.data = absorbances


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n, count = 50, 120
    rng = np.random.default_rng(0)
    angles = np.arange(count) * np.pi / count
    j = 2 * np.sin(np.arange(count) * 1.7)
    k = 2 * np.cos(np.arange(count) * 2.3)
    volume = np.zeros((n, n, n, 1))
    grid = np.indices((n, n, n)).astype(float)
    for _ in range(8):
        c = (n - 1) / 2 + rng.uniform(-n / 5, n / 5, 3)
        r = rng.uniform(n / 12, n / 6)
        volume[..., 0] += rng.uniform(0.3, 1.0) * (((grid - c.reshape(3, 1, 1, 1)) ** 2).sum(0) <= r * r)
    absorbances = SAXSProjector(geometry(n, angles, j, k)).forward(volume)
    times = []
    for _ in range(args.repeats):
        container = Container(geometry(n, angles, np.zeros(count), np.zeros(count)), absorbances)
        t0 = time.perf_counter()
        run_phase_matching_alignment(container, reconstruction_pipeline=run_mitra,
                                     reconstruction_pipeline_kwargs=dict(absorbances=absorbances, maxiter=5),
                                     maxiter=3, upsampling=1)
        times.append(time.perf_counter() - t0)
    print(f"mumott_phase_matching_50 {statistics.median(times):.3f} s ({len(times)} runs: "
          + ", ".join(f"{t:.2f}" for t in times) + ")")


if __name__ == "__main__":
    main()
