"""Writes the HDF5 / NeXus fixtures for Tests/BeamlineIOTests (h5py 3.16,
hdf5plugin 7.1, NumPy 2.4).

Run from the repository root:

    python3 Tests/Fixtures/generate_hdf5.py

Every file is written by h5py itself; the Swift tests rebuild the same
values with the formulas noted here and compare them bit for bit. The
damaged files start from an h5py-written file and are cut or patched by
hand. All files are a few KB.
"""
import os

import h5py
import hdf5plugin
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "BeamlineIOTests", "Fixtures")


def path(name):
    return os.path.join(OUT, name)


def base(shape):
    """np.arange(n).reshape(shape): the values every typed dataset starts from."""
    return np.arange(int(np.prod(shape))).reshape(shape)


def types_file():
    """h5_types.h5: one (2, 3) dataset per NumPy dtype, values
    (np.arange(6) - 2) cast to the dtype (for unsigned types np.arange(6) * 40),
    plus extremes, big-endian copies, a scalar and a string dataset."""
    with h5py.File(path("h5_types.h5"), "w", libver="earliest") as f:
        signed = base((2, 3)) - 2
        unsigned = base((2, 3)) * 40
        for name in ["i1", "i2", "i4", "i8"]:
            f[name] = signed.astype(name)
        for name in ["u1", "u2", "u4", "u8"]:
            f[name] = unsigned.astype(name)
        # float: (np.arange(6) - 2) * 0.25, exact in every float type
        for name in ["f2", "f4", "f8"]:
            f[name] = ((base((2, 3)) - 2) * 0.25).astype(name)
        # complex: re = np.arange(6) * 0.5, im = -np.arange(6)
        for name in ["c8", "c16"]:
            f[name] = (base((2, 3)) * 0.5 - 1j * base((2, 3))).astype(name)
        f["b1"] = np.array([[True, False, True], [False, False, True]])
        f["be_f4"] = ((base((2, 3)) - 2) * 0.25).astype(">f4")
        f["be_u2"] = (base((2, 3)) * 40).astype(">u2")
        f["extremes_i8"] = np.array([np.iinfo(np.int64).min, -1, 0, np.iinfo(np.int64).max], dtype=np.int64)
        f["extremes_u4"] = np.array([0, 1, 2**31, 2**32 - 1], dtype=np.uint32)
        f["extremes_i1"] = np.array([-128, -1, 0, 127], dtype=np.int8)
        f["scalar_f8"] = np.float64(2.5)
        f["text"] = "not a number"


def layouts_file():
    """h5_layouts.h5: the same uint16 (4, 6, 5) stack, np.arange(120) * 500
    (wrapping at 65536), stored contiguous, chunked + gzip + shuffle,
    LZ4 (filter 32004) and bitshuffle/LZ4 (32008); groups, a soft link and
    a dangling soft link; attributes of each kind."""
    stack = (base((4, 6, 5)) * 500 % 65536).astype(np.uint16)
    with h5py.File(path("h5_layouts.h5"), "w", libver="earliest") as f:
        f.create_dataset("contiguous", data=stack)
        f.create_dataset("gzip", data=stack, chunks=(1, 6, 5), compression="gzip", compression_opts=4, shuffle=True)
        f.create_dataset("lz4", data=stack, chunks=(2, 6, 5), **hdf5plugin.LZ4())
        f.create_dataset("bitshuffle", data=stack.astype(np.uint32), chunks=(1, 6, 5),
                         **hdf5plugin.Bitshuffle(cname="lz4"))
        group = f.create_group("group/sub")
        group["data"] = (base((3, 4)) * 0.5).astype(np.float32)
        f["link"] = h5py.SoftLink("/group/sub/data")
        f["dangling"] = h5py.SoftLink("/nowhere")
        a = f["group"].attrs
        a["int"] = 42
        a["float"] = 0.125
        a["text"] = "detector"
        a["fixed_text"] = np.bytes_("fixed")
        a["floats"] = np.array([1.5, -2.0, 3.25])
        a["ints"] = np.array([1, 2, 3], dtype=np.int32)
        a["texts"] = ["a", "bc"]
        a["flag"] = np.bool_(True)
        f["contiguous"].attrs["units"] = "counts"


def unknown_filter_file():
    """h5_unknown_filter.h5: a (2, 4) int32 dataset whose only chunk claims
    to be compressed with filter 32999, which no plugin provides (the raw
    bytes were written with write_direct_chunk)."""
    with h5py.File(path("h5_unknown_filter.h5"), "w", libver="earliest") as f:
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk((2, 4))
        dcpl.set_filter(32999, h5py.h5z.FLAG_OPTIONAL, (1, 2))
        space = h5py.h5s.create_simple((2, 4))
        dsid = h5py.h5d.create(f.id, b"data", h5py.h5t.STD_I32LE, space, dcpl=dcpl)
        raw = np.arange(8, dtype="<i4").tobytes()
        dsid.write_direct_chunk((0, 0), raw, filter_mask=0)


def damaged_files():
    """h5_truncated.h5: the first half of h5_layouts.h5. h5_not_hdf5.h5: text."""
    with open(path("h5_layouts.h5"), "rb") as f:
        data = f.read()
    with open(path("h5_truncated.h5"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(path("h5_not_hdf5.h5"), "wb") as f:
        f.write(b"this is not an HDF5 file\n")


def nxtomo_file():
    """nxtomo.nxs: an NXtomo scan of 9 uint16 frames of 4 x 5 pixels,
    image_key [2, 1, 0, 0, 0, 0, 0, 1, 2] (darks, flats, 5 projections),
    rotation angles 0, 0, 0, 45, 90, 135, 180, 0, 0 degrees.
    dark = 100 + (frame index), flat = 1000 + 10 * pixel + frame index,
    projection k = 100 + (900 + 10 * pixel) * exp(-0.1 * (k + 1) * (1 + pixel / 20)), rounded.
    nxtomo_absorbance.npy: the expected absorbance, computed with NumPy
    in float64 from the same frames: mean flat, mean dark,
    -log(max((p - d) / (f - d), 1e-6)), stored as float32.
    nxtomo_mismatch.nxs: the same file with 8 image keys for 9 frames."""
    rows, cols = 4, 5
    pixel = np.arange(rows * cols, dtype=np.float64).reshape(rows, cols)
    keys = np.array([2, 1, 0, 0, 0, 0, 0, 1, 2], dtype=np.uint8)
    angles = np.array([0, 0, 0, 45, 90, 135, 180, 0, 0], dtype=np.float64)
    frames = np.zeros((9, rows, cols), dtype=np.float64)
    projection = 0
    for i, key in enumerate(keys):
        if key == 2:
            frames[i] = 100 + i
        elif key == 1:
            frames[i] = 1000 + 10 * pixel + i
        else:
            frames[i] = 100 + (900 + 10 * pixel) * np.exp(-0.1 * (projection + 1) * (1 + pixel / 20))
            projection += 1
    data = np.rint(frames).astype(np.uint16)

    def write(name, image_key):
        with h5py.File(path(name), "w", libver="earliest") as f:
            entry = f.create_group("entry")
            entry.attrs["NX_class"] = "NXentry"
            entry["definition"] = "NXtomo"
            instrument = entry.create_group("instrument")
            instrument.attrs["NX_class"] = "NXinstrument"
            detector = instrument.create_group("detector")
            detector.attrs["NX_class"] = "NXdetector"
            detector.create_dataset("data", data=data, chunks=(1, rows, cols), compression="gzip")
            detector["image_key"] = image_key
            sample = entry.create_group("sample")
            sample.attrs["NX_class"] = "NXsample"
            sample["rotation_angle"] = angles
            sample["rotation_angle"].attrs["units"] = "degree"
            nxdata = entry.create_group("data")
            nxdata.attrs["NX_class"] = "NXdata"
            nxdata.attrs["signal"] = "data"
            nxdata["data"] = h5py.SoftLink("/entry/instrument/detector/data")
            nxdata["image_key"] = h5py.SoftLink("/entry/instrument/detector/image_key")
            nxdata["rotation_angle"] = h5py.SoftLink("/entry/sample/rotation_angle")

    write("nxtomo.nxs", keys)
    write("nxtomo_mismatch.nxs", keys[:8])

    stored = data.astype(np.float64)
    dark = stored[keys == 2].mean(axis=0)
    flat = stored[keys == 1].mean(axis=0)
    ratio = (stored[keys == 0] - dark) / (flat - dark)
    np.save(path("nxtomo_absorbance.npy"), (-np.log(np.maximum(ratio, 1e-6))).astype(np.float32))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    types_file()
    layouts_file()
    unknown_filter_file()
    damaged_files()
    nxtomo_file()
    for name in sorted(os.listdir(OUT)):
        if name.startswith(("h5_", "nxtomo")):
            print(f"{name}: {os.path.getsize(path(name))} bytes")
