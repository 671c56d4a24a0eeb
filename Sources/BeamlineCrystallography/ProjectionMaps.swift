import BeamlineIO
import BeamlineTensor
import Foundation

/// The sample's projection maps χₙ(u): one map per frame on a rectilinear
/// grid of aperture coordinates u = (uₓ, u_y), as cbclib's `xtal` (a
/// `Map3D` whose third axis is the frame).
public struct ProjectionMaps: Sendable, Equatable {
    /// Grid coordinates along uₓ, strictly increasing.
    public private(set) var gridX: [Double]
    /// Grid coordinates along u_y, strictly increasing.
    public private(set) var gridY: [Double]
    /// The frame index (the table's `frames` value) of each map, increasing.
    public private(set) var frames: [Int32]
    /// Map values, frame-major then row-major: `values[(f · ny + iy) · nx + ix]`.
    public var values: [Float]

    /// The number of grid points along uₓ.
    public var nx: Int { gridX.count }
    /// The number of grid points along u_y.
    public var ny: Int { gridY.count }

    /// Creates maps, validated.
    ///
    /// - Throws: ``CrystallographyError/argument(_:)`` for an empty or not
    ///   strictly increasing grid, frames that are not strictly increasing,
    ///   a value count other than frames × ny × nx, or non-finite values.
    public init(gridX: [Double], gridY: [Double], frames: [Int32], values: [Float]) throws(CrystallographyError) {
        for (name, grid) in [("gridX", gridX), ("gridY", gridY)] {
            guard !grid.isEmpty else { throw .invalidArgument(name: name, expected: "at least one grid point", received: "none") }
            if grid.contains(where: { !$0.isFinite }) { throw .nonFiniteValues(argument: name) }
            for i in 1..<grid.count where !(grid[i] > grid[i - 1]) {
                throw .invalidArgument(name: name, expected: "strictly increasing coordinates",
                                       received: "\(grid[i - 1]), \(grid[i]) at \(i - 1), \(i)")
            }
        }
        for i in frames.indices.dropFirst() where !(frames[i] > frames[i - 1]) {
            throw .invalidArgument(name: "frames", expected: "strictly increasing frame indices",
                                   received: "\(frames[i - 1]), \(frames[i])")
        }
        guard values.count == frames.count * gridX.count * gridY.count else {
            throw .shapeMismatch(argument: "values", expected: [frames.count, gridY.count, gridX.count], received: [values.count])
        }
        if values.contains(where: { !$0.isFinite }) { throw .nonFiniteValues(argument: "values") }
        self.gridX = gridX
        self.gridY = gridY
        self.frames = frames
        self.values = values
    }

    /// Maps equal to one on a grid of `nx` × `ny` points spanning the
    /// table's aperture coordinates (`numpy.linspace(kins.min, kins.max, n)`
    /// per axis, as cbclib's `CBCTable.scale`), one per frame of `table`.
    ///
    /// - Throws: ``CrystallographyError/argument(_:)`` for fewer than one
    ///   point per axis or an empty table.
    public static func uniform(covering table: CBCTable, nx: Int, ny: Int) throws(CrystallographyError) -> ProjectionMaps {
        guard nx >= 1, ny >= 1 else {
            throw .invalidArgument(name: "grid shape", expected: "at least 1 × 1 points", received: "\(nx) × \(ny)")
        }
        guard table.count > 0 else { throw .invalidArgument(name: "table", expected: "at least one row", received: "0 rows") }
        var lo = SIMD2<Double>(.infinity, .infinity), hi = -lo
        for k in table.kins {
            let d = SIMD2<Double>(Double(k.x), Double(k.y))
            lo = pointwiseMin(lo, d)
            hi = pointwiseMax(hi, d)
        }
        func linspace(_ a: Double, _ b: Double, _ n: Int) -> [Double] {
            if n == 1 { return [a] }
            if !(b > a) { return (0..<n).map { a + Double($0) } }  // degenerate axis: unit spacing from a
            return (0..<n).map { i in i == n - 1 ? b : a + (b - a) * Double(i) / Double(n - 1) }
        }
        let frames = Array(Set(table.frames)).sorted()
        return try ProjectionMaps(gridX: linspace(lo.x, hi.x, nx), gridY: linspace(lo.y, hi.y, ny), frames: frames,
                                  values: [Float](repeating: 1, count: frames.count * nx * ny))
    }

    /// Lower and upper grid index around `u` (cbclib's `search_lbound` /
    /// `search_rbound`): equal (clamped) outside the grid.
    @inlinable
    static func bracket(_ u: Double, _ grid: UnsafeBufferPointer<Double>) -> (Int, Int, Double) {
        let n = grid.count
        if u <= grid[0] { return (0, 0, 0) }
        if u >= grid[n - 1] { return (n - 1, n - 1, 0) }
        var lo = 0, hi = n - 1  // grid[lo] < u < grid[hi] holds; find grid[lo] <= u < grid[lo + 1]
        while hi - lo > 1 {
            let mid = (lo + hi) >> 1
            if grid[mid] <= u { lo = mid } else { hi = mid }
        }
        return (lo, lo + 1, (u - grid[lo]) / (grid[lo + 1] - grid[lo]))
    }

    /// The map of frame position `f` (index into ``frames``) at `u`, by
    /// bilinear interpolation: weight 1 − t on the lower and t on the upper
    /// neighbour along each axis (cbclib v0.7.2 swaps the two weights), the
    /// edge value outside the grid.
    public func interpolate(framePosition f: Int, at u: SIMD2<Float>) -> Float {
        gridX.withUnsafeBufferPointer { gx in
            gridY.withUnsafeBufferPointer { gy in
                values.withUnsafeBufferPointer { v in
                    Self.bilinear(v, f * nx * ny, gx, gy, u)
                }
            }
        }
    }

    @inlinable
    static func bilinear(_ v: UnsafeBufferPointer<Float>, _ base: Int, _ gx: UnsafeBufferPointer<Double>,
                         _ gy: UnsafeBufferPointer<Double>, _ u: SIMD2<Float>) -> Float {
        let (x0, x1, tx) = bracket(Double(u.x), gx)
        let (y0, y1, ty) = bracket(Double(u.y), gy)
        let nx = gx.count
        let v00 = Double(v[base + y0 * nx + x0]), v01 = Double(v[base + y0 * nx + x1])
        let v10 = Double(v[base + y1 * nx + x0]), v11 = Double(v[base + y1 * nx + x1])
        let top = (1 - tx) * v00 + tx * v01
        let bottom = (1 - tx) * v10 + tx * v11
        return Float((1 - ty) * top + ty * bottom)
    }

    // MARK: - Files

    /// Writes the maps to an `.npz` archive or (other extensions) an HDF5
    /// file: `x` (nx), `y` (ny), `frames` (F) and `maps` (F × ny × nx),
    /// replacing the file atomically.
    ///
    /// - Throws: ``CrystallographyError/file(path:problem:)``.
    public func write(to url: URL) throws(CrystallographyError) {
        let members: [(String, AnyTensor)] = [
            ("x", AnyTensor(Tensor(shape: [nx], elements: gridX))),
            ("y", AnyTensor(Tensor(shape: [ny], elements: gridY))),
            ("frames", AnyTensor(Tensor(shape: [frames.count], elements: frames))),
            ("maps", AnyTensor(Tensor(shape: [frames.count, ny, nx], elements: values))),
        ]
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

    /// Reads maps written by ``write(to:)``.
    ///
    /// - Throws: ``CrystallographyError/file(path:problem:)`` when the file
    ///   cannot be read or lacks an array, ``CrystallographyError/argument(_:)``
    ///   when the arrays do not make valid maps.
    public static func read(from url: URL) throws(CrystallographyError) -> ProjectionMaps {
        var m: [String: AnyTensor] = [:]
        do {
            if url.pathExtension.lowercased() == "npz" {
                let archive = try NumpyArchive(contentsOf: url)
                for name in ["x", "y", "frames", "maps"] where archive.contains(name) { m[name] = try archive.read(name) }
            } else {
                let file = try HDF5File(contentsOf: url)
                defer { try? file.close() }
                for name in ["x", "y", "frames", "maps"] where file.contains("/" + name) { m[name] = try file.read("/" + name) }
            }
        } catch { throw .file(path: url.path, problem: "\(error)") }
        for name in ["x", "y", "frames", "maps"] where m[name] == nil {
            throw .file(path: url.path, problem: "no array \"\(name)\"")
        }
        let frames = m["frames"]!.cast(to: Double.self).elements
        guard frames.allSatisfy({ $0 == $0.rounded() && Swift.abs($0) <= Double(Int32.max) }) else {
            throw .invalidArgument(name: "frames", expected: "integer frame indices", received: "non-integer values")
        }
        return try ProjectionMaps(gridX: m["x"]!.cast(to: Double.self).elements, gridY: m["y"]!.cast(to: Double.self).elements,
                                  frames: frames.map { Int32($0) }, values: m["maps"]!.cast(to: Float.self).elements)
    }
}
