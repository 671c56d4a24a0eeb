"""Expected values for BeamlineTomographyTests' tensor-tomography tests.

Run from the repository root:  python3 Tests/Fixtures/generate_tensor_tomography.py
(mumott 2.3, numpy, scipy; versions recorded in the file.)

Writes Tests/BeamlineTomographyTests/Fixtures/tensor_tomography.json:
- probed coordinates (mumott Geometry.probed_coordinates: vector (N, K, 3, 3)
  and great_circle_offset) for a tilted SAXS geometry with 8 segments, a
  full-circle geometry, a WAXS (2θ = 0.4) geometry and one with three 2θ
  rings (0.2, 0.45, 0.7) of 6 azimuthal bins;
- SphericalHarmonics(ell_max=6) indices, basis values at the probed points
  (_get_projection_matrix), the midpoint matrix, the fixed 9-point Simpson
  matrix (mumott with n_integration_starting_points=5, integration_maxiter=1,
  which returns the 9-point rule) and the default adaptive matrix;
- GradientResidualCalculator residuals with SAXSProjector for a small volume
  whose coefficients are zero within two voxels of every face (so mumott's
  lower-edge clamp cannot matter), with the SquaredLoss / HuberLoss values;
- regulariser values and gradients (L1Norm, L2Norm, HuberNorm, TotalVariation,
  Laplacian, GroupLasso) on a random coefficient array;
- GaussianKernels (grid scale 2, kernel scale 1.2; grid scale 3 without Friedel
  symmetry): grid, values at the probed points, adaptive matrix.
- NearestNeighbor (12 random directions, not normalised): values at the probed
  points with and without Friedel symmetry, the default adaptive matrix
  (tolerance 1e-3), the matrix with enforce_sparsity=True, sparsity_count=2,
  and get_output (mean intensity, eigenvalues, fractional anisotropy, the
  eigenvector of the largest eigenvalue) of random coefficients.
"""
import os
import numpy as np
import scipy
import mumott
from mumott import Geometry, DataContainer
from mumott.core.geometry import GeometryTuple
from mumott.core.probed_coordinates import ProbedCoordinates
from mumott.methods.basis_sets import SphericalHarmonics
from mumott.methods.projectors import SAXSProjector
from mumott.methods.residual_calculators import GradientResidualCalculator
from mumott.optimization.loss_functions import SquaredLoss, HuberLoss
from mumott.optimization.regularizers import L1Norm, L2Norm, HuberNorm, TotalVariation, Laplacian, GroupLasso
from scipy.spatial.transform import Rotation
from fixturelib import write

here = os.path.dirname(os.path.abspath(__file__))
out_dir = os.path.join(here, "..", "BeamlineTomographyTests", "Fixtures")
rng = np.random.default_rng(20261203)
F = {"versions_mumott": np.array([float(x) for x in mumott.__version__.split(".")[:2]])}


def make_geometry(volume_shape, projection_shape, inner, outer, angles, two_theta=0.0, full=False):
    g = Geometry()
    for i in range(len(inner)):
        r = Rotation.from_rotvec(outer[i] * np.array([1., 0., 0.])).as_matrix() @ \
            Rotation.from_rotvec(inner[i] * np.array([0., 0., -1.])).as_matrix()
        g.append(GeometryTuple(rotation=r, j_offset=0.0, k_offset=0.0))
    g.volume_shape = np.array(volume_shape)
    g.projection_shape = np.array(projection_shape)
    g.detector_angles = np.array(angles)
    g.two_theta = np.array([two_theta])
    g.full_circle_covered = full
    return g


def put_geometry(name, g):
    F[name + "_rotations"] = np.stack(g.rotations)
    F[name + "_detector_angles"] = np.asarray(g.detector_angles)
    F[name + "_two_theta"] = np.asarray(g.two_theta)
    F[name + "_full_circle"] = np.array([int(g.full_circle_covered)])
    F[name + "_volume_shape"] = np.asarray(g.volume_shape)
    F[name + "_projection_shape"] = np.asarray(g.projection_shape)


seg8 = np.linspace(0, np.pi, 8, endpoint=False)
cases = {
    "saxs": make_geometry([6, 7, 5], [9, 8], rng.uniform(0, np.pi, 5), rng.uniform(-0.6, 0.6, 5), seg8),
    "full": make_geometry([6, 7, 5], [9, 8], rng.uniform(0, np.pi, 4), rng.uniform(-0.6, 0.6, 4),
                          np.linspace(-np.pi, np.pi, 6, endpoint=False) + 0.1, full=True),
    "waxs": make_geometry([6, 7, 5], [9, 8], rng.uniform(0, np.pi, 3), rng.uniform(-0.6, 0.6, 3),
                          seg8 + 0.05, two_theta=0.4),
}
# Three 2θ rings of 6 azimuthal bins (18 segments, the bin the fast index).
rings = make_geometry([6, 7, 5], [9, 8], rng.uniform(0, np.pi, 3), rng.uniform(-0.6, 0.6, 3),
                      np.linspace(0, np.pi, 6, endpoint=False))
rings.two_theta = np.array([0.2, 0.45, 0.7])
cases["rings"] = rings
for name, g in cases.items():
    put_geometry(name, g)
    pc = g.probed_coordinates
    F[name + "_probed"] = pc.vector
    F[name + "_offset"] = np.broadcast_to(pc.great_circle_offset, pc.vector.shape[:2] + (1, 3))[:, :, 0, :]

# Spherical harmonics on the saxs, waxs and rings coordinates.
#
# mumott's segment integration (BasisSet._get_integrated_projection_matrix)
# slerps between a segment's ends after subtracting the small circle's centre
# (great_circle_offset), but takes the arc angle as arccos of the dot product
# of those centred vectors, whose length is cos(2θ/2), not 1. For 2θ = 0 that
# is exact; for WAXS the angle is too large, the interpolated points leave
# the sphere (up to |q| = cos(Δα/2)/cos(ω/2) > 1) and the basis is evaluated
# off it (with the three rings, z > 1 at one point and mumott's sph_harm
# returns NaN). The references for "waxs" and "rings" are therefore the
# correct integrals: the same rules (Simpson on 9 points; mumott's adaptive
# doubling from 3 points, tolerance 1e-5) on points of the true arc, the
# angle taken between the unit centred vectors and the radius kept, with
# mumott's own basis values at those points. mumott's values are kept as
# <name>_sh_adaptive_mumott, to show the size of the difference.
from scipy.integrate import simpson
def true_arc_matrix(basis, pc, points):
    start = pc.vector[..., 0, :] / np.linalg.norm(pc.vector[..., 0, :], axis=-1)[..., None]
    end = pc.vector[..., -1, :] / np.linalg.norm(pc.vector[..., -1, :], axis=-1)[..., None]
    offset = pc.great_circle_offset[..., 0, :]
    cs, ce = start - offset, end - offset
    rs, re = np.linalg.norm(cs, axis=-1), np.linalg.norm(ce, axis=-1)
    us, ue = cs / rs[..., None], ce / re[..., None]
    omega = np.arccos(np.clip(np.einsum("...i,...i", us, ue), -1, 1))
    t = np.linspace(0, 1, points)
    so = np.sin(omega)[..., None]
    small = np.isclose(omega, 0)[..., None]
    a = np.where(small, 1 - t, np.sin((1 - t) * omega[..., None]) / np.where(small, 1, so))
    b = np.where(small, t, np.sin(t * omega[..., None]) / np.where(small, 1, so))
    radius = (1 - t) * rs[..., None] + t * re[..., None]
    q = radius[..., None] * (a[..., None] * us[..., None, :] + b[..., None] * ue[..., None, :]) + offset[..., None, :]
    values = basis._get_projection_matrix(ProbedCoordinates(q))
    return simpson(values, x=t, axis=-2)
def true_arc_adaptive(basis, pc, tolerance=1e-5, maxiter=10, starting=3):
    n = starting
    old = true_arc_matrix(basis, pc, n)
    for _ in range(maxiter):
        n += max(n - 1, 1)
        new = true_arc_matrix(basis, pc, n)
        if np.max(abs(new - old)) / np.max(abs(new)) < tolerance:
            break
        old = new
    return new
for name in ("saxs", "waxs", "rings"):
    g = cases[name]
    pc = g.probed_coordinates
    sh = SphericalHarmonics(pc, ell_max=6)
    F["sh_ell"] = sh.ell_indices
    F["sh_emm"] = sh.emm_indices
    F[name + "_sh_points"] = sh._get_projection_matrix(pc)
    F[name + "_sh_midpoint"] = SphericalHarmonics(pc, ell_max=6, integration_mode="midpoint").projection_matrix
    if name == "saxs":
        F[name + "_sh_adaptive"] = sh.projection_matrix
        F[name + "_sh_simpson9"] = SphericalHarmonics(pc, ell_max=6, n_integration_starting_points=5,
                                                      integration_maxiter=1,
                                                      integration_tolerance=1e-300).projection_matrix
        assert np.allclose(F[name + "_sh_adaptive"], true_arc_adaptive(sh, pc), atol=1e-14)
    else:
        F[name + "_sh_adaptive"] = true_arc_adaptive(sh, pc)
        F[name + "_sh_simpson9"] = true_arc_matrix(sh, pc, 9)
        mumott_matrix = sh.projection_matrix
        F[name + "_sh_adaptive_mumott_nan_count"] = np.array([np.isnan(mumott_matrix).sum()])
        F[name + "_sh_adaptive_mumott"] = np.nan_to_num(mumott_matrix, nan=0.0)
F["sh_noFriedel_points"] = SphericalHarmonics(cases["saxs"].probed_coordinates, ell_max=3,
                                              enforce_friedel_symmetry=False)._get_projection_matrix(
                                                  cases["saxs"].probed_coordinates)

# Residual calculator on the saxs geometry (ell_max 4 -> 15 coefficients).
g = cases["saxs"]
X, Y, Z = g.volume_shape
N = len(g)
J, K = g.projection_shape
S = len(g.detector_angles)
dc = DataContainer.__new__(DataContainer)
dc._geometry = g
data = rng.uniform(0, 1, (N, J, K, S))
weights = rng.uniform(0.5, 1.5, (N, J, K, S))


class Stack:
    pass


class FakeContainer:
    def __init__(self, geometry, data, weights):
        self.geometry = geometry
        self.data = data
        self.projections = Stack()
        self.projections.weights = weights


container = FakeContainer(g, data, weights)
sh = SphericalHarmonics(ell_max=4)
proj = SAXSProjector(g)
calc = GradientResidualCalculator(container, sh, proj)
coeffs = np.zeros((X, Y, Z, len(sh)))
coeffs[2:-2, 2:-2, 2:-2] = rng.uniform(-1, 1, coeffs[2:-2, 2:-2, 2:-2].shape)
calc.coefficients = coeffs
out = calc.get_residuals(get_gradient=False, get_weights=True)
F["calc_data"] = data
F["calc_weights"] = weights
F["calc_coefficients"] = coeffs
F["calc_residuals"] = out["residuals"]
F["calc_matrix"] = sh.projection_matrix
for use_weights in (False, True):
    sq = SquaredLoss(calc, use_weights=use_weights)
    F[f"loss_squared_{int(use_weights)}"] = np.array([sq.get_loss(get_gradient=False)["loss"]])
    hu = HuberLoss(calc, use_weights=use_weights, delta=0.3)
    F[f"loss_huber_{int(use_weights)}"] = np.array([hu.get_loss(get_gradient=False)["loss"]])

# Regularisers.
c = rng.normal(size=(4, 5, 3, 6))
c[0, 0, 0, :] = 0.0  # a zero group for GroupLasso / TV
regs = {"l1": L1Norm(), "l2": L2Norm(), "huber": HuberNorm(delta=0.5), "tv": TotalVariation(),
        "tvdelta": TotalVariation(delta=0.8), "laplacian": Laplacian(),
        "grouplasso": GroupLasso(regularization_parameter=0.7)}
F["reg_coefficients"] = c
for name, reg in regs.items():
    r = reg.get_regularization_norm(np.copy(c), get_gradient=True)
    F["reg_" + name + "_value"] = np.array([r["regularization_norm"]])
    F["reg_" + name + "_gradient"] = r["gradient"]

# Gaussian kernels (grid scale 2 -> 18 kernels; 3 without Friedel symmetry -> 64).
from mumott.methods.basis_sets import GaussianKernels
pc = cases["saxs"].probed_coordinates
gk = GaussianKernels(pc, grid_scale=2, kernel_scale_parameter=1.2)
F["gk_points"] = gk._get_projection_matrix(pc)
F["gk_adaptive"] = gk.projection_matrix
F["gk_theta"], F["gk_phi"] = gk._get_kurihara_mesh(2)
F["gk_nofriedel_points"] = GaussianKernels(pc, grid_scale=3, enforce_friedel_symmetry=False)._get_projection_matrix(pc)

# Nearest neighbour (12 directions of random lengths).
from mumott.methods.basis_sets import NearestNeighbor
directions = rng.normal(size=(12, 3)) * rng.uniform(0.5, 2.0, size=(12, 1))
nn = NearestNeighbor(directions, probed_coordinates=pc)
F["nn_directions"] = directions
F["nn_points"] = nn.get_function_values(pc.vector)
F["nn_adaptive"] = nn.projection_matrix
F["nn_nofriedel_points"] = NearestNeighbor(directions, probed_coordinates=pc,
                                           enforce_friedel_symmetry=False).get_function_values(pc.vector)
F["nn_sparse2"] = NearestNeighbor(directions, probed_coordinates=pc, enforce_sparsity=True,
                                  sparsity_count=2).projection_matrix
nn_coefficients = rng.uniform(0, 1, size=(2, 3, 2, 12))
nn_out = nn.get_output(nn_coefficients)
F["nn_coefficients"] = nn_coefficients
F["nn_mean"] = nn_out.mean_intensity
# mumott sorts eigenvalues increasing (eigenvector_1 belongs to the smallest);
# Beamline's OrientationMaps lists them decreasing, main orientation = largest.
F["nn_eigenvalues_descending"] = np.stack([nn_out.eigenvalue_3, nn_out.eigenvalue_2, nn_out.eigenvalue_1], axis=-1)
F["nn_anisotropy"] = nn_out.fractional_anisotropy
F["nn_largest_eigenvector"] = nn_out.eigenvector_3

os.makedirs(out_dir, exist_ok=True)
write(os.path.join(out_dir, "tensor_tomography.json"), F)
print("wrote", os.path.join(out_dir, "tensor_tomography.json"))
