import BeamlineTensor
import Foundation

/// A 3×3 matrix of `Double`s stored by rows (for rotations).
@frozen
public struct Matrix3: Sendable, Equatable {
    /// The rows.
    public var rows: (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>)

    /// A matrix from its three rows.
    @inlinable
    public init(rows r0: SIMD3<Double>, _ r1: SIMD3<Double>, _ r2: SIMD3<Double>) { rows = (r0, r1, r2) }

    /// A matrix from 9 numbers in row-major order.
    @inlinable
    public init(rowMajor v: [Double]) {
        precondition(v.count == 9, "Matrix3(rowMajor:) needs 9 values, received \(v.count)")
        rows = (SIMD3(v[0], v[1], v[2]), SIMD3(v[3], v[4], v[5]), SIMD3(v[6], v[7], v[8]))
    }

    /// The identity.
    public static let identity = Matrix3(rows: SIMD3(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1))

    /// The 9 entries in row-major order.
    @inlinable public var rowMajor: [Double] {
        [rows.0.x, rows.0.y, rows.0.z, rows.1.x, rows.1.y, rows.1.z, rows.2.x, rows.2.y, rows.2.z]
    }

    /// Entry (row, column).
    @inlinable
    public subscript(row: Int, column: Int) -> Double {
        switch row { case 0: return rows.0[column]; case 1: return rows.1[column]; default: return rows.2[column] }
    }

    /// The transpose.
    @inlinable public var transposed: Matrix3 {
        Matrix3(rows: SIMD3(rows.0.x, rows.1.x, rows.2.x), SIMD3(rows.0.y, rows.1.y, rows.2.y),
                SIMD3(rows.0.z, rows.1.z, rows.2.z))
    }

    /// `M v`.
    @inlinable
    public func multiply(_ v: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3((rows.0 * v).sum(), (rows.1 * v).sum(), (rows.2 * v).sum())
    }

    /// `Mᵀ v`: how mumott maps a lab (system) vector into the sample frame.
    @inlinable
    public func transposeMultiply(_ v: SIMD3<Double>) -> SIMD3<Double> {
        rows.0 * v.x + rows.1 * v.y + rows.2 * v.z
    }

    /// The product `self · other`.
    @inlinable
    public static func * (a: Matrix3, b: Matrix3) -> Matrix3 {
        let bt = b.transposed
        func row(_ r: SIMD3<Double>) -> SIMD3<Double> { SIMD3((r * bt.rows.0).sum(), (r * bt.rows.1).sum(), (r * bt.rows.2).sum()) }
        return Matrix3(rows: row(a.rows.0), row(a.rows.1), row(a.rows.2))
    }

    /// Determinant.
    @inlinable public var determinant: Double {
        let (a, b, c) = rows
        return a.x * (b.y * c.z - b.z * c.y) - a.y * (b.x * c.z - b.z * c.x) + a.z * (b.x * c.y - b.y * c.x)
    }

    /// The rotation by `angle` radians about `axis` (right-handed; the axis
    /// is normalised), as `scipy.spatial.transform.Rotation.from_rotvec(angle · axis).as_matrix()`
    /// for a unit axis (Rodrigues' formula).
    @inlinable
    public static func rotation(axis: SIMD3<Double>, angle: Double) -> Matrix3 {
        let length = (axis * axis).sum().squareRoot()
        guard length > 0 else { return .identity }
        let n = axis / length
        let c = cos(angle), s = sin(angle), t = 1 - c
        return Matrix3(rows: SIMD3(c + n.x * n.x * t, n.x * n.y * t - n.z * s, n.x * n.z * t + n.y * s),
                       SIMD3(n.y * n.x * t + n.z * s, c + n.y * n.y * t, n.y * n.z * t - n.x * s),
                       SIMD3(n.z * n.x * t - n.y * s, n.z * n.y * t + n.x * s, c + n.z * n.z * t))
    }

    /// Largest deviation from a proper rotation: max of |RᵀR − I| entries and |det R − 1|.
    @inlinable public var rotationDeviation: Double {
        let p = transposed * self
        var worst = Swift.abs(determinant - 1)
        for i in 0..<3 { for j in 0..<3 { worst = Swift.max(worst, Swift.abs(p[i, j] - (i == j ? 1 : 0))) } }
        return worst.isNaN ? .infinity : worst
    }

    /// Equality of all entries.
    @inlinable
    public static func == (a: Matrix3, b: Matrix3) -> Bool { a.rows.0 == b.rows.0 && a.rows.1 == b.rows.1 && a.rows.2 == b.rows.2 }
}

/// The measurement geometry of a parallel-beam (tensor) tomography data
/// set, with mumott's conventions (`mumott.Geometry`, version 2.3).
///
/// - Projection `i` was measured with the sample rotated by ``rotations``[i]
///   `R_i`; a lab (system) vector `v` is `R_iᵀ v` in the sample (volume)
///   frame. The beam is ``pDirection0`` (default (0, 1, 0)), the detector's
///   `j` axis ``jDirection0`` (default (1, 0, 0)) and its `k` axis
///   ``kDirection0`` (default (0, 0, 1)).
/// - ``jOffsets`` / ``kOffsets`` shift projection `i` by that many pixels
///   (alignment).
/// - ``volumeShape`` is `(X, Y, Z)` voxels of size 1, centred on the origin;
///   ``projectionShape`` is `(J, K)` detector pixels of size 1.
/// - The detector fields (``detectorDirectionOrigin``,
///   ``detectorDirectionPositive90``, ``detectorAngles``, ``twoTheta``,
///   ``fullCircleCovered``) are kept for tensor tomography; the John
///   transform does not use them.
///
/// It reads and writes a JSON object with mumott's attribute names (see
/// ``init(json:)`` and ``jsonData()``).
public struct Geometry: Sendable, Equatable {
    /// Per-projection rotation matrices `R_i`.
    public var rotations: [Matrix3]
    /// Per-projection offsets along `j`, in pixels.
    public var jOffsets: [Double]
    /// Per-projection offsets along `k`, in pixels.
    public var kOffsets: [Double]
    /// The beam direction with no rotation applied (default (0, 1, 0)).
    public var pDirection0: SIMD3<Double>
    /// The detector's `j` direction with no rotation (default (1, 0, 0)).
    public var jDirection0: SIMD3<Double>
    /// The detector's `k` direction with no rotation (default (0, 0, 1)).
    public var kDirection0: SIMD3<Double>
    /// Direction of detector azimuth 0 (default (1, 0, 0)).
    public var detectorDirectionOrigin: SIMD3<Double>
    /// Direction of detector azimuth +90° (default (0, 0, 1)).
    public var detectorDirectionPositive90: SIMD3<Double>
    /// Detector azimuth angles of the segments, in radians.
    public var detectorAngles: [Double]
    /// Scattering angles 2θ of the detector's rings, in radians (default
    /// `[0]`, one ring: small-angle scattering). With several rings the
    /// detector segments are the rings' azimuthal bins, ring by ring
    /// (``segmentCount``), as mumott's `two_theta` array.
    public var twoTheta: [Double]

    /// Detector segments per projection: ``detectorAngles`` times the rings
    /// of ``twoTheta`` (the azimuthal bin the fast index, the ring the slow).
    public var segmentCount: Int { detectorAngles.count * twoTheta.count }
    /// Whether the detector segments cover the full circle (default false).
    public var fullCircleCovered: Bool
    /// Volume shape `(X, Y, Z)`.
    public var volumeShape: [Int]
    /// Projection (detector) shape `(J, K)`.
    public var projectionShape: [Int]

    /// Number of projections.
    @inlinable public var count: Int { rotations.count }

    /// A validated geometry. Offsets default to zero.
    ///
    /// - Throws: ``TomographyError`` when it is empty, a rotation is not
    ///   orthonormal, the system vectors are not orthonormal, offsets do not
    ///   match the rotations, a value is not finite, or a shape is not
    ///   positive.
    public init(rotations: [Matrix3], jOffsets: [Double]? = nil, kOffsets: [Double]? = nil,
                volumeShape: [Int], projectionShape: [Int],
                pDirection0: SIMD3<Double> = SIMD3(0, 1, 0), jDirection0: SIMD3<Double> = SIMD3(1, 0, 0),
                kDirection0: SIMD3<Double> = SIMD3(0, 0, 1),
                detectorDirectionOrigin: SIMD3<Double> = SIMD3(1, 0, 0),
                detectorDirectionPositive90: SIMD3<Double> = SIMD3(0, 0, 1),
                detectorAngles: [Double] = [], twoTheta: [Double] = [0], fullCircleCovered: Bool = false) throws(TomographyError) {
        self.rotations = rotations
        self.jOffsets = jOffsets ?? [Double](repeating: 0, count: rotations.count)
        self.kOffsets = kOffsets ?? [Double](repeating: 0, count: rotations.count)
        self.volumeShape = volumeShape
        self.projectionShape = projectionShape
        self.pDirection0 = pDirection0
        self.jDirection0 = jDirection0
        self.kDirection0 = kDirection0
        self.detectorDirectionOrigin = detectorDirectionOrigin
        self.detectorDirectionPositive90 = detectorDirectionPositive90
        self.detectorAngles = detectorAngles
        self.twoTheta = twoTheta
        self.fullCircleCovered = fullCircleCovered
        try validate()
    }

    /// The geometry of rotations `R_i = R_outer,i · R_inner,i`, each given as
    /// an angle (radians) about an axis (rotation-vector convention, as
    /// mumott's `inner_angles`/`outer_angles`/`inner_axes`/`outer_axes`).
    ///
    /// - Parameters:
    ///   - innerAngles: the main (tomographic) rotation angles.
    ///   - outerAngles: the tilt angles (default all 0).
    ///   - innerAxis: default (0, 0, −1), mumott's default.
    ///   - outerAxis: default (1, 0, 0), mumott's default.
    ///   - jOffsets: per-projection offsets along `j`, in pixels (default
    ///     all 0).
    ///   - kOffsets: per-projection offsets along `k`, in pixels (default
    ///     all 0).
    ///   - volumeShape: the volume shape `(X, Y, Z)`.
    ///   - projectionShape: the projection (detector) shape `(J, K)`.
    public static func fromAngles(innerAngles: [Double], outerAngles: [Double]? = nil,
                                  innerAxis: SIMD3<Double> = SIMD3(0, 0, -1), outerAxis: SIMD3<Double> = SIMD3(1, 0, 0),
                                  jOffsets: [Double]? = nil, kOffsets: [Double]? = nil,
                                  volumeShape: [Int], projectionShape: [Int]) throws(TomographyError) -> Geometry {
        let outer = outerAngles ?? [Double](repeating: 0, count: innerAngles.count)
        guard outer.count == innerAngles.count else {
            throw .shapeMismatch(argument: "outerAngles", expected: [innerAngles.count], received: [outer.count])
        }
        for (name, axis) in [("innerAxis", innerAxis), ("outerAxis", outerAxis)] {
            let n = (axis * axis).sum()
            guard n.isFinite && n > 0 else {
                throw .invalidArgument(name: name, expected: "a finite non-zero vector", received: "\(axis)")
            }
        }
        guard (innerAngles + outer).allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "innerAngles/outerAngles") }
        let rotations = zip(innerAngles, outer).map { inner, tilt in
            Matrix3.rotation(axis: outerAxis, angle: tilt) * Matrix3.rotation(axis: innerAxis, angle: inner)
        }
        return try Geometry(rotations: rotations, jOffsets: jOffsets, kOffsets: kOffsets,
                            volumeShape: volumeShape, projectionShape: projectionShape)
    }

    /// Checks every field (the initialisers and the JSON reader call it).
    public func validate() throws(TomographyError) {
        guard !rotations.isEmpty else { throw .emptyGeometry("no projections (rotations is empty)") }
        guard volumeShape.count == 3 else {
            throw .invalidArgument(name: "volume_shape", expected: "3 lengths (X, Y, Z)", received: "\(volumeShape)")
        }
        guard projectionShape.count == 2 else {
            throw .invalidArgument(name: "projection_shape", expected: "2 lengths (J, K)", received: "\(projectionShape)")
        }
        guard volumeShape.allSatisfy({ $0 > 0 }) else { throw .emptyGeometry("volume_shape \(volumeShape) has a zero or negative length") }
        guard projectionShape.allSatisfy({ $0 > 0 }) else {
            throw .emptyGeometry("projection_shape \(projectionShape) has a zero or negative length")
        }
        guard jOffsets.count == rotations.count else {
            throw .shapeMismatch(argument: "j_offsets", expected: [rotations.count], received: [jOffsets.count])
        }
        guard kOffsets.count == rotations.count else {
            throw .shapeMismatch(argument: "k_offsets", expected: [rotations.count], received: [kOffsets.count])
        }
        guard jOffsets.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "j_offsets") }
        guard kOffsets.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "k_offsets") }
        guard detectorAngles.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "detector_angles") }
        guard !twoTheta.isEmpty else {
            throw .invalidArgument(name: "two_theta", expected: "at least one scattering angle", received: "[]")
        }
        guard twoTheta.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "two_theta") }
        for (index, r) in rotations.enumerated() {
            let deviation = r.rotationDeviation
            guard deviation <= 1e-6 else { throw .notARotation(index: index, deviation: deviation) }
        }
        let system = Matrix3(rows: jDirection0, pDirection0, kDirection0)
        let deviation = (system * system.transposed).rowMajor.enumerated()
            .map { Swift.abs($0.element - ($0.offset % 4 == 0 ? 1 : 0)) }.max() ?? .infinity
        guard deviation <= 1e-6 else {
            throw .invalidArgument(name: "p_direction_0, j_direction_0, k_direction_0",
                                   expected: "orthonormal unit vectors",
                                   received: "\(pDirection0), \(jDirection0), \(kDirection0)")
        }
        for (name, v) in [("detector_direction_origin", detectorDirectionOrigin),
                          ("detector_direction_positive_90", detectorDirectionPositive90)] {
            guard v.x.isFinite && v.y.isFinite && v.z.isFinite else { throw .nonFiniteValues(argument: name) }
        }
    }

    /// The beam direction of projection `i` in the sample frame, `R_iᵀ p`.
    @inlinable public func beamDirection(_ i: Int) -> SIMD3<Double> { rotations[i].transposeMultiply(pDirection0) }
    /// The detector `j` direction of projection `i` in the sample frame.
    @inlinable public func jDirection(_ i: Int) -> SIMD3<Double> { rotations[i].transposeMultiply(jDirection0) }
    /// The detector `k` direction of projection `i` in the sample frame.
    @inlinable public func kDirection(_ i: Int) -> SIMD3<Double> { rotations[i].transposeMultiply(kDirection0) }

    // MARK: - JSON

    /// Reads the JSON object written by ``jsonData()``: the fields
    /// `rotations` (N×3×3), `j_offsets`, `k_offsets`, `p_direction_0`,
    /// `j_direction_0`, `k_direction_0`, `detector_direction_origin`,
    /// `detector_direction_positive_90`, `detector_angles`, `two_theta`
    /// (a number or a one-element list), `full_circle_covered` (a Boolean or
    /// a one-element list), `volume_shape` and `projection_shape`. The
    /// system vectors, detector fields and offsets are optional (mumott's
    /// defaults); `rotations`, `volume_shape` and `projection_shape` are
    /// required. mumott's private spellings (`_rotations`, `_j_offsets`,
    /// `_k_offsets`) are accepted too.
    ///
    /// - Throws: ``TomographyError/malformedJSON(field:problem:)`` naming
    ///   the field, or the validation errors of ``validate()``.
    public init(json data: Data) throws(TomographyError) {
        let object: Any
        do {
            // JSONDecoder parses doubles exactly (JSONSerialization rounds on Linux).
            object = try JSONDecoder().decode(JSONValue.self, from: data).foundationObject
        } catch {
            throw .malformedJSON(field: "(document)", problem: "not valid JSON (\(error))")
        }
        guard let dict = object as? [String: Any] else {
            throw .malformedJSON(field: "(document)", problem: "expected a JSON object at the top level")
        }
        func value(_ names: [String]) -> (String, Any)? {
            for name in names { if let v = dict[name] { return (name, v) } }
            return nil
        }
        func number(_ any: Any, _ field: String) throws(TomographyError) -> Double {
            guard let n = any as? NSNumber else {
                throw .malformedJSON(field: field, problem: "expected a number, found \(type(of: any)) \(any)")
            }
            return n.doubleValue
        }
        func numbers(_ names: [String], default fallback: [Double]? = nil) throws(TomographyError) -> [Double] {
            guard let (field, any) = value(names) else {
                if let fallback { return fallback }
                throw .malformedJSON(field: names[0], problem: "missing required field")
            }
            if let n = any as? NSNumber { return [n.doubleValue] }
            guard let list = any as? [Any] else { throw .malformedJSON(field: field, problem: "expected a list of numbers") }
            var out: [Double] = []
            for (i, item) in list.enumerated() { out.append(try number(item, "\(field)[\(i)]")) }
            return out
        }
        func vector(_ name: String, _ fallback: SIMD3<Double>) throws(TomographyError) -> SIMD3<Double> {
            let v = try numbers([name], default: [fallback.x, fallback.y, fallback.z])
            guard v.count == 3 else { throw .malformedJSON(field: name, problem: "expected 3 numbers, found \(v.count)") }
            return SIMD3(v[0], v[1], v[2])
        }
        func integers(_ name: String, count: Int) throws(TomographyError) -> [Int] {
            let v = try numbers([name])
            guard v.count == count else { throw .malformedJSON(field: name, problem: "expected \(count) integers, found \(v.count)") }
            var out: [Int] = []
            for x in v {
                guard x.isFinite, x == x.rounded(), Swift.abs(x) < 1e15 else {
                    throw .malformedJSON(field: name, problem: "expected integers, found \(x)")
                }
                out.append(Int(x))
            }
            return out
        }
        guard let (rotationField, rotationAny) = value(["rotations", "_rotations"]) else {
            throw .malformedJSON(field: "rotations", problem: "missing required field")
        }
        guard let rotationList = rotationAny as? [Any] else {
            throw .malformedJSON(field: rotationField, problem: "expected a list of 3×3 matrices")
        }
        var rotations: [Matrix3] = []
        for (i, item) in rotationList.enumerated() {
            guard let rowsAny = item as? [Any], rowsAny.count == 3 else {
                throw .malformedJSON(field: "\(rotationField)[\(i)]", problem: "expected a 3×3 matrix (3 rows of 3 numbers)")
            }
            var entries: [Double] = []
            for (r, rowAny) in rowsAny.enumerated() {
                guard let row = rowAny as? [Any], row.count == 3 else {
                    throw .malformedJSON(field: "\(rotationField)[\(i)][\(r)]", problem: "expected a row of 3 numbers")
                }
                for (c, x) in row.enumerated() { entries.append(try number(x, "\(rotationField)[\(i)][\(r)][\(c)]")) }
            }
            guard entries.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "\(rotationField)[\(i)]") }
            rotations.append(Matrix3(rowMajor: entries))
        }
        let zeros = [Double](repeating: 0, count: rotations.count)
        let fullCircle: Bool
        if let (field, any) = value(["full_circle_covered"]) {
            if let b = any as? Bool { fullCircle = b }
            else if let list = any as? [Any], list.count == 1, let b = list[0] as? Bool { fullCircle = b }
            else if let n = any as? NSNumber { fullCircle = n.doubleValue != 0 }
            else { throw .malformedJSON(field: field, problem: "expected a Boolean or a one-element list of one") }
        } else {
            fullCircle = false
        }
        let twoThetaValues = try numbers(["two_theta"], default: [0])
        guard !twoThetaValues.isEmpty else {
            throw .malformedJSON(field: "two_theta", problem: "expected at least one number, found none")
        }
        try self.init(rotations: rotations,
                      jOffsets: try numbers(["j_offsets", "_j_offsets"], default: zeros),
                      kOffsets: try numbers(["k_offsets", "_k_offsets"], default: zeros),
                      volumeShape: try integers("volume_shape", count: 3),
                      projectionShape: try integers("projection_shape", count: 2),
                      pDirection0: try vector("p_direction_0", SIMD3(0, 1, 0)),
                      jDirection0: try vector("j_direction_0", SIMD3(1, 0, 0)),
                      kDirection0: try vector("k_direction_0", SIMD3(0, 0, 1)),
                      detectorDirectionOrigin: try vector("detector_direction_origin", SIMD3(1, 0, 0)),
                      detectorDirectionPositive90: try vector("detector_direction_positive_90", SIMD3(0, 0, 1)),
                      detectorAngles: try numbers(["detector_angles"], default: []),
                      twoTheta: twoThetaValues, fullCircleCovered: fullCircle)
    }

    /// Reads a geometry JSON file (see ``init(json:)``).
    public init(contentsOf url: URL) throws(TomographyError) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .file(path: url.path, problem: "cannot read geometry: \(error.localizedDescription)")
        }
        try self.init(json: data)
    }

    /// The geometry as a JSON object with mumott's field names (see
    /// ``init(json:)``). Numbers are written in Swift's shortest
    /// round-trip form, so reading the file back gives identical values
    /// (Foundation's JSONSerialization rounds doubles on Linux).
    public func jsonData() -> Data {
        func number(_ x: Double) -> String { x == x.rounded() && Swift.abs(x) < 1e15 ? String(Int(x)) + ".0" : "\(x)" }
        func list(_ v: [Double]) -> String { "[" + v.map(number).joined(separator: ", ") + "]" }
        func vec(_ v: SIMD3<Double>) -> String { list([v.x, v.y, v.z]) }
        let rotationText = rotations.map { r in "[" + [vec(r.rows.0), vec(r.rows.1), vec(r.rows.2)].joined(separator: ", ") + "]" }
        let fields: [(String, String)] = [
            ("rotations", "[\n    " + rotationText.joined(separator: ",\n    ") + "\n  ]"),
            ("j_offsets", list(jOffsets)), ("k_offsets", list(kOffsets)),
            ("p_direction_0", vec(pDirection0)), ("j_direction_0", vec(jDirection0)), ("k_direction_0", vec(kDirection0)),
            ("detector_direction_origin", vec(detectorDirectionOrigin)),
            ("detector_direction_positive_90", vec(detectorDirectionPositive90)),
            ("detector_angles", list(detectorAngles)), ("two_theta", list(twoTheta)),
            ("full_circle_covered", fullCircleCovered ? "true" : "false"),
            ("volume_shape", "[" + volumeShape.map(String.init).joined(separator: ", ") + "]"),
            ("projection_shape", "[" + projectionShape.map(String.init).joined(separator: ", ") + "]"),
        ]
        return Data(("{\n" + fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}\n").utf8)
    }

    /// Writes ``jsonData()`` to `url` atomically (a temporary file in the
    /// same folder, flushed to disk, then renamed over `url`).
    public func write(to url: URL) throws(TomographyError) {
        let path = url.path
        let result: Result<Void, AtomicFile.Failure> = jsonData().withUnsafeBytes { bytes in
            Result { () throws(AtomicFile.Failure) in try AtomicFile.write(bytes, to: path) }
        }
        if case let .failure(failure) = result {
            throw .file(path: path, problem: "cannot write geometry: \(failure.operation) failed: \(failure.reason)")
        }
    }
}

/// A parsed JSON value (decoded with JSONDecoder, whose number parsing is
/// exact), convertible to Foundation's object graph.
enum JSONValue: Decodable {
    case number(Double), string(String), bool(Bool), array([JSONValue]), object([String: JSONValue]), null

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let x = try? c.decode(Double.self) { self = .number(x) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    var foundationObject: Any {
        switch self {
        case .number(let x): return NSNumber(value: x)
        case .string(let s): return s
        case .bool(let b): return b
        case .array(let a): return a.map(\.foundationObject)
        case .object(let o): return o.mapValues(\.foundationObject)
        case .null: return NSNull()
        }
    }
}
