"""Expected values for BeamlineTomographyTests.

Run from the repository root:  python3 Tests/Fixtures/generate_tomography.py
(mumott 2.3 installed with `pip install --no-deps mumott` plus numba, numpy,
scipy, h5py, scikit-image 0.2x; the versions used are recorded in the file.)

Writes Tests/BeamlineTomographyTests/Fixtures/tomography.json:
- projector cases: a geometry (rotations, offsets, shapes), a random volume
  (X, Y, Z, C), mumott's SAXSProjector.forward of it in float64, and a mask
  of the rays that never pass within one voxel of a lower volume face, where
  mumott's lower-edge clamp is wrong (1 = comparable);
- radon / iradon: skimage.transform.radon of a small disc image and
  iradon of it with every filter, circle=True and circle=False.
"""
import os
import numpy as np
from scipy.spatial.transform import Rotation
import mumott
from mumott import Geometry
from mumott.core.geometry import GeometryTuple
from mumott.methods.projectors import SAXSProjector
import skimage
from skimage.transform import radon, iradon
from fixturelib import write

here = os.path.dirname(os.path.abspath(__file__))
out_dir = os.path.join(here, "..", "BeamlineTomographyTests", "Fixtures")
rng = np.random.default_rng(20260606)
F = {}


def comparable_mask(geometry, volume_shape):
    """1 for rays whose Joseph samples never have -1 <= position < 0 along
    the two interpolated axes (mumott's wrong lower-edge clamp)."""
    proj = SAXSProjector(geometry)
    vp, vj, vk, oj, ok = proj.john_transform_parameters
    J, K = geometry.projection_shape
    mask = np.ones((len(geometry), J, K))
    for n in range(len(geometry)):
        v = vp[n]
        a = int(np.argmax(np.abs(v)))
        order = [(0, 1, 2), (1, 0, 2), (2, 0, 1)][a]
        d = [volume_shape[o] for o in order]
        s1, s2 = v[order[1]] / v[order[0]], v[order[2]] / v[order[0]]
        for j in range(J):
            for k in range(K):
                r = (j + 0.5 + oj[n] - J / 2) * vj[n] + (k + 0.5 + ok[n] - K / 2) * vk[n]
                i = np.arange(d[0])
                c0 = i + 0.5 - d[0] / 2
                p1 = r[order[1]] + (c0 - r[order[0]]) * s1 + d[1] / 2 - 0.5
                p2 = r[order[2]] + (c0 - r[order[0]]) * s2 + d[2] / 2 - 0.5
                bad = ((p1 >= -1.0001) & (p1 < 0.0001)) | ((p2 >= -1.0001) & (p2 < 0.0001))
                if np.any(bad):
                    mask[n, j, k] = 0
    return mask


def projector_case(name, volume_shape, projection_shape, inner, outer, channels, j_off, k_off):
    g = Geometry()
    for i in range(len(inner)):
        g.append(GeometryTuple(rotation=np.eye(3), j_offset=float(j_off[i]), k_offset=float(k_off[i]),
                               inner_angle=float(inner[i]), outer_angle=float(outer[i]),
                               inner_axis=np.array([0., 0., -1.]), outer_axis=np.array([1., 0., 0.])))
    # GeometryTuple keeps the rotation it is given (here the identity);
    # setting the angles recomputes the rotations from them and the axes.
    g.inner_angles = np.asarray(inner, dtype=float)
    g.outer_angles = np.asarray(outer, dtype=float)
    g.volume_shape = np.array(volume_shape)
    g.projection_shape = np.array(projection_shape)
    volume = rng.random(tuple(volume_shape) + (channels,))
    p = SAXSProjector(g).forward(volume)
    F[name + "_rotations"] = np.array(g.rotations_as_array)
    F[name + "_inner"] = np.array(inner)
    F[name + "_outer"] = np.array(outer)
    F[name + "_j_offsets"] = np.array(j_off, dtype=float)
    F[name + "_k_offsets"] = np.array(k_off, dtype=float)
    F[name + "_volume_shape"] = np.array(volume_shape)
    F[name + "_projection_shape"] = np.array(projection_shape)
    F[name + "_volume"] = volume
    F[name + "_forward"] = p
    F[name + "_mask"] = comparable_mask(g, volume_shape)


# Single-axis rotation about -z (mumott's default inner axis), non-cubic volume, one channel.
projector_case("axis", [9, 7, 5], [10, 6], np.deg2rad([0, 17, 45, 90, 123, 160]), np.zeros(6), 1,
               np.zeros(6), np.zeros(6))
# Every 18° over 180° on a volume no wider than the detector: the slices
# across the dominant axis run in both directions along y.
projector_case("steps", [8, 8, 6], [8, 6], np.deg2rad(np.arange(10) * 18.0), np.zeros(10), 1,
               np.zeros(10), np.zeros(10))
# Tilted geometries (outer angles), offsets, three channels, non-cubic volume and detector.
projector_case("tilt", [8, 6, 7], [9, 8], np.deg2rad([5, 40, 75, 110, 200, 300, 333]),
               np.deg2rad([0, 20, -35, 45, 60, -50, 80]), 3,
               rng.uniform(-1.5, 1.5, 7), rng.uniform(-1.5, 1.5, 7))

# ---------------------------------------------------------------- radon / iradon
n = 32
yy, xx = np.mgrid[:n, :n]
image = ((xx - 13.3) ** 2 + (yy - 17.1) ** 2 <= 36).astype(float) * 1.0
image += 0.5 * (((xx - 18) ** 2 / 16 + (yy - 12) ** 2 / 9) <= 1)
theta = np.linspace(0., 180., 24, endpoint=False)
F["radon_image"] = image
F["radon_theta"] = theta
F["radon_circle"] = radon(image, theta=theta, circle=True)
F["radon_nocircle"] = radon(image, theta=theta, circle=False)
for filt in ["ramp", "shepp-logan", "cosine", "hamming", "hann"]:
    F["iradon_circle_" + filt] = iradon(F["radon_circle"], theta=theta, filter_name=filt, circle=True)
F["iradon_nocircle_ramp"] = iradon(F["radon_nocircle"], theta=theta, filter_name="ramp", circle=False)
F["iradon_none"] = iradon(F["radon_circle"], theta=theta, filter_name=None, circle=True)
F["versions"] = np.array([0])
print("mumott", mumott.__version__, "skimage", skimage.__version__, "numpy", np.__version__)
write(os.path.join(out_dir, "tomography.json"), F)
