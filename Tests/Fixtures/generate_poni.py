"""pyFAI calibration files and pyFAI's reading of them, for BeamlineDetectorTests.

Run from the repository root:  python3 Tests/Fixtures/generate_poni.py
(pyFAI 2026.9 and NumPy 2.4 were used for the committed files.)

Writes Tests/BeamlineDetectorTests/Fixtures/poni/:
- pilatus1m_v21.poni: AzimuthalIntegrator(...).write() for a Pilatus1M, tilted
  (pyFAI 2026 writes poni_version 2.1);
- generic_v21.poni: Geometry(...).save() for a generic pyFAI Detector
  (pixel1 != pixel2, max_shape);
- pilatus1m_v2.poni, generic_v1.poni, pilatus1m_v1.poni: version 2 (no
  orientation) and version 1 (PixelSize1/PixelSize2, no poni_version), which
  pyFAI 2026 no longer writes: hand-written in pyFAI's historical layout and
  read back with pyFAI below (so the expected numbers are pyFAI's reading);
- goniometer.json: pyFAI.goniometer.Goniometer(...).save() (param_names /
  param, wavelength, detector, detector_config) with the identity
  transformation (each geometry parameter is its own fit parameter);
- get_config.json: json.dump(ai.get_config()) (the flat form);
- bad files: missing_poni2.poni, bad_rot1.poni, version4.poni,
  orientation1.poni (pyFAI writes it for a detector with orientation=1),
  bad_config.poni (Detector_config is not JSON).
- expected.json: for each good file, what pyFAI reads (dist, poni1, poni2,
  rot1..3, wavelength, pixel1, pixel2, max_shape, detector class name,
  orientation) and pyFAI's calc_pos_zyx and 2θ (twoThetaArray) at three
  pixels.
"""
import json
import os
import sys

import numpy as np
import pyFAI
import pyFAI.detectors as D
from pyFAI.geometry import Geometry
from pyFAI.integrator.azimuthal import AzimuthalIntegrator
from pyFAI.goniometer import Goniometer, GeometryTransformation

here = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(here, "..", "BeamlineDetectorTests", "Fixtures", "poni")
PIXELS = np.array([[0.0, 0.0], [500.0, 300.0], [1042.0, 980.0]])


def path(name):
    return os.path.join(OUT, name)


def write_text(name, text):
    with open(path(name), "w") as f:
        f.write(text)


def describe(geometry):
    """What pyFAI read: the numbers Beamline must reproduce."""
    d = geometry.detector
    i, j = PIXELS[:, 0], PIXELS[:, 1]
    z, y, x = geometry.calc_pos_zyx(d1=i, d2=j)  # pixel centres: (index + 0.5) * pixel size
    tth = geometry.tth(i, j)
    return {
        "dist": geometry.dist, "poni1": geometry.poni1, "poni2": geometry.poni2,
        "rot1": geometry.rot1, "rot2": geometry.rot2, "rot3": geometry.rot3,
        "wavelength": geometry.wavelength, "pixel1": d.pixel1, "pixel2": d.pixel2,
        "max_shape": list(d.max_shape) if d.max_shape is not None else None,
        "detector": d.__class__.__name__, "orientation": int(d.orientation),
        "pixels": PIXELS.tolist(), "zyx": np.stack([z, y, x], -1).tolist(), "tth": np.asarray(tth).tolist(),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    pilatus = D.detector_factory("Pilatus1M")
    ai = AzimuthalIntegrator(dist=0.2845, poni1=0.08865, poni2=0.08931, rot1=0.1, rot2=-0.2, rot3=0.3,
                             wavelength=1.0332e-10, detector=pilatus)
    ai.write(path("pilatus1m_v21.poni"))
    generic = D.Detector(pixel1=75e-6, pixel2=100e-6, max_shape=(1100, 1000))
    g = Geometry(dist=0.15, poni1=0.04, poni2=0.05, rot1=-0.05, rot2=0.02, rot3=0.0, detector=generic,
                 wavelength=7.0e-11)
    g.save(path("generic_v21.poni"))

    lines = [
        "# Nota: C-Order, 1 refers to the Y axis, 2 to the X axis",
        "# Calibration done at Thu Jan  1 00:00:00 2015",
    ]
    geometry = ["Distance: 0.2845", "Poni1: 0.08865", "Poni2: 0.08931", "Rot1: 0.1", "Rot2: -0.2", "Rot3: 0.3",
                "Wavelength: 1.0332e-10"]
    write_text("pilatus1m_v2.poni", "\n".join(lines + [
        "poni_version: 2", "Detector: Pilatus1M",
        'Detector_config: {"pixel1": 0.000172, "pixel2": 0.000172}'] + geometry) + "\n")
    write_text("pilatus1m_v1.poni", "\n".join(lines + [
        "Detector: Pilatus1M", "PixelSize1: 0.000172", "PixelSize2: 0.000172"] + geometry) + "\n")
    write_text("generic_v1.poni", "\n".join(lines + [
        "PixelSize1: 7.5e-05", "PixelSize2: 0.0001", "Distance: 0.15", "Poni1: 0.04", "Poni2: 0.05",
        "Rot1: -0.05", "Rot2: 0.02", "Rot3: 0.0", "Wavelength: 7e-11"]) + "\n")

    # Goniometer JSON with the identity transformation.
    names = ["dist", "poni1", "poni2", "rot1", "rot2", "rot3"]
    trans = GeometryTransformation(param_names=names, pos_names=["angle"],
                                   dist_expr="dist", poni1_expr="poni1", poni2_expr="poni2",
                                   rot1_expr="rot1", rot2_expr="rot2", rot3_expr="rot3")
    gonio = Goniometer([0.2845, 0.08865, 0.08931, 0.1, -0.2, 0.3], trans, detector=pilatus, wavelength=1.0332e-10)
    gonio.save(path("goniometer.json"))
    with open(path("get_config.json"), "w") as f:
        json.dump(g.get_config(), f, indent=2)

    for name in ["pilatus1m_v21.poni", "generic_v21.poni", "pilatus1m_v2.poni", "pilatus1m_v1.poni",
                 "generic_v1.poni"]:
        read = pyFAI.load(path(name))
        expected[name] = describe(read)
    loaded = Goniometer.sload(path("goniometer.json")).get_ai(0)
    expected["goniometer.json"] = describe(loaded)
    with open(path("get_config.json")) as f:
        config = json.load(f)
    expected["get_config.json"] = describe(_from_config(config))

    text = open(path("pilatus1m_v21.poni")).read()
    write_text("missing_poni2.poni", "\n".join(l for l in text.splitlines() if not l.startswith("Poni2")) + "\n")
    write_text("bad_rot1.poni", text.replace("Rot1: 0.1", "Rot1: 0.1rad"))
    write_text("version4.poni", text.replace("poni_version: 2.1", "poni_version: 4"))
    write_text("bad_config.poni", text.replace('Detector_config: {', 'Detector_config: {pixel1: '))
    flipped = D.Detector(pixel1=75e-6, pixel2=100e-6, max_shape=(1100, 1000), orientation=1)
    Geometry(dist=0.15, poni1=0.04, poni2=0.05, detector=flipped).save(path("orientation1.poni"))

    with open(path("expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", os.path.normpath(OUT))


def _from_config(config):
    geometry = Geometry()
    geometry.set_config(config)
    return geometry


if __name__ == "__main__":
    main()
