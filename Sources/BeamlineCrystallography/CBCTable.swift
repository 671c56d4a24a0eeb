import BeamlineIO
import BeamlineTensor
import Foundation

/// A convergent-beam crystallography (CBC) table: one row per detector
/// pixel of a Bragg streak, in cbclib's column convention.
///
/// | column | cbclib name | meaning |
/// |---|---|---|
/// | ``frames`` | `frames` | frame (pattern) index |
/// | ``streaks`` | `index` | streak index (one frame and one reflection per streak) |
/// | ``x``, ``y`` | `x`, `y` | pixel coordinates (rows of one frame with equal `x`, `y` share a pixel) |
/// | ``counts`` | `I_raw` | measured photon counts |
/// | ``background`` | `bgd` | background level |
/// | ``profile`` | `rp` | standard reflection profile f² |
/// | ``kins`` | `kins` (N×2) | aperture coordinates u(x) of the row |
/// | ``hkl`` | `hkl` (N×3) | Miller indices of the row's streak |
///
/// The initialiser validates the table: equal column lengths, non-negative
/// frame, streak and pixel indices, finite values, a non-negative profile,
/// and one frame and one (h, k, l) per streak. Rows may come in any order.
public struct CBCTable: Sendable, Equatable {
    /// Frame index of each row (`frames`).
    public private(set) var frames: [Int32]
    /// Streak index of each row (cbclib's `index`).
    public private(set) var streaks: [Int32]
    /// Pixel column of each row (`x`).
    public private(set) var x: [Int32]
    /// Pixel row of each row (`y`).
    public private(set) var y: [Int32]
    /// Measured photon counts (`I_raw`).
    public private(set) var counts: [Float]
    /// Background level (`bgd`).
    public private(set) var background: [Float]
    /// Standard reflection profile f² (`rp`).
    public private(set) var profile: [Float]
    /// Aperture coordinates u(x) = k_out(x) − g_hkl of each row (`kins`, N×2).
    public private(set) var kins: [SIMD2<Float>]
    /// Miller indices of each row (`hkl`, N×3).
    public private(set) var hkl: [SIMD3<Int32>]

    /// The number of rows.
    public var count: Int { frames.count }

    /// The column names of cbclib, as written to `.npz` and HDF5 files.
    public static let columnNames = ["frames", "index", "x", "y", "I_raw", "bgd", "rp", "kins", "hkl"]

    /// Creates a validated table.
    ///
    /// - Throws: ``CrystallographyError/argument(_:)`` naming the column
    ///   (cbclib's name) for a length that differs from `frames`, a
    ///   negative index, a NaN or infinity, a negative profile value, or a
    ///   streak that spans two frames or two (h, k, l).
    public init(frames: [Int32], streaks: [Int32], x: [Int32], y: [Int32], counts: [Float], background: [Float],
                profile: [Float], kins: [SIMD2<Float>], hkl: [SIMD3<Int32>]) throws(CrystallographyError) {
        let n = frames.count
        let lengths: [(String, Int)] = [("index", streaks.count), ("x", x.count), ("y", y.count), ("I_raw", counts.count),
                                        ("bgd", background.count), ("rp", profile.count), ("kins", kins.count),
                                        ("hkl", hkl.count)]
        for (name, length) in lengths where length != n {
            throw .shapeMismatch(argument: name, expected: [n], received: [length])
        }
        for (name, column) in [("frames", frames), ("index", streaks), ("x", x), ("y", y)] {
            if let bad = column.firstIndex(where: { $0 < 0 }) {
                throw .invalidArgument(name: name, expected: "non-negative indices",
                                       received: "\(column[bad]) at row \(bad)")
            }
        }
        for (name, column) in [("I_raw", counts), ("bgd", background), ("rp", profile)] where column.contains(where: { !$0.isFinite }) {
            throw .nonFiniteValues(argument: name)
        }
        if kins.contains(where: { !$0.x.isFinite || !$0.y.isFinite }) { throw .nonFiniteValues(argument: "kins") }
        if let bad = profile.firstIndex(where: { $0 < 0 }) {
            throw .invalidArgument(name: "rp", expected: "non-negative profile values", received: "\(profile[bad]) at row \(bad)")
        }
        var owner: [Int32: (frame: Int32, hkl: SIMD3<Int32>, row: Int)] = [:]
        for i in 0..<n {
            if let o = owner[streaks[i]] {
                if o.frame != frames[i] {
                    throw .invalidArgument(name: "index", expected: "each streak in one frame",
                                           received: "streak \(streaks[i]) in frames \(o.frame) (row \(o.row)) and \(frames[i]) (row \(i))")
                }
                if o.hkl != hkl[i] {
                    throw .invalidArgument(name: "hkl", expected: "one (h, k, l) per streak",
                                           received: "streak \(streaks[i]) with \(o.hkl) (row \(o.row)) and \(hkl[i]) (row \(i))")
                }
            } else {
                owner[streaks[i]] = (frames[i], hkl[i], i)
            }
        }
        self.frames = frames
        self.streaks = streaks
        self.x = x
        self.y = y
        self.counts = counts
        self.background = background
        self.profile = profile
        self.kins = kins
        self.hkl = hkl
    }

    /// The rows `indices` (in that order) as a new table.
    public func rows(_ indices: [Int]) -> CBCTable {
        // A subset of a valid table is valid.
        try! CBCTable(frames: indices.map { frames[$0] }, streaks: indices.map { streaks[$0] },
                      x: indices.map { x[$0] }, y: indices.map { y[$0] }, counts: indices.map { counts[$0] },
                      background: indices.map { background[$0] }, profile: indices.map { profile[$0] },
                      kins: indices.map { kins[$0] }, hkl: indices.map { hkl[$0] })
    }

    /// Checks that the counts suit the Poisson criterion (non-negative).
    ///
    /// - Throws: ``CrystallographyError/argument(_:)`` naming `I_raw`.
    public func checkPoissonCounts() throws(CrystallographyError) {
        if let bad = counts.firstIndex(where: { $0 < 0 }) {
            throw .invalidArgument(name: "I_raw", expected: "non-negative photon counts for the Poisson criterion",
                                   received: "\(counts[bad]) at row \(bad)")
        }
    }

    // MARK: - Files

    /// The table's columns as cbclib names them (`kins` N×2 and `hkl` N×3
    /// as 2-D arrays; integer columns as int32, the others as float32).
    public var columns: [(String, AnyTensor)] {
        let n = count
        return [
            ("frames", AnyTensor(Tensor(shape: [n], elements: frames))),
            ("index", AnyTensor(Tensor(shape: [n], elements: streaks))),
            ("x", AnyTensor(Tensor(shape: [n], elements: x))),
            ("y", AnyTensor(Tensor(shape: [n], elements: y))),
            ("I_raw", AnyTensor(Tensor(shape: [n], elements: counts))),
            ("bgd", AnyTensor(Tensor(shape: [n], elements: background))),
            ("rp", AnyTensor(Tensor(shape: [n], elements: profile))),
            ("kins", AnyTensor(Tensor(shape: [n, 2], elements: kins.flatMap { [$0.x, $0.y] }))),
            ("hkl", AnyTensor(Tensor(shape: [n, 3], elements: hkl.flatMap { [$0.x, $0.y, $0.z] }))),
        ]
    }

    /// Creates a validated table from cbclib-named columns (any numeric
    /// dtype; integer columns must hold integral values).
    ///
    /// - Throws: ``CrystallographyError/file(path:problem:)`` for a missing
    ///   column, ``CrystallographyError/argument(_:)`` for a column of the
    ///   wrong shape or with values the table does not accept.
    public init(columns: [String: AnyTensor], source: String = "<memory>") throws(CrystallographyError) {
        func column(_ name: String) throws(CrystallographyError) -> AnyTensor {
            guard let c = columns[name] else { throw .file(path: source, problem: "no column \"\(name)\"") }
            return c
        }
        func doubles(_ name: String, width: Int) throws(CrystallographyError) -> [Double] {
            let c = try column(name)
            let expected = width == 1 ? 1 : 2
            guard c.shape.count == expected, width == 1 || c.shape[1] == width else {
                throw .invalidArgument(name: name, expected: width == 1 ? "a 1-D column" : "an N×\(width) array",
                                       received: "shape \(c.shape)")
            }
            switch c.dtype {
            case .complex64, .complex128:
                throw .invalidArgument(name: name, expected: "a real or integer column", received: "\(c.dtype)")
            default: break
            }
            return c.cast(to: Double.self).elements
        }
        func integers(_ name: String, width: Int = 1) throws(CrystallographyError) -> [Int32] {
            let values = try doubles(name, width: width)
            var out = [Int32](repeating: 0, count: values.count)
            for i in values.indices {
                let v = values[i]
                guard v.isFinite, v == v.rounded(), Swift.abs(v) <= Double(Int32.max) else {
                    throw .invalidArgument(name: name, expected: "integers in the Int32 range", received: "\(v) at element \(i)")
                }
                out[i] = Int32(v)
            }
            return out
        }
        func floats(_ name: String, width: Int = 1) throws(CrystallographyError) -> [Float] {
            try doubles(name, width: width).map { Float($0) }
        }
        let k = try floats("kins", width: 2)
        let h = try integers("hkl", width: 3)
        try self.init(frames: try integers("frames"), streaks: try integers("index"), x: try integers("x"),
                      y: try integers("y"), counts: try floats("I_raw"), background: try floats("bgd"),
                      profile: try floats("rp"),
                      kins: (0..<(k.count / 2)).map { SIMD2(k[2 * $0], k[2 * $0 + 1]) },
                      hkl: (0..<(h.count / 3)).map { SIMD3(h[3 * $0], h[3 * $0 + 1], h[3 * $0 + 2]) })
    }

    /// Reads a table from an `.npz` archive or an HDF5 file (`.h5`, `.hdf5`,
    /// `.cxi`, `.nxs`), one array per column, cbclib's names; in HDF5 the
    /// datasets sit in `group` (default the root).
    ///
    /// - Throws: ``CrystallographyError/file(path:problem:)`` when the file
    ///   cannot be read or lacks a column, ``CrystallographyError/argument(_:)``
    ///   when the columns do not make a valid table.
    public static func read(from url: URL, group: String = "/") throws(CrystallographyError) -> CBCTable {
        var members: [String: AnyTensor] = [:]
        if url.pathExtension.lowercased() == "npz" {
            do {
                let archive = try NumpyArchive(contentsOf: url)
                for name in columnNames where archive.contains(name) { members[name] = try archive.read(name) }
            } catch { throw .file(path: url.path, problem: error.description) }
        } else {
            do {
                let file = try HDF5File(contentsOf: url)
                defer { try? file.close() }
                let prefix = group.hasSuffix("/") ? group : group + "/"
                for name in columnNames where file.contains(prefix + name) { members[name] = try file.read(prefix + name) }
            } catch { throw .file(path: url.path, problem: error.description) }
        }
        return try CBCTable(columns: members, source: url.path)
    }

    /// Writes the table to an `.npz` archive or (any other extension) an
    /// HDF5 file, one array per column with cbclib's names, replacing the
    /// file atomically.
    ///
    /// - Throws: ``CrystallographyError/file(path:problem:)``.
    public func write(to url: URL) throws(CrystallographyError) {
        let members = columns
        if url.pathExtension.lowercased() == "npz" {
            do { try NumpyArchive.write(members, to: url) } catch { throw .file(path: url.path, problem: error.description) }
        } else {
            do {
                try HDF5File.write(to: url) { (file) throws(HDF5Error) in
                    for (name, tensor) in members { try file.write(tensor, to: "/" + name) }
                }
            } catch { throw .file(path: url.path, problem: error.description) }
        }
    }
}
