"""Fixture for Tests/BeamlineAlignmentTests/PhaseMatchingTests.swift:
mumott 2.3's own `run_phase_matching_alignment` on a small case where it is
deterministic (every projection sampled, relaxation 0).

Case: a (16, 16, 16) volume of random balls inside a central ball, 16
projections over 180° about mumott's default inner axis, offsets uniform
in ±1.5 px; absorbances projected by mumott's SAXSProjector with the true
offsets; alignment from zero offsets with run_mitra (maxiter 5) as the
reconstruction, `maxiter` 3, for upsampling 1 (masked correlation) and 4,
and `maxiter` 1 for upsampling 4.

Install: pip install --no-deps mumott==2.3 && pip install numba h5py tqdm
         colorcet colorspacious scikit-image 'matplotlib<3.9'
Run:     python3 Tests/Fixtures/generate_phase_matching.py
Writes Tests/BeamlineAlignmentTests/Fixtures/phase_matching.json.
"""
import logging
import pathlib
import sys

import numpy as np
from mumott import Geometry
from mumott.core.geometry import GeometryTuple
from mumott.methods.projectors import SAXSProjector
from mumott.pipelines.phase_matching_alignment import run_phase_matching_alignment
from mumott.pipelines.reconstruction import run_mitra

logging.disable(logging.WARNING)
sys.path.insert(0, str(pathlib.Path(__file__).parent))
from fixturelib import write  # noqa: E402

rng = np.random.default_rng(42)
n, N = 16, 16
angles = np.arange(N) * np.pi / N
true_j = rng.uniform(-1.5, 1.5, N)
true_k = rng.uniform(-1.5, 1.5, N)


def geometry(j, k):
    g = Geometry()
    g.volume_shape = np.array([n, n, n])
    g.projection_shape = np.array([n, n])
    for i, a in enumerate(angles):
        g.append(GeometryTuple(rotation=np.eye(3), j_offset=float(j[i]), k_offset=float(k[i]),
                               inner_angle=float(a), outer_angle=0.0,
                               inner_axis=np.array([0., 0., -1.]), outer_axis=np.array([1., 0., 0.])))
    # GeometryTuple keeps the rotation it is given (here the identity);
    # setting inner_angles recomputes the rotations from the angles and axes.
    g.inner_angles = angles
    g.detector_angles = np.array([0.0])
    return g


volume = np.zeros((n, n, n, 1))
grid = np.indices((n, n, n)).astype(float)
centre = (n - 1) / 2
for _ in range(8):
    c = centre + rng.uniform(-n / 5, n / 5, 3)
    r = rng.uniform(1.5, 3.0)
    inside = ((grid - c.reshape(3, 1, 1, 1)) ** 2).sum(0) <= r * r
    volume[..., 0] += rng.uniform(0.3, 1.0) * inside
absorbances = SAXSProjector(geometry(true_j, true_k)).forward(volume)


class Stack:
    pass


class FakeContainer:
    """What run_mitra and run_phase_matching_alignment read from a DataContainer."""
    def __init__(self, g):
        self.geometry = g
        self.projections = Stack()
        self.projections.weights = np.ones((N, n, n, 1))
        self.data = absorbances


entries = {"absorbances": absorbances[..., 0], "angles": angles, "volume": volume[..., 0],
           "rotations": geometry(true_j, true_k).rotations_as_array,
           "true_j": true_j, "true_k": true_k}
for upsampling, iterations in ((1, 3), (4, 3), (4, 1)):
    container = FakeContainer(geometry(np.zeros(N), np.zeros(N)))
    run_phase_matching_alignment(
        container, reconstruction_pipeline=run_mitra,
        reconstruction_pipeline_kwargs=dict(absorbances=absorbances, maxiter=5),
        maxiter=iterations, upsampling=upsampling)
    suffix = f"up{upsampling}" + ("" if iterations == 3 else f"_it{iterations}")
    entries["j_" + suffix] = container.geometry.j_offsets_as_array
    entries["k_" + suffix] = container.geometry.k_offsets_as_array

out = pathlib.Path(__file__).parents[1] / "BeamlineAlignmentTests" / "Fixtures" / "phase_matching.json"
write(out, entries)
print("wrote", out)


# --- Segment means (use_absorbances=False): a tensor data set -------------
# A (10, 10, 10) volume of GaussianKernels(grid_scale=1) coefficients (8
# kernels), positive inside a ball; 12 projections over 180°, 4 detector
# segments; data = the basis set's forward of the projected coefficients
# with known offsets (uniform in ±1.5 px), written as a DataContainer file
# (Tests/BeamlineAlignmentTests/Fixtures/phase_matching_tensor.h5, offsets 0)
# and aligned by mumott with run_mitra(use_absorbances=False, maxiter 5) for
# 8 iterations at upsampling 4.
import h5py
from mumott import DataContainer
from mumott.methods.basis_sets import GaussianKernels

m, M, S = 10, 12, 4
t_angles = np.arange(M) * np.pi / M
t_true_j = rng.uniform(-1.5, 1.5, M)
t_true_k = rng.uniform(-1.5, 1.5, M)
g = Geometry()
g.volume_shape = np.array([m, m, m])
g.projection_shape = np.array([m, m])
for i, a in enumerate(t_angles):
    g.append(GeometryTuple(rotation=np.eye(3), j_offset=float(t_true_j[i]), k_offset=float(t_true_k[i]),
                           inner_angle=float(a), outer_angle=0.0,
                           inner_axis=np.array([0., 0., -1.]), outer_axis=np.array([1., 0., 0.])))
g.inner_angles = t_angles
g.detector_angles = np.arange(S) * np.pi / S
basis = GaussianKernels(g.probed_coordinates, grid_scale=1)
tgrid = np.indices((m, m, m)).astype(float)
inside = (((tgrid - (m - 1) / 2) ** 2).sum(0) <= (m / 3) ** 2)
coefficients = rng.uniform(0.2, 1.0, (m, m, m, len(basis))) * inside[..., None]
tensor_data = basis.forward(SAXSProjector(g).forward(coefficients))
path = pathlib.Path(__file__).parents[1] / "BeamlineAlignmentTests" / "Fixtures" / "phase_matching_tensor.h5"
with h5py.File(path, "w") as f:
    f["detector_angles"] = g.detector_angles
    f["two_theta"] = np.array([0.0])
    f["volume_shape"] = np.array([m, m, m])
    grp = f.create_group("projections")
    for i, a in enumerate(t_angles):
        p = grp.create_group(str(i))
        p["data"] = tensor_data[i]
        p["weights"] = np.ones((m, m, S))
        p["diode"] = np.ones((m, m))      # mumott 2.3 sizes its rasters from the diodes
        p["inner_angle"] = np.array([a])
        p["outer_angle"] = np.array([0.0])
        p["j_offset"] = np.array([0.0])
        p["k_offset"] = np.array([0.0])
container = DataContainer(str(path))
run_phase_matching_alignment(
    container, reconstruction_pipeline=run_mitra, use_absorbances=False,
    reconstruction_pipeline_kwargs=dict(maxiter=5, BasisSet=GaussianKernels, basis_set_kwargs=dict(grid_scale=1)),
    maxiter=8, upsampling=4)
tensor_entries = {"true_j": t_true_j, "true_k": t_true_k, "angles": t_angles,
                  "j_up4_it8": container.geometry.j_offsets_as_array,
                  "k_up4_it8": container.geometry.k_offsets_as_array}
out = pathlib.Path(__file__).parents[1] / "BeamlineAlignmentTests" / "Fixtures" / "phase_matching_tensor.json"
write(out, tensor_entries)
print("wrote", out, tensor_entries)
