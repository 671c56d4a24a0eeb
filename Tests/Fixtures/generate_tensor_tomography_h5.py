"""A small mumott DataContainer HDF5 file and what mumott 2.3 reads from it.

Run from the repository root:  python3 Tests/Fixtures/generate_tensor_tomography_h5.py

Writes (with h5py, in mumott's layout) Tests/BeamlineTomographyTests/Fixtures/
tensor_container.h5: 3 projections, 4 detector segments, rasters of unequal
size (projection 1 is one row shorter, so it is padded), projection 0 with
inner/outer angles and a per-projection inner axis, projection 1 with the
legacy names rotations / tilts / offset_j, projection 2 with a rotation
matrix and (J, K) weights; a diode everywhere; two_theta; and
tensor_container.json: mumott's DataContainer(...) data, weights, diode,
rotations, offsets, volume shape, full_circle_covered and the absorbances
of get_absorbances(diode, normalize_per_projection=True).
"""
import os
import h5py
import numpy as np
from mumott import DataContainer
from mumott.data_handling.utilities import get_absorbances
from fixturelib import write

here = os.path.dirname(os.path.abspath(__file__))
out_dir = os.path.join(here, "..", "BeamlineTomographyTests", "Fixtures")
rng = np.random.default_rng(7)
path = os.path.join(out_dir, "tensor_container.h5")
S = 4
with h5py.File(path, "w") as f:
    f["detector_angles"] = np.linspace(0, np.pi, S, endpoint=False)
    f["two_theta"] = np.array([0.0])
    f["volume_shape"] = np.array([4, 4, 5])
    g = f.create_group("projections")
    p = g.create_group("0")
    p["data"] = rng.uniform(0, 2, (4, 5, S))
    p["diode"] = rng.uniform(0.2, 1, (4, 5))
    p["weights"] = rng.uniform(0.5, 1, (4, 5, S))
    p["inner_angle"] = np.array([0.3])
    p["outer_angle"] = np.array([0.1])
    p["inner_axis"] = np.array([0.0, 0.0, -1.0])
    p["j_offset"] = np.array([0.25])
    p["k_offset"] = np.array([-0.5])
    p = g.create_group("1")
    p["data"] = rng.uniform(0, 2, (3, 5, S))
    p["diode"] = rng.uniform(0.2, 1, (3, 5))
    p["rotations"] = np.array([1.2])
    p["tilts"] = np.array([-0.2])
    p["offset_j"] = np.array([1.0])
    p = g.create_group("2")
    p["data"] = rng.uniform(0, 2, (4, 5, S))
    p["diode"] = rng.uniform(0.2, 1, (4, 5))
    p["weights"] = rng.uniform(0.5, 1, (4, 5))
    c, s = np.cos(2.0), np.sin(2.0)
    p["rotation_matrix"] = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])

dc = DataContainer(path)
g = dc.geometry
write(os.path.join(out_dir, "tensor_container.json"), {
    "data": dc.data, "weights": dc.projections.weights, "diode": dc.diode,
    "rotations": np.stack(g.rotations), "j_offsets": np.array(g.j_offsets), "k_offsets": np.array(g.k_offsets),
    "volume_shape": np.array(g.volume_shape), "projection_shape": np.array(g.projection_shape),
    "full_circle": np.array([int(g.full_circle_covered)]),
    "absorbances": get_absorbances(dc.diode, normalize_per_projection=True)["absorbances"],
})
print("wrote", path)
