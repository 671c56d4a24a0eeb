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
    save("unsupported_f2.npy", np.arange(4, dtype=np.float16))
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

    print("wrote fixtures to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
