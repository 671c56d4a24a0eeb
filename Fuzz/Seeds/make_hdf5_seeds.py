"""Writes the small HDF5 seeds of the hdf5 fuzz target (h5py 3.16, libver
'latest' for compact files). Run from Fuzz/Seeds: python3 make_hdf5_seeds.py"""
import h5py
import numpy as np

with h5py.File("hdf5/contiguous.h5", "w", libver="latest") as f:
    f.create_dataset("a", data=np.arange(6, dtype="<f4").reshape(2, 3))
    f["a"].attrs["units"] = "counts"
    f.attrs["NX_class"] = "NXroot"
with h5py.File("hdf5/chunked_deflate.h5", "w", libver="latest") as f:
    f.create_dataset("g/d", data=np.arange(64, dtype="<u2").reshape(8, 8), chunks=(4, 4), compression="gzip")
    f["link"] = h5py.SoftLink("/g/d")
with h5py.File("hdf5/types.h5", "w", libver="latest") as f:
    f["b"] = np.array([True, False])
    f["c"] = np.array([1 + 2j], dtype="<c8")
    f["i"] = np.array([[-1, 2]], dtype=">i8")
    f["s"] = 3.5
with h5py.File("hdf5/fill.h5", "w", libver="latest") as f:
    f.create_dataset("big", shape=(4, 1000, 1000), dtype="<f4", chunks=(1, 100, 100), fillvalue=1.0)
with h5py.File("hdf5/nxtomo.nxs", "w", libver="latest") as f:
    e = f.create_group("entry"); e.attrs["NX_class"] = "NXentry"
    e.attrs["definition"] = "NXtomo"
    d = e.create_group("data"); d.attrs["NX_class"] = "NXdata"
    d["data"] = np.ones((3, 2, 2), dtype="<u2")
    d["image_key"] = np.array([0, 1, 2], dtype="<i4")
    d["rotation_angle"] = np.array([0.0, 0.0, 0.0])
