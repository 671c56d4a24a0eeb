import BeamlineIO
import BeamlineTensor
import Foundation

/// A tensor-tomography data set in mumott's HDF5 `DataContainer` layout:
/// the geometry, the per-projection data `(J, K, S)`, diode `(J, K)` and
/// weights, stacked to `(N, J, K, S)`.
///
/// The file layout (mumott 2.3's `DataContainer._h5_to_projections`):
/// `/projections/<i>/` for `i = 0…N−1` with `data`, optional `diode`,
/// `weights` (`(J, K)`, `(J, K, 1)` or `(J, K, S)`), the rotation as
/// `rotation_matrix` (legacy `rot_mat`) or `inner_angle` / `outer_angle`
/// (legacy `rotations` / `tilts`) with optional per-projection or top-level
/// `inner_axis` / `outer_axis`, `j_offset` / `k_offset` (legacy
/// `offset_j` / `offset_k`); at the top level `detector_angles`, and
/// optionally `volume_shape`, `p_direction_0`, `j_direction_0`,
/// `k_direction_0`, `detector_direction_origin`,
/// `detector_direction_positive_90` and `two_theta`. Rasters of unequal
/// size are zero-padded at their high ends to the largest and their
/// offsets shifted by half the padding, as mumott does; the volume
/// defaults to `(J, J, K)` of the largest raster; `full_circle_covered` is
/// estimated from the detector angles as mumott does.
public struct TensorTomographyData: Sendable {
    /// The geometry (rotations, offsets, detector angles, shapes).
    public var geometry: Geometry
    /// The data `(N, J, K, S)`.
    public var data: Tensor<Double>
    /// The diode (transmission) `(N, J, K)`, when every projection has one.
    public var diode: Tensor<Double>?
    /// The weights `(N, J, K, S)`.
    public var weights: Tensor<Double>
    /// Inner (tomographic) angles, when the file gave angles rather than matrices.
    public var innerAngles: [Double]?
    /// Outer (tilt) angles, when the file gave angles.
    public var outerAngles: [Double]?

    /// A data set from its parts.
    ///
    /// - Throws: ``TomographyError`` for shapes that do not agree with the
    ///   geometry (`(N, J, K, S)` with `S` detector angles), or non-finite values.
    public init(geometry: Geometry, data: Tensor<Double>, diode: Tensor<Double>? = nil, weights: Tensor<Double>? = nil) throws(TomographyError) {
        try geometry.validate()
        let expected = [geometry.count] + geometry.projectionShape + [geometry.segmentCount]
        guard data.shape == expected else { throw .shapeMismatch(argument: "data", expected: expected, received: data.shape) }
        let w = weights ?? Tensor(shape: expected, repeating: 1)
        guard w.shape == expected else { throw .shapeMismatch(argument: "weights", expected: expected, received: w.shape) }
        if let diode {
            guard diode.shape == Array(expected[0..<3]) else {
                throw .shapeMismatch(argument: "diode", expected: Array(expected[0..<3]), received: diode.shape)
            }
            guard diode.elements.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "diode") }
        }
        guard data.elements.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "data") }
        guard w.elements.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "weights") }
        self.geometry = geometry
        self.data = data
        self.diode = diode
        self.weights = w
    }

    /// The number of projections in a mumott `DataContainer` HDF5 file
    /// (the groups `/projections/0…N−1`), read without reading any data.
    ///
    /// - Throws: ``TomographyError/file(path:problem:)`` for a missing or
    ///   empty `/projections` group or a gap in the numbering.
    public static func projectionCount(contentsOf url: URL) throws(TomographyError) -> Int {
        let path = url.path
        let file: HDF5File
        do { file = try HDF5File(contentsOf: url) } catch { throw .file(path: path, problem: "\(error)") }
        defer { try? file.close() }
        return try projectionCount(file, path: path)
    }

    /// The projection count of an open file; see ``projectionCount(contentsOf:)``.
    static func projectionCount(_ file: HDF5File, path: String) throws(TomographyError) -> Int {
        guard file.contains("/projections") else { throw .file(path: path, problem: "missing group /projections") }
        let count: Int
        do { count = try file.members(of: "/projections").count } catch { throw .file(path: path, problem: "\(error)") }
        guard count > 0 else { throw .file(path: path, problem: "/projections has no projections") }
        for i in 0..<count where !file.contains("/projections/\(i)") {
            throw .file(path: path, problem: "missing group /projections/\(i) (projections must be numbered 0…\(count - 1))")
        }
        return count
    }

    /// Reads a mumott `DataContainer` HDF5 file, or some of its projections.
    ///
    /// - Parameters:
    ///   - url: the file.
    ///   - nonfiniteReplacement: the value that replaces NaN and ±∞ in data,
    ///     diode and weights; without it, non-finite values are an error (mumott's
    ///     `nonfinite_replacement_value`).
    ///   - projections: read only these projections' data, diode and weights
    ///     (one part of a projection split over processes): the geometry
    ///     then holds only their rotations and offsets, while the raster
    ///     padding, the volume shape and everything else are those of the
    ///     whole file, so the part is exactly those projections of the whole
    ///     data set. nil (the default): every projection.
    /// - Throws: ``TomographyError`` naming the file and the object: a
    ///   missing `projections` group or `detector_angles`, a projection
    ///   without `data`, mismatched shapes, non-finite values, a bad
    ///   rotation, or a `projections` range outside the file's.
    public init(contentsOf url: URL, nonfiniteReplacement: Double? = nil, projections: Range<Int>? = nil) throws(TomographyError) {
        let path = url.path
        func io<R>(_ body: () throws -> R) throws(TomographyError) -> R {
            do { return try body() } catch { throw .file(path: path, problem: "\(error)") }
        }
        let file = try io { try HDF5File(contentsOf: url) }
        defer { try? file.close() }
        let count = try Self.projectionCount(file, path: path)
        let part = projections ?? 0..<count
        guard part.lowerBound >= 0, part.upperBound <= count, !part.isEmpty else {
            throw .invalidArgument(name: "projections", expected: "a non-empty range in 0..<\(count) (the file's projections)",
                                   received: "\(part)")
        }
        func read(_ p: String) throws(TomographyError) -> Tensor<Double> {
            var t = try io { try file.read(Double.self, from: p, conversion: .numpyCast) }
            if t.elements.contains(where: { !$0.isFinite }) {
                guard let r = nonfiniteReplacement else {
                    throw .file(path: path, problem: "\(p) contains NaN or infinite values (give a replacement value to allow them)")
                }
                t = t.map { $0.isFinite ? $0 : r }
            }
            return t
        }
        func vector(_ p: String) throws(TomographyError) -> SIMD3<Double> {
            let v = try read(p).elements
            guard v.count == 3 else { throw .file(path: path, problem: "\(p) has \(v.count) values, expected 3") }
            return SIMD3(v[0], v[1], v[2])
        }
        func scalar(_ p: String) throws(TomographyError) -> Double {
            let v = try read(p).elements
            guard let first = v.first else { throw .file(path: path, problem: "\(p) is empty") }
            return first
        }
        guard file.contains("/detector_angles") else { throw .file(path: path, problem: "missing dataset /detector_angles") }
        let angles = try read("/detector_angles").elements
        guard !angles.isEmpty else { throw .file(path: path, problem: "/detector_angles is empty (zero detector segments)") }
        // mumott's two_theta: one ring, or several whose azimuthal bins
        // follow each other in the data's last axis.
        let twoTheta = file.contains("/two_theta") ? try read("/two_theta").elements : [0]
        guard !twoTheta.isEmpty else { throw .file(path: path, problem: "/two_theta is empty (no scattering angle)") }
        let segments = angles.count * twoTheta.count
        var rasters: [[Int]] = []
        for i in 0..<count {
            let base = "/projections/\(i)"
            let key = file.contains(base + "/diode") ? base + "/diode" : base + "/data"
            guard file.contains(key) else { throw .file(path: path, problem: "missing dataset \(base)/data") }
            let shape = try io { try file.shape(of: key) }
            guard shape.count >= 2 else { throw .file(path: path, problem: "\(key) has shape \(shape), expected (J, K[, S])") }
            rasters.append(Array(shape[0..<2]))
        }
        let nj = rasters.map { $0[0] }.max()!, nk = rasters.map { $0[1] }.max()!
        let local = part.count
        var data = [Double](repeating: 0, count: local * nj * nk * segments)
        var weights = [Double](repeating: 0, count: local * nj * nk * segments)
        var diode: [Double]? = file.contains("/projections/0/diode") ? [Double](repeating: 0, count: local * nj * nk) : nil
        var rotations: [Matrix3] = [], jOffsets: [Double] = [], kOffsets: [Double] = []
        var inner: [Double] = [], outer: [Double] = []
        var anglesOnly = true
        var innerAxis = SIMD3<Double>(0, 0, -1), outerAxis = SIMD3<Double>(1, 0, 0)
        if file.contains("/inner_axis") { innerAxis = try vector("/inner_axis") }
        if file.contains("/outer_axis") { outerAxis = try vector("/outer_axis") }
        for i in 0..<count {
            let base = "/projections/\(i)"
            let (pj, pk) = (rasters[i][0], rasters[i][1])
            guard file.contains(base + "/data") else { throw .file(path: path, problem: "missing dataset \(base)/data") }
            // The data of this part's projections; the rotations and offsets of all (a
            // projection's axes default to projection 0's).
            if part.contains(i) {
                let l = i - part.lowerBound
                let d = try read(base + "/data")
                guard d.shape == [pj, pk, segments] else {
                    throw .file(path: path, problem: "\(base)/data has shape \(d.shape), expected \([pj, pk, segments]) (\(angles.count) detector angles × \(twoTheta.count) 2θ rings)")
                }
                let de = d.elements
                var we: [Double]
                if file.contains(base + "/weights") {
                    let w = try read(base + "/weights")
                    if w.shape == [pj, pk] || w.shape == [pj, pk, 1] {
                        we = []
                        we.reserveCapacity(w.count * segments)
                        for v in w.elements { for _ in 0..<segments { we.append(v) } }
                    } else if w.shape == [pj, pk, segments] {
                        we = w.elements
                    } else {
                        throw .file(path: path, problem: "\(base)/weights has shape \(w.shape), expected \([pj, pk]) or \([pj, pk, segments])")
                    }
                } else {
                    // mumott: ones_like(padded data), so the padding gets weight 1 too.
                    we = [Double](repeating: 1, count: de.count)
                    for v in (l * nj * nk * segments)..<((l + 1) * nj * nk * segments) { weights[v] = 1 }
                }
                for j in 0..<pj {
                    for k in 0..<pk {
                        let target: Int = ((l * nj + j) * nk + k) * segments
                        let source: Int = (j * pk + k) * segments
                        for c in 0..<segments {
                            data[target + c] = de[source + c]
                            weights[target + c] = we[source + c]
                        }
                    }
                }
                if diode != nil {
                    guard file.contains(base + "/diode") else { throw .file(path: path, problem: "missing dataset \(base)/diode (projection 0 has one)") }
                    let t = try read(base + "/diode")
                    guard t.shape == [pj, pk] else { throw .file(path: path, problem: "\(base)/diode has shape \(t.shape), expected \([pj, pk])") }
                    let te = t.elements
                    for j in 0..<pj { for k in 0..<pk { diode![(l * nj + j) * nk + k] = te[j * pk + k] } }
                }
            }
            var pInner = innerAxis, pOuter = outerAxis
            if file.contains(base + "/inner_axis") { pInner = try vector(base + "/inner_axis"); if i == 0 { innerAxis = pInner } }
            if file.contains(base + "/outer_axis") { pOuter = try vector(base + "/outer_axis"); if i == 0 { outerAxis = pOuter } }
            var ia: Double? = nil, oa: Double? = nil
            if file.contains(base + "/inner_angle") { ia = try scalar(base + "/inner_angle") }
            else if file.contains(base + "/rotations") { ia = try scalar(base + "/rotations") }
            if file.contains(base + "/outer_angle") { oa = try scalar(base + "/outer_angle") }
            else if file.contains(base + "/tilts") { oa = try scalar(base + "/tilts") }
            if ia != nil || oa != nil { ia = ia ?? 0; oa = oa ?? 0 }
            let rotation: Matrix3
            if file.contains(base + "/rotation_matrix") || file.contains(base + "/rot_mat") {
                let r = try read(file.contains(base + "/rotation_matrix") ? base + "/rotation_matrix" : base + "/rot_mat").elements
                guard r.count == 9 else { throw .file(path: path, problem: "\(base)/rotation_matrix has \(r.count) values, expected 9") }
                rotation = Matrix3(rowMajor: r)
                anglesOnly = false
            } else if let ia, let oa {
                rotation = Matrix3.rotation(axis: pOuter, angle: oa) * Matrix3.rotation(axis: pInner, angle: ia)
            } else {
                rotation = .identity
                anglesOnly = false
            }
            rotations.append(rotation)
            inner.append(ia ?? 0); outer.append(oa ?? 0)
            var jo = 0.0, ko = 0.0
            if file.contains(base + "/j_offset") { jo = try scalar(base + "/j_offset") } else if file.contains(base + "/offset_j") { jo = try scalar(base + "/offset_j") }
            if file.contains(base + "/k_offset") { ko = try scalar(base + "/k_offset") } else if file.contains(base + "/offset_k") { ko = try scalar(base + "/offset_k") }
            jOffsets.append(jo - Double(nj - pj) * 0.5)
            kOffsets.append(ko - Double(nk - pk) * 0.5)
        }
        var volume = [nj, nj, nk]
        if file.contains("/volume_shape") { volume = try read("/volume_shape").elements.map { Int($0) } }
        var geometry: Geometry
        do {
            geometry = try Geometry(rotations: Array(rotations[part]), jOffsets: Array(jOffsets[part]), kOffsets: Array(kOffsets[part]),
                                    volumeShape: volume, projectionShape: [nj, nk])
        } catch {
            throw .file(path: path, problem: error.description)
        }
        if file.contains("/p_direction_0") {
            geometry.pDirection0 = try vector("/p_direction_0")
            geometry.jDirection0 = try vector("/j_direction_0")
            geometry.kDirection0 = try vector("/k_direction_0")
        }
        if file.contains("/detector_direction_origin") {
            geometry.detectorDirectionOrigin = try vector("/detector_direction_origin")
            geometry.detectorDirectionPositive90 = try vector("/detector_direction_positive_90")
        }
        if file.contains("/two_theta") { geometry.twoTheta = twoTheta }
        geometry.detectorAngles = angles
        // mumott's _estimate_angular_coverage.
        let twoPi = 2 * Double.pi
        let last = angles[angles.count - 1].truncatingRemainder(dividingBy: twoPi)
        let delta = Swift.abs(angles[0] - (last < 0 ? last + twoPi : last))
        geometry.fullCircleCovered = !(Swift.abs(delta - Double.pi) < Swift.min(delta, Swift.abs(delta - twoPi)))
        do { try geometry.validate() } catch { throw .file(path: path, problem: error.description) }
        try self.init(geometry: geometry, data: Tensor(shape: [local, nj, nk, segments], elements: data),
                      diode: diode.map { Tensor(shape: [local, nj, nk], elements: $0) },
                      weights: Tensor(shape: [local, nj, nk, segments], elements: weights))
        if anglesOnly { innerAngles = Array(inner[part]); outerAngles = Array(outer[part]) }
    }

    /// Writes the data set in mumott's layout (rotation matrices, offsets,
    /// data, weights, diode, the geometry vectors), atomically; mumott's
    /// `DataContainer` reads it back.
    ///
    /// - Throws: ``TomographyError/file(path:problem:)`` when writing fails.
    public func write(to url: URL) throws(TomographyError) {
        let g = geometry
        let (n, nj, nk, s) = (g.count, g.projectionShape[0], g.projectionShape[1], g.segmentCount)
        let d = data.elements, w = weights.elements, t = diode?.elements
        do {
            try HDF5File.write(to: url) { (file) throws(HDF5Error) in
                try file.createGroup("/projections")
                for i in 0..<n {
                    let base = "/projections/\(i)"
                    try file.createGroup(base)
                    try file.write(Tensor(shape: [nj, nk, s], elements: Array(d[(i * nj * nk * s)..<((i + 1) * nj * nk * s)])), to: base + "/data")
                    try file.write(Tensor(shape: [nj, nk, s], elements: Array(w[(i * nj * nk * s)..<((i + 1) * nj * nk * s)])), to: base + "/weights")
                    if let t { try file.write(Tensor(shape: [nj, nk], elements: Array(t[(i * nj * nk)..<((i + 1) * nj * nk)])), to: base + "/diode") }
                    try file.write(Tensor(shape: [3, 3], elements: g.rotations[i].rowMajor), to: base + "/rotation_matrix")
                    try file.write(Tensor(shape: [1], elements: [g.jOffsets[i]]), to: base + "/j_offset")
                    try file.write(Tensor(shape: [1], elements: [g.kOffsets[i]]), to: base + "/k_offset")
                }
                try file.write(Tensor(shape: [g.detectorAngles.count], elements: g.detectorAngles), to: "/detector_angles")
                try file.write(Tensor<Int64>(shape: [3], elements: g.volumeShape.map { Int64($0) }), to: "/volume_shape")
                for (name, v) in [("p_direction_0", g.pDirection0), ("j_direction_0", g.jDirection0), ("k_direction_0", g.kDirection0),
                                  ("detector_direction_origin", g.detectorDirectionOrigin),
                                  ("detector_direction_positive_90", g.detectorDirectionPositive90)] {
                    try file.write(Tensor(shape: [3], elements: [v.x, v.y, v.z]), to: "/" + name)
                }
                try file.write(Tensor(shape: [g.twoTheta.count], elements: g.twoTheta), to: "/two_theta")
            }
        } catch {
            throw .file(path: url.path, problem: error.description)
        }
    }

    /// mumott's `correct_for_transmission`: the data divided by the diode
    /// (per pixel, all segments). Where the diode is zero (the padding of
    /// unequal rasters) the result is 0; mumott divides and gets NaN there.
    ///
    /// - Throws: ``TomographyError`` when there is no diode.
    public func correctedForTransmission() throws(TomographyError) -> Tensor<Double> {
        guard let diode else { throw .invalidArgument(name: "diode", expected: "a diode for the transmission correction", received: "none") }
        let t = diode.elements
        let s = data.shape[3]
        var d = data.elements
        for i in d.indices { d[i] = t[i / s] == 0 ? 0 : d[i] / t[i / s] }
        return Tensor(shape: data.shape, elements: d)
    }

    /// mumott's `get_absorbances(diode, normalize_per_projection=True)`:
    /// per projection the diode divided by its `percentile` (NumPy's linear
    /// percentile, default 99.9), clipped to `cutoff` (default 1e-4…1) so the
    /// logarithm is finite, then `−log10`; `(N, J, K, 1)`.
    ///
    /// - Throws: ``TomographyError`` when there is no diode or a projection's
    ///   percentile is not positive.
    public func absorbances(percentile: Double = 99.9, cutoff: (Double, Double) = (1e-4, 1)) throws(TomographyError) -> Tensor<Double> {
        try absorbancesAndCutoffMask(percentile: percentile, cutoff: cutoff).absorbances
    }

    /// ``absorbances(percentile:cutoff:)`` and, per pixel `(N, J, K)`
    /// flattened, whether the normalised transmittivity lay inside `cutoff`
    /// before clipping (mumott's `cutoff_mask`).
    func absorbancesAndCutoffMask(percentile: Double, cutoff: (Double, Double)) throws(TomographyError)
        -> (absorbances: Tensor<Double>, inRange: [Bool]) {
        guard let diode else { throw .invalidArgument(name: "diode", expected: "a diode for absorbances", received: "none") }
        let (n, nj, nk) = (diode.shape[0], diode.shape[1], diode.shape[2])
        let t = diode.elements
        var out = [Double](repeating: 0, count: t.count)
        var inRange = [Bool](repeating: false, count: t.count)
        let m = nj * nk
        for i in 0..<n {
            let slice = Array(t[(i * m)..<((i + 1) * m)])
            let sorted = slice.sorted()
            let position = percentile / 100 * Double(m - 1)
            let lo = Int(position.rounded(.down)), hi = Swift.min(lo + 1, m - 1)
            let norm = sorted[lo] + (sorted[hi] - sorted[lo]) * (position - Double(lo))
            guard norm > 0 else {
                throw .invalidArgument(name: "diode", expected: "a positive \(percentile)th percentile per projection", received: "\(norm) in projection \(i)")
            }
            for j in 0..<m {
                let transmittivity = slice[j] / norm
                inRange[i * m + j] = transmittivity >= cutoff.0 && transmittivity <= cutoff.1
                out[i * m + j] = -log10(Swift.min(cutoff.1, Swift.max(cutoff.0, transmittivity)))
            }
        }
        return (Tensor(shape: [n, nj, nk, 1], elements: out), inRange)
    }
}
