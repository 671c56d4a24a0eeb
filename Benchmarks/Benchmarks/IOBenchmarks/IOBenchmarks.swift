import Beamline
import Benchmark
import Foundation

// HDF5 reads of detector data: a 100-frame 1024 × 1024 uint32 stack compressed
// with bitshuffle/LZ4 (filter 32008, chunks of one frame, as Eiger data comes),
// read into a Float tensor (libhdf5 decompresses and converts uint32 → float32),
// whole and one frame at a time through a hyperslab.
//
// The input is written at set-up by Beamline's own writer into a temporary
// folder (removed at exit): counts (i · 2654435761 >> 26) mod 64 for the flat
// index i, held as Int32 and stored as uint32. Benchmarks/peers/hdf5_peers.py
// writes the same values with h5py + hdf5plugin and times the same reads.
//
// The bitshuffle plugin must be loadable: Debian's hdf5-filter-plugin ships only
// LZ4 and BZip2, so when libhdf5's own search finds no 32008 this asks the
// hdf5plugin Python package for its plugin folder (pip install hdf5plugin),
// and registers nothing when that fails too.

let frames = 100, side = 1024

/// The value of flat element `i` (the peer script uses the same formula).
@inline(__always)
func count(_ i: Int) -> Int32 { Int32(truncatingIfNeeded: (UInt64(i) &* 2_654_435_761) >> 26 & 63) }


/// True when filter 32008 can be loaded (after adding hdf5plugin's folder).
func bitshuffleAvailable() -> Bool {
    if HDF5Library.isFilterAvailable(32008) { return true }
    if let folder = HDF5Library.pythonPluginFolder() { HDF5Library.appendPluginFolder(folder) }
    return HDF5Library.isFilterAvailable(32008)
}

/// The input file, written on first use.
let inputFile: URL = {
    let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("beamline-io-benchmark-\(getpid())", isDirectory: true)
    try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory
        .appendingPathComponent("beamline-io-benchmark-\(getpid())", isDirectory: true)) }
    let url = folder.appendingPathComponent("stack_bslz4_u32.h5")
    let stack = Tensor<Int32>(unsafeUninitializedShape: [frames, side, side]) { buffer in
        for i in 0..<buffer.count { buffer[i] = count(i) }
    }
    try! HDF5File.write(to: url) { file throws(HDF5Error) in
        try file.write(stack, to: "/entry/data/data", storage: .chunked([1, side, side], filters: [.bitshuffleLZ4]),
                       storedType: .integer(signed: false, bytes: 4))
    }
    return url
}()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 2,
        maxDuration: .seconds(3),
        maxIterations: 200,
        thresholds: [.mallocCountTotal: .init(relative: [.p90: 1.0])]
    )
    guard bitshuffleAvailable() else {
        print("IOBenchmarks: no bitshuffle (32008) plugin found; pip install hdf5plugin")
        return
    }

    Benchmark("h5_read_bslz4_100x1024x1024_u32_f32",
              configuration: .init(maxDuration: .seconds(10), maxIterations: 20)) { benchmark in
        let file = try! HDF5File(contentsOf: inputFile)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try! file.read(Float.self, from: "/entry/data/data", conversion: .numpyCast))
        }
    }

    // Each iteration reads the next frame (7, 14, 21, ... mod 100), so no
    // iteration is served from libhdf5's chunk cache (8 MiB by default in
    // HDF5 2.0, which h5py uses, and a 4 MiB frame fits).
    Benchmark("h5_read_bslz4_1frame_u32_f32") { benchmark in
        let file = try! HDF5File(contentsOf: inputFile)
        var frame = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            frame = (frame + 7) % frames
            blackHole(try! file.read(Float.self, from: "/entry/data/data", selection: [frame], conversion: .numpyCast))
        }
    }
}
