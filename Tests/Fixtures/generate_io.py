"""Writes the .npy/.npz fixtures for Tests/BeamlineIOTests (NumPy 2.4).

Run from the repository root:

    python3 Tests/Fixtures/generate_io.py

Every file is written by NumPy itself (np.save, np.savez,
np.savez_compressed, np.lib.format.write_array); the corrupted files start
from a NumPy-written file and change a few bytes by hand. The Swift tests
rebuild the same values with the same formulas (noted below) and compare.
"""
import io
import os
import zipfile

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "BeamlineIOTests", "Fixtures")


def path(name):
    return os.path.join(OUT, name)


def save(name, array):
    np.save(path(name), array, allow_pickle=False)


def npy_bytes(array, **kwargs):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asanyarray(array), **kwargs)
    return buffer.getvalue()


def write_bytes(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)

    # --- One file per element type, little-endian, C order (np.save). ---
    f4 = (np.arange(6, dtype=np.float32) * np.float32(0.25) - np.float32(0.5)).reshape(2, 3)
    f8 = (np.arange(6.0) * 0.1).reshape(2, 3)
    c8 = np.array([1 + 2j, -0.5 + 0.25j, 3 - 4j], dtype=np.complex64)
    c16 = np.array([[1 + 2j, 0.1 - 0.2j], [3j, -4]], dtype=np.complex128)
    i4 = np.array([-2147483648, -1, 0, 2147483647], dtype=np.int32)
    i8 = np.array([[-9223372036854775808, -1], [0, 9223372036854775807]], dtype=np.int64)
    u1 = np.array([0, 1, 127, 128, 255], dtype=np.uint8)
    b1 = np.array([True, False, False, True])
    typed = {"f4": f4, "f8": f8, "c8": c8, "c16": c16, "i4": i4, "i8": i8, "u1": u1, "b1": b1}
    for name, array in typed.items():
        save(f"{name}.npy", array)

    # --- Big-endian copies (np.save of array.astype('>..')). ---
    for name in ["f4", "f8", "c8", "c16", "i4", "i8"]:
        array = typed[name]
        save(f"{name}_be.npy", array.astype(array.dtype.newbyteorder(">")))

    # --- Fortran order (np.save of np.asfortranarray(...)). ---
    save("f8_fortran_2x3x4.npy", np.asfortranarray(np.arange(24.0).reshape(2, 3, 4)))
    save("i4_fortran_3x2.npy", np.asfortranarray(np.arange(6, dtype=np.int32).reshape(3, 2)))
    save("c16_be_fortran_2x2.npy",
         np.asfortranarray(c16.astype(">c16")))

    # --- Shapes: 0-d, empty, 3-d, long first axis. ---
    save("f8_scalar.npy", np.array(3.5))
    save("f8_empty_0x3.npy", np.zeros((0, 3)))
    save("i8_3d_2x3x4.npy", np.arange(24, dtype=np.int64).reshape(2, 3, 4))
    save("u1_1000.npy", (np.arange(1000) % 256).astype(np.uint8))

    # --- Format versions 2.0 and 3.0 (np.lib.format.write_array(version=...)). ---
    write_bytes("f8_v2.npy", npy_bytes(f8, version=(2, 0)))
    write_bytes("f8_v3.npy", npy_bytes(f8, version=(3, 0)))

    # --- Corrupted and unsupported files. ---
    good = npy_bytes(f8)
    write_bytes("bad_magic.npy", b"\x93NUMPZ" + good[6:])
    write_bytes("bad_version.npy", good[:6] + b"\x04\x00" + good[8:])
    write_bytes("truncated.npy", good[:-5])                       # 48 of 48 data bytes -> 43
    write_bytes("truncated_header.npy", good[:40])
    header_len = good[8] | (good[9] << 8)
    garbage = b"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3 }"
    write_bytes("bad_header.npy", good[:10] + garbage.ljust(header_len - 1) + b"\n" + good[10 + header_len:])
    missing = b"{'descr': '<f8', 'shape': (2, 3), }"
    write_bytes("missing_key_header.npy", good[:10] + missing.ljust(header_len - 1) + b"\n" + good[10 + header_len:])
    negative = b"{'descr': '<f8', 'fortran_order': False, 'shape': (2, -3), }"
    write_bytes("negative_shape.npy", good[:10] + negative.ljust(header_len - 1) + b"\n" + good[10 + header_len:])
    huge = b"{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"
    write_bytes("overflow_shape.npy", good[:10] + huge.ljust(header_len - 1) + b"\n" + good[10 + header_len:])
    save("unsupported_m8.npy", np.array([1, 2], dtype="<m8[s]"))
    save("unsupported_M8.npy", np.array(["2026-01-01"], dtype="<M8[D]"))
    save("unsupported_U3.npy", np.array(["abc", "de"], dtype="<U3"))
    np.save(path("unsupported_object.npy"), np.array([1, "a", None], dtype=object), allow_pickle=True)
    save("unsupported_structured.npy", np.zeros(2, dtype=[("x", "<f8"), ("y", "<i4")]))
    write_bytes("not_npy.npy", b"hello, this is not a NumPy file\n")
    write_bytes("empty_file.npy", b"")

    # --- Archives. ---
    np.savez(path("savez.npz"), f8=f8, i4=i4, b1=b1, c16=c16, scalar=np.array(3.5))
    np.savez_compressed(path("savez_compressed.npz"), f8=f8, i4=i4, b1=b1, c16=c16, scalar=np.array(3.5))
    np.savez(path("savez_positional.npz"), f4, u1)                # members arr_0, arr_1
    np.savez_compressed(path("savez_big_compressed.npz"),
                        big=np.arange(100000, dtype=np.float64).reshape(100, 1000) * 0.5)
    write_bytes("not_zip.npz", b"PK\x03\x04 but not really a zip archive at all" + bytes(100))
    with zipfile.ZipFile(path("bad_member.npz"), "w") as z:     # a member that is not an .npy
        z.writestr("good.npy", npy_bytes(i4))
        z.writestr("bad.npy", b"\x93NUMPY\x01\x00garbage")
    # ZIP64 everywhere: with zipfile's limits lowered to 0, every central-
    # directory entry saturates its 32-bit sizes and carries them in a ZIP64
    # extra field, and the archive ends with a ZIP64 end record and locator
    # (what numpy.savez writes for members or archives beyond 4 GiB).
    limits = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 0, 0
    try:
        np.savez_compressed(path("savez_zip64.npz"), f8=f8, i4=i4)
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = limits

    every_dtype()

    print("wrote fixtures to", os.path.normpath(OUT))


# Every NumPy numeric dtype (issue 15), in the order the Swift tests use.
ALL_CODES = ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16", "b1"]


def all_values(code):
    """The (2, 4) array each all_<code>_*.npy file holds.

    Integers: [min, min + 1, 0, 1, 2, 100, max - 1, max] (rebuilt in Swift
    from the type's bounds). Floats, complex and bool: literal values,
    also saved as an exact float64/complex128/bool companion
    (all_<code>_values.npy) that the Swift test compares with.
    """
    dtype = np.dtype(code)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = [info.min, info.min + 1, 0, 1, 2, 100, info.max - 1, info.max]
        return np.array(values, dtype=dtype).reshape(2, 4)
    if code == "f2":
        # zero, -zero, 1, -2.5, max, smallest normal, smallest subnormal, inf
        values = [0.0, -0.0, 1.0, -2.5, 65504.0, 2.0 ** -14, 2.0 ** -24, np.inf]
    elif dtype.kind == "f":
        values = [0.0, -0.0, 1.0, -2.5, 0.1, 1e30, -np.inf, np.nan]
    elif dtype.kind == "c":
        values = [0, 1 + 2j, -0.5 + 0.25j, 3 - 4j, 0.1j, 1e30 - 1j, complex(np.inf, 1), complex(1, np.nan)]
    else:
        values = [True, False, False, True, True, True, False, True]
    return np.array(values, dtype=dtype).reshape(2, 4)


# NumPy's astype from these values is defined for every target type (floats
# and complex non-negative and below 127, so no conversion is out of range).
CAST_FLOATS = [0.0, 0.5, 1.5, 2.75, 100.875, 126.5, 3.25, 64.0]


def cast_source(code):
    dtype = np.dtype(code)
    if dtype.kind == "f":
        return np.array(CAST_FLOATS, dtype=dtype)
    if dtype.kind == "c":
        return np.array([c + 1j * (i - 3) for i, c in enumerate(CAST_FLOATS)], dtype=dtype)
    return all_values(code).reshape(-1)


def every_dtype():
    for code in ALL_CODES:
        array = all_values(code)
        # np.save writes '<' (or '|' for one-byte types): this is also the
        # byte-identical reference for Beamline's writer.
        save(f"all_{code}_le.npy", array)
        big = array.astype(array.dtype.newbyteorder(">"))
        save(f"all_{code}_be.npy", big)
        kind = array.dtype.kind
        if kind in "fc":
            companion = array.astype(np.complex128 if kind == "c" else np.float64)
            save(f"all_{code}_values.npy", companion)
    # Fortran order, both byte orders.
    for code, order in [("u2", "<"), ("i1", "|"), ("f2", ">"), ("u8", ">"), ("u4", "<")]:
        array = np.arange(24).reshape(2, 3, 4).astype(np.dtype(code).newbyteorder(order) if order != "|" else code)
        save(f"all_{code}_fortran_2x3x4.npy", np.asfortranarray(array))
    # '=' (native) in the header: NumPy never writes it, but reads it.
    for code in ["u2", "f2", "c8"]:
        data = npy_bytes(all_values(code))
        edited = data.replace(f"'<{code}'".encode(), f"'={code}'".encode(), 1)
        assert edited != data
        assert (np.load(io.BytesIO(edited)) == all_values(code)).all() or code == "c8"
        write_bytes(f"all_{code}_native.npy", edited)
    # '<i1' instead of '|i1' (also valid).
    data = npy_bytes(all_values("i1"))
    write_bytes("all_i1_lt.npy", data.replace(b"'|i1'", b"'<i1'", 1))

    # pyFAI-style masks: the thick-detector notebook's int8 mask, and a uint16 one.
    mask = np.zeros((16, 16), dtype=np.int8)
    mask[3, 5] = 1
    mask[10, :] = 1
    save("mask_i1.npy", mask)
    mask_u2 = np.zeros((16, 16), dtype=np.uint16)
    mask_u2[3, 5] = 2
    mask_u2[:, 7] = 65535
    save("mask_u2.npy", mask_u2)

    # NumPy's astype between every pair, and can_cast(..., "safe").
    casts = {}
    for source in ALL_CODES:
        values = cast_source(source)
        casts[f"src_{source}"] = values
        for target in ALL_CODES:
            with np.errstate(all="ignore"):
                import warnings
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    casts[f"{source}_to_{target}"] = values.astype(target)
    np.savez(path("casts.npz"), **casts)
    safe = np.array([[np.can_cast(a, b, casting="safe") for b in ALL_CODES] for a in ALL_CODES])
    save("can_cast_safe.npy", safe)


if __name__ == "__main__":
    main()
