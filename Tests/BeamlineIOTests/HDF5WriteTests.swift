import BeamlineIO
import BeamlineTensor
import ComplexModule
import Foundation
import Testing

/// Files written by HDF5File, read back by HDF5File. The same files, kept
/// with BEAMLINE_KEEP_HDF5_OUTPUT=<folder>, are what
/// Tests/Fixtures/check_hdf5_written.py opens with h5py.
@Suite("HDF5 writes")
struct HDF5WriteTests {
    /// The folder for written files: BEAMLINE_KEEP_HDF5_OUTPUT (kept) or a
    /// new temporary folder.
    static func outputFolder() throws -> (URL, keep: Bool) {
        if let kept = ProcessInfo.processInfo.environment["BEAMLINE_KEEP_HDF5_OUTPUT"], !kept.isEmpty {
            let url = URL(fileURLWithPath: kept, isDirectory: true)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            return (url, true)
        }
        return (try makeTemporaryDirectory(), false)
    }

    /// `np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.5 - 3`.
    static let volume = Tensor<Float>(shape: [2, 3, 4], elements: (0..<24).map { Float($0) * 0.5 - 3 })
    /// `(np.arange(64 * 32 * 32) % 1000).astype(np.uint8)`-like counts as Int32 (compressible).
    static let counts = Tensor<Int32>(shape: [4, 32, 32], elements: (0..<4096).map { Int32($0 % 97) })

    @Test("every element type, layout and attribute written reads back exactly (and h5py reads it: check_hdf5_written.py)")
    func writeAndReadBack() throws {
        let (folder, keep) = try Self.outputFolder()
        defer { if !keep { try? FileManager.default.removeItem(at: folder) } }
        let url = folder.appendingPathComponent("written.h5")
        try? FileManager.default.removeItem(at: url)
        let complex = Tensor<Complex<Double>>([Complex(1, -2), Complex(0.5, 0.25)])
        try HDF5File.write(to: url) { file throws(HDF5Error) in
            try file.write(Self.volume, to: "/entry/data/volume")
            try file.write(Tensor<Double>([1, 2.5, -3]), to: "/typed/f8")
            try file.write(Tensor<Int64>([Int64.min, 0, Int64.max]), to: "/typed/i8")
            try file.write(Tensor<UInt8>([0, 128, 255]), to: "/typed/u1")
            try file.write(Tensor<Bool>([true, false, true]), to: "/typed/b1")
            try file.write(complex, to: "/typed/c16")
            try file.write(Tensor<Float>(scalar: 4.5), to: "/typed/scalar")
            try file.write(Self.counts, to: "/chunked/gzip", storage: .chunked([1, 32, 32], deflate: 6, shuffle: true))
            if bitshuffleAvailable {
                try file.write(Self.counts, to: "/chunked/bitshuffle", storage: .chunked([1, 32, 32], filters: [.bitshuffleLZ4]))
            }
            try file.write(Self.counts, to: "/chunked/lz4", storage: .chunked([2, 16, 32], filters: [.lz4]))
            try file.createGroup("/entry/empty")
            try file.createSoftLink(at: "/entry/link", pointingTo: "/entry/data/volume")
            try file.setAttribute("NX_class", .string("NXentry"), on: "/entry")
            try file.setAttribute("count", .integer(7), on: "/entry")
            try file.setAttribute("energy_keV", .number(17.5), on: "/entry")
            try file.setAttribute("axes", .strings(["angle", "y", "x"]), on: "/entry/data")
            try file.setAttribute("offsets", .array(AnyTensor(Tensor<Double>([0.5, -1]))), on: "/entry/data/volume")
            try file.setAttribute("root", .string("überall"))
        }
        #expect(directoryContents(folder).filter { $0.hasSuffix(".tmp") }.isEmpty)
        let file = try HDF5File(contentsOf: url)
        #expect(try file.read(Float.self, from: "/entry/data/volume") == Self.volume)
        #expect(try file.read(Float.self, from: "/entry/link") == Self.volume)
        #expect(try file.read("/typed/f8") == AnyTensor(Tensor<Double>([1, 2.5, -3])))
        #expect(try file.read("/typed/i8") == AnyTensor(Tensor<Int64>([Int64.min, 0, Int64.max])))
        #expect(try file.read("/typed/u1") == AnyTensor(Tensor<UInt8>([0, 128, 255])))
        #expect(try file.read("/typed/b1") == AnyTensor(Tensor<Bool>([true, false, true])))
        #expect(try file.datasetInfo("/typed/b1").elementType == .bool)
        #expect(try file.read(Complex<Double>.self, from: "/typed/c16") == complex)
        #expect(try file.read("/typed/scalar") == AnyTensor(Tensor<Float>(scalar: 4.5)))
        #expect(try file.read(Int32.self, from: "/chunked/gzip") == Self.counts)
        #expect(try file.read(Int32.self, from: "/chunked/lz4") == Self.counts)
        let gzip = try file.datasetInfo("/chunked/gzip")
        #expect(gzip.chunkShape == [1, 32, 32])
        #expect(gzip.filters.map(\.id) == [2, 1])
        #expect(gzip.filters[1].parameters == [6])
        if bitshuffleAvailable {
            #expect(try file.read(Int32.self, from: "/chunked/bitshuffle") == Self.counts)
            #expect(try file.datasetInfo("/chunked/bitshuffle").filters.map(\.id) == [32008])
        }
        #expect(try file.members(of: "/entry") == ["data", "empty", "link"])
        #expect(try file.softLinkTarget(of: "/entry/link") == "/entry/data/volume")
        #expect(try file.attribute("NX_class", of: "/entry") == .string("NXentry"))
        #expect(try file.attribute("count", of: "/entry") == .integer(7))
        #expect(try file.attribute("energy_keV", of: "/entry") == .number(17.5))
        #expect(try file.attribute("axes", of: "/entry/data") == .strings(["angle", "y", "x"]))
        #expect(try file.attribute("offsets", of: "/entry/data/volume") == .array(AnyTensor(Tensor<Double>([0.5, -1]))))
        #expect(try file.attribute("root") == .string("überall"))
    }

    @Test("bitshuffle/LZ4 writes when the plugin is available and reads back", .enabled(if: bitshuffleAvailable))
    func bitshuffleWrite() throws {
        let folder = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("bitshuffle.h5")
        try HDF5File.write(to: url) { file throws(HDF5Error) in
            try file.write(Self.counts, to: "/data", storage: .chunked([1, 32, 32], filters: [.bitshuffleLZ4]))
        }
        let file = try HDF5File(contentsOf: url)
        #expect(try file.read(Int32.self, from: "/data") == Self.counts)
        #expect(try file.read(Float.self, from: "/data", selection: [1], conversion: .numpyCast)
                == Self.counts[1].map { Float($0) })
    }

    @Test("a failed write leaves no file behind and keeps the previous file")
    func failedWriteLeavesNothing() throws {
        let folder = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("out.h5")
        #expect(throws: HDF5Error.missingFilter(file: url.path, path: "/x", id: 32999, name: "made up")) {
            try HDF5File.write(to: url) { file throws(HDF5Error) in
                try file.write(Self.volume, to: "/ok")
                try file.write(Self.volume, to: "/x", storage: .chunked([1, 3, 4], filters: [HDF5Filter(id: 32999, name: "made up")]))
            }
        }
        #expect(directoryContents(folder).isEmpty)
        // A previous file survives a failed replacement and a failed update.
        try HDF5File.write(to: url) { file throws(HDF5Error) in try file.write(Self.volume, to: "/v") }
        #expect(throws: HDF5Error.self) {
            try HDF5File.write(to: url) { file throws(HDF5Error) in
                try file.write(Self.volume, to: "/v2")
                throw HDF5Error.writeFailure(file: url.path, path: "/v2", reason: "caller gave up")
            }
        }
        #expect(throws: HDF5Error.alreadyExists(file: url.path, path: "/v")) {
            try HDF5File.update(at: url) { file throws(HDF5Error) in
                try file.write(Self.volume, to: "/extra")
                try file.write(Self.volume, to: "/v")
            }
        }
        #expect(directoryContents(folder) == ["out.h5"])
        let file = try HDF5File(contentsOf: url)
        #expect(try file.members() == ["v"])
        #expect(try file.read(Float.self, from: "/v") == Self.volume)
    }

    @Test("update adds to an existing file; overwrite replaces a dataset only when asked")
    func updateAndOverwrite() throws {
        let folder = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("update.h5")
        try HDF5File.write(to: url) { file throws(HDF5Error) in try file.write(Self.volume, to: "/a") }
        try HDF5File.update(at: url) { file throws(HDF5Error) in
            try file.write(Tensor<Double>([1, 2]), to: "/a", overwrite: true)
            try file.write(Tensor<Double>([3]), to: "/g/b")
        }
        let file = try HDF5File(contentsOf: url)
        #expect(try file.read("/a") == AnyTensor(Tensor<Double>([1, 2])))
        #expect(try file.read("/g/b") == AnyTensor(Tensor<Double>([3])))
        #expect(directoryContents(folder) == ["update.h5"])
    }

    @Test("storedType writes detector counts as uint16 / uint32 (libhdf5 converts, saturating) and rejects complex")
    func storedTypes() throws {
        let folder = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("stored.h5")
        let counts = Tensor<Int32>([0, 1, 65535, 70000, -5])
        try HDF5File.write(to: url) { file throws(HDF5Error) in
            try file.write(counts, to: "/u2", storedType: .integer(signed: false, bytes: 2))
            try file.write(counts, to: "/u4", storage: .chunked([5], deflate: 1), storedType: .integer(signed: false, bytes: 4))
            try file.write(Tensor<Double>([0.5, 2]), to: "/f4", storedType: .float(bytes: 4))
            try file.write(Tensor<UInt16>([7, 65535]), to: "/u2_as_i8", storedType: .integer(signed: true, bytes: 8))
        }
        let file = try HDF5File(contentsOf: url)
        #expect(try file.datasetInfo("/u2").elementType == .integer(signed: false, bytes: 2))
        #expect(try file.read(Int64.self, from: "/u2") == Tensor<Int64>([0, 1, 65535, 65535, 0]))
        #expect(try file.read(Int64.self, from: "/u4") == Tensor<Int64>([0, 1, 65535, 70000, 0]))
        #expect(try file.read("/f4") == AnyTensor(Tensor<Float>([0.5, 2])))
        #expect(try file.read("/u2_as_i8") == AnyTensor(Tensor<Int64>([7, 65535])))
        #expect(throws: HDF5Error.typeNotSupported(file: url.path, path: "/c", stored: "uint16", requested: "complex64")) {
            try HDF5File.write(to: url) { file throws(HDF5Error) in
                try file.write(Tensor<Complex<Float>>([Complex(1, 1)]), to: "/c", storedType: .integer(signed: false, bytes: 2))
            }
        }
    }

    @Test("large integer datasets widen to Float/Double exactly across conversion blocks and parallel chunks")
    func largeWidening() throws {
        let folder = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("widen.h5")
        let n = 150_001
        let values = Tensor<Int32>(shape: [n], elements: (0..<n).map { Int32(($0 &* 7919) % 60_000) - 100 })
        let unsigned = values.map { max($0, 0) }
        try HDF5File.write(to: url) { file throws(HDF5Error) in
            try file.write(unsigned, to: "/u2", storedType: .integer(signed: false, bytes: 2))
            try file.write(unsigned, to: "/u4", storage: .chunked([40_000]), storedType: .integer(signed: false, bytes: 4))
            try file.write(values, to: "/i4")
            try file.write(values.map { Int32(Int8(truncatingIfNeeded: $0)) }, to: "/i1", storedType: .integer(signed: true, bytes: 1))
        }
        let file = try HDF5File(contentsOf: url)
        #expect(try file.read(Float.self, from: "/u2") == unsigned.map { Float($0) })
        #expect(try file.read(Double.self, from: "/u2") == unsigned.map { Double($0) })
        #expect(try file.read(Float.self, from: "/u4", conversion: .numpyCast) == unsigned.map { Float($0) })
        #expect(try file.read(Float.self, from: "/u4", selection: [.slice(39_999, 120_001)], conversion: .numpyCast)
                == unsigned[39_999..<120_001].map { Float($0) })
        #expect(try file.read(Float.self, from: "/i4", conversion: .numpyCast) == values.map { Float($0) })
        #expect(try file.read(Double.self, from: "/i1") == values.map { Double(Int8(truncatingIfNeeded: $0)) })
    }

    @Test("bad chunk shapes and filters without chunks are argument errors")
    func badStorage() throws {
        let folder = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("bad.h5")
        #expect(throws: HDF5Error.invalidArgument(name: "chunkShape", expected: "one length in 1...n for each axis of [2, 3, 4]",
                                                  received: "[1, 3]")) {
            try HDF5File.write(to: url) { file throws(HDF5Error) in
                try file.write(Self.volume, to: "/v", storage: .chunked([1, 3]))
            }
        }
        #expect(throws: HDF5Error.self) {
            try HDF5File.write(to: url) { file throws(HDF5Error) in
                try file.write(Self.volume, to: "/v", storage: HDF5Storage(chunkShape: nil, filters: [.shuffle]))
            }
        }
        #expect(directoryContents(folder).isEmpty)
    }
}

/// Read-write opening in place, and the library's state.
@Suite("HDF5 library and in-place writes")
struct HDF5LibraryTests {
    @Test("a file opened .readWrite is changed in place; a .readOnly file refuses writes with a typed error")
    func readWriteInPlace() throws {
        let folder = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("inplace.h5")
        try HDF5File.write(to: url) { file throws(HDF5Error) in try file.createGroup("/g") }
        do {
            let file = try HDF5File(contentsOf: url, mode: .readWrite)
            try file.write(Tensor<Int32>([1, 2, 3]), to: "/g/x")
            try file.setAttribute("note", .string("added"), on: "/g")
            try file.close()
        }
        let file = try HDF5File(contentsOf: url)
        #expect(try file.read(Int32.self, from: "/g/x") == Tensor<Int32>([1, 2, 3]))
        #expect(try file.attribute("note", of: "/g") == .string("added"))
        do {
            try file.write(Tensor<Int32>([4]), to: "/g/y")
            Issue.record("a read-only file accepted a write")
        } catch {
            guard case let .writeFailure(name, path, _) = error else { Issue.record("\(error)"); return }
            #expect(name == url.path && path == "/g/y")
        }
    }

    @Test("libhdf5 1.10 or later, and the default plugin folder is searched unless HDF5_PLUGIN_PATH is set")
    func libraryState() {
        let version = HDF5Library.version
        #expect(version.major == 1 && version.minor >= 10)
        if ProcessInfo.processInfo.environment["HDF5_PLUGIN_PATH"] == nil {
            #expect(!HDF5Library.pluginFolders.isEmpty)
        }
    }
}
