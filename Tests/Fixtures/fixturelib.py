"""Shared helpers for the fixture generators.

Each generator computes expected values with the reference library users
trust (NumPy, SciPy, ...) and writes them as JSON: {name: {"shape": [...],
"dtype": "float64" | "complex128" | "int64" | "bool" | ..., "data": [...]}}.
Floats are written with repr(), so they round-trip exactly; complex data is
interleaved [re0, im0, re1, im1, ...]. Tests load them with
`Fixtures.load(_:)` (Tests/BeamlineTensorTests/FixtureSupport.swift).
"""
import json
import numpy as np


def entry(array):
    a = np.asarray(array)
    if np.iscomplexobj(a):
        flat = np.ascontiguousarray(a).reshape(-1)
        data = np.stack([flat.real, flat.imag], axis=-1).reshape(-1).astype(float).tolist()
    elif a.dtype == np.bool_:
        data = [int(bool(v)) for v in a.reshape(-1)]  # 0/1, so every entry decodes as numbers
    elif np.issubdtype(a.dtype, np.integer):
        data = [int(v) for v in a.reshape(-1)]
    else:
        data = [float(v) for v in a.reshape(-1)]
    return {"shape": list(a.shape), "dtype": str(a.dtype), "data": data}


def write(path, entries):
    with open(path, "w") as f:
        json.dump({k: entry(v) for k, v in entries.items()}, f, indent=None, sort_keys=True)
        f.write("\n")
