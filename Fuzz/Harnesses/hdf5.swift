// libFuzzer harness: HDF5 files (structure, datasets, attributes, links,
// NXtomo). The input is written to a scratch file (libhdf5 reads files),
// then walked as a reader of untrusted files would: every object (at most
// 64, depth 8), each dataset's info, shape and contents (one frame when the
// whole would exceed 16 MiB, none when a frame would too: large declared
// shapes with fill values are legal HDF5), attributes, soft links, and the NXtomo reader.
import BeamlineIO
import Foundation

let scratch = FileManager.default.temporaryDirectory
    .appendingPathComponent("beamline-fuzz-hdf5-\(getpid()).h5")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHDF5(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    guard (try? data.write(to: scratch)) != nil else { return 0 }
    defer { unlink(scratch.path) }
    guard let file = try? HDF5File(contentsOf: scratch) else { return 0 }
    var visited = 0
    func walk(_ path: String, depth: Int) {
        guard depth < 8, visited < 64 else { return }
        visited += 1
        _ = try? file.attributeNames(of: path).map { name in try? file.attribute(name, of: path) }
        _ = try? file.softLinkTarget(of: path)
        switch try? file.objectKind(at: path) {
        case .group?:
            for member in (try? file.members(of: path)) ?? [] {
                walk(path == "/" ? "/" + member : path + "/" + member, depth: depth + 1)
            }
        case .dataset?:
            guard let info = try? file.datasetInfo(path) else { return }
            let count = elementCount(info.shape)
            if count <= 1 << 21 {
                _ = try? file.read(path)
                _ = try? file.read(Double.self, from: path, conversion: .numpyCast)
            } else if !info.shape.isEmpty {
                // One frame, when a frame is itself within the bound: a few
                // kB of file can declare a chunked dataset of any size whose
                // frames are fill values, and the reader allows a read up to
                // physical memory (docs/reliability.md), above libFuzzer's
                // 2 GB limit.
                let frame = elementCount(info.shape.dropFirst())
                if frame <= 1 << 21 { _ = try? file.read(path, selection: [0]) }
            }
        default:
            break
        }
    }
    walk("/", depth: 0)
    file.closeQuietly()
    if let scan = try? NXtomoScan(contentsOf: scratch) { _ = try? scan.absorbance() }
    return 0
}

/// The product of `dimensions`, `Int.max` when it overflows.
func elementCount(_ dimensions: some Sequence<Int>) -> Int {
    dimensions.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
}

extension HDF5File {
    func closeQuietly() { try? close() }
}
