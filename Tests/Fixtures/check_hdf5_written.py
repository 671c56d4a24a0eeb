"""Opens the HDF5 file that Beamline's HDF5WriteTests.writeAndReadBack
writes, with h5py (and hdf5plugin for bitshuffle), and checks that h5py sees
the same values, types, attributes, links, chunking and compression.

Run from the repository root (keeps the written file in /tmp/beamline-h5):

    BEAMLINE_KEEP_HDF5_OUTPUT=/tmp/beamline-h5 swift test --filter writeAndReadBack
    python3 Tests/Fixtures/check_hdf5_written.py /tmp/beamline-h5/written.h5

Prints one line per check and exits non-zero when one fails.
"""
import sys

import h5py
import hdf5plugin  # noqa: F401  (registers bitshuffle for h5py)
import numpy as np

failures = 0


def check(name, condition):
    global failures
    print(("ok      " if condition else "FAILED  ") + name)
    if not condition:
        failures += 1


path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/beamline-h5/written.h5"
counts = (np.arange(4096) % 97).astype(np.int32).reshape(4, 32, 32)
volume = (np.arange(24, dtype=np.float32) * np.float32(0.5) - np.float32(3)).reshape(2, 3, 4)
with h5py.File(path, "r") as f:
    v = f["/entry/data/volume"]
    check("volume float32 (2, 3, 4) values", v.dtype == np.float32 and v.shape == (2, 3, 4) and np.array_equal(v[()], volume))
    check("volume contiguous", v.chunks is None and v.compression is None)
    check("soft link", f.get("/entry/link", getlink=True).path == "/entry/data/volume"
          and np.array_equal(f["/entry/link"][()], volume))
    check("f8", f["/typed/f8"].dtype == np.float64 and list(f["/typed/f8"][()]) == [1, 2.5, -3])
    check("i8", f["/typed/i8"].dtype == np.int64
          and list(f["/typed/i8"][()]) == [np.iinfo(np.int64).min, 0, np.iinfo(np.int64).max])
    check("u1", f["/typed/u1"].dtype == np.uint8 and list(f["/typed/u1"][()]) == [0, 128, 255])
    check("b1 is numpy bool", f["/typed/b1"].dtype == np.bool_ and list(f["/typed/b1"][()]) == [True, False, True])
    check("c16 is numpy complex128", f["/typed/c16"].dtype == np.complex128
          and list(f["/typed/c16"][()]) == [1 - 2j, 0.5 + 0.25j])
    check("scalar", f["/typed/scalar"].shape == () and f["/typed/scalar"][()] == np.float32(4.5))
    g = f["/chunked/gzip"]
    check("gzip values", g.dtype == np.int32 and np.array_equal(g[()], counts))
    check("gzip chunks (1, 32, 32), gzip level 6, shuffle",
          g.chunks == (1, 32, 32) and g.compression == "gzip" and g.compression_opts == 6 and g.shuffle)
    l4 = f["/chunked/lz4"]
    check("lz4 values, chunks (2, 16, 32), filter 32004",
          np.array_equal(l4[()], counts) and l4.chunks == (2, 16, 32) and "32004" in l4._filters)
    if "/chunked/bitshuffle" in f:
        b = f["/chunked/bitshuffle"]
        check("bitshuffle values, chunks (1, 32, 32), filter 32008 with LZ4 (cd_values end in 2)",
              np.array_equal(b[()], counts) and b.chunks == (1, 32, 32) and "32008" in b._filters
              and b._filters["32008"][-1] == 2)
    else:
        check("bitshuffle dataset present", False)
    check("empty group", isinstance(f["/entry/empty"], h5py.Group) and len(f["/entry/empty"]) == 0)
    a = f["/entry"].attrs
    check("NX_class str", a["NX_class"] == "NXentry")
    check("count int64", a["count"] == 7 and a["count"].dtype == np.int64)
    check("energy float64", a["energy_keV"] == 17.5 and a["energy_keV"].dtype == np.float64)
    check("axes strings", list(f["/entry/data"].attrs["axes"]) == ["angle", "y", "x"])
    check("offsets float64 array", list(f["/entry/data/volume"].attrs["offsets"]) == [0.5, -1.0])
    check("utf-8 root attribute", f.attrs["root"] == "überall")
print(f"{failures} failure(s)")
sys.exit(1 if failures else 0)
