"""h5py side of the HDF5 benchmarks (Benchmarks/Benchmarks/IOBenchmarks).

Writes the same file as the Swift benchmark's set-up with h5py + hdf5plugin
(a 100 x 1024 x 1024 uint32 stack, values (i * 2654435761 >> 26) mod 64 for
the flat index i, chunks of one frame, hdf5plugin.Bitshuffle(cname="lz4"))
into a temporary folder, and times the same work: the whole stack read into
a float32 array (Dataset.read_direct into a preallocated float32 array,
libhdf5 converting, as Beamline's read does; and, for reference,
dset[()].astype(np.float32), NumPy converting), and one frame at a time
(read_direct with a hyperslab, frames 7, 14, 21, ... mod 100). Prints one line per benchmark: name, median
wall time in microseconds, samples.
Run: python3 Benchmarks/peers/hdf5_peers.py [--json out.json]
"""
import argparse
import json
import os
import tempfile

import h5py
import hdf5plugin
import numpy as np
from peertiming import median_us

FRAMES, SIDE = 100, 1024


def make_file(path):
    i = np.arange(FRAMES * SIDE * SIDE, dtype=np.uint64)
    counts = (((i * np.uint64(2654435761)) >> np.uint64(26)) & np.uint64(63)).astype(np.uint32)
    with h5py.File(path, "w") as f:
        f.create_dataset("/entry/data/data", data=counts.reshape(FRAMES, SIDE, SIDE), chunks=(1, SIDE, SIDE),
                         **hdf5plugin.Bitshuffle(cname="lz4"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "stack_bslz4_u32.h5")
        make_file(path)
        with h5py.File(path, "r") as f:
            dset = f["/entry/data/data"]

            def whole_read_direct():
                out = np.empty((FRAMES, SIDE, SIDE), dtype=np.float32)
                dset.read_direct(out)
                return out

            def whole_astype():
                return dset[()].astype(np.float32)

            frame = [0]

            def one_frame():
                # The next frame each call (7, 14, 21, ... mod 100), as the Swift
                # benchmark: HDF5 2.0's 8 MiB chunk cache would otherwise serve
                # a repeated 4 MiB frame from memory.
                frame[0] = (frame[0] + 7) % FRAMES
                out = np.empty((SIDE, SIDE), dtype=np.float32)
                dset.read_direct(out, np.s_[frame[0]])
                return out

            checks = whole_read_direct()
            assert checks[3, 2, 1] == float((((3 * SIDE * SIDE + 2 * SIDE + 1) * 2654435761) >> 26) & 63)
            assert np.array_equal(one_frame(), checks[7])
            for name, fn, budget in [
                ("h5_read_bslz4_100x1024x1024_u32_f32", whole_read_direct, 10.0),
                ("h5_read_bslz4_100x1024x1024_u32_f32_astype", whole_astype, 10.0),
                ("h5_read_bslz4_1frame_u32_f32", one_frame, 3.0),
            ]:
                median, samples = median_us(fn, min_time=budget, max_samples=200 if budget < 10 else 20)
                results[name] = median
                print(f"{name:48s} {median:12.1f} us  ({samples} samples)")
    print(f"h5py {h5py.version.version}, HDF5 {h5py.version.hdf5_version}, hdf5plugin {hdf5plugin.version}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=1)


if __name__ == "__main__":
    main()
