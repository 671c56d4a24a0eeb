import Foundation
import BeamlineTensor

/// Real spherical harmonics with mumott's conventions (`SphericalHarmonics`):
/// 4π-normalised (the mean of `Y²` over the sphere is 1), no Condon–Shortley
/// phase, ordered by `ℓ` then `m = −ℓ…ℓ`; under Friedel symmetry only even
/// `ℓ` (0, 2, …, ``ellMax``), so ℓmax 8 has 45 functions.
///
/// `Y_ℓm(u) = √(2 − δ_m0) · P̄_ℓ^|m|(z) · (cos mφ for m ≥ 0, sin |m|φ for
/// m < 0)`, with `z` the point's third coordinate (as mumott, the point is
/// taken to be on the unit sphere), `φ = atan2(y, x)` and `P̄_ℓ^m` the
/// associated Legendre function scaled by `√((2ℓ+1)(ℓ−m)!/(ℓ+m)!)`
/// (computed by the stable normalised recurrence, not by factorials).
public struct SphericalHarmonics: TensorBasisSet {
    /// The band limit ℓmax.
    public let ellMax: Int
    /// Whether only even orders are used (mumott's `enforce_friedel_symmetry`, default true).
    public let friedelSymmetry: Bool
    /// How segments are integrated (default mumott's adaptive Simpson rule).
    public var integration: SegmentIntegration
    /// `ℓ` of each coefficient, in order.
    public let ellIndices: [Int]
    /// `m` of each coefficient, in order.
    public let emmIndices: [Int]

    /// Real spherical harmonics up to `ellMax`.
    ///
    /// - Throws: ``TomographyError`` for a negative `ellMax`, or an odd one
    ///   with Friedel symmetry (only even orders exist then; mumott silently
    ///   drops the top order).
    public init(ellMax: Int, friedelSymmetry: Bool = true, integration: SegmentIntegration = .default) throws(TomographyError) {
        guard ellMax >= 0 else { throw .invalidArgument(name: "ellMax", expected: "≥ 0", received: "\(ellMax)") }
        guard !friedelSymmetry || ellMax % 2 == 0 else {
            throw .invalidArgument(name: "ellMax", expected: "an even order with Friedel symmetry", received: "\(ellMax)")
        }
        try Self.validate(integration)
        self.ellMax = ellMax
        self.friedelSymmetry = friedelSymmetry
        self.integration = integration
        var ells = [Int](), emms = [Int]()
        for l in stride(from: 0, through: ellMax, by: friedelSymmetry ? 2 : 1) {
            for m in -l...l { ells.append(l); emms.append(m) }
        }
        ellIndices = ells
        emmIndices = emms
    }

    static func validate(_ integration: SegmentIntegration) throws(TomographyError) {
        switch integration {
        case let .adaptiveSimpson(tolerance, iterations, start):
            guard tolerance > 0 && tolerance.isFinite else {
                throw .invalidArgument(name: "integration.tolerance", expected: "a positive number", received: "\(tolerance)")
            }
            guard iterations >= 1 else {
                throw .invalidArgument(name: "integration.maximumIterations", expected: "≥ 1", received: "\(iterations)")
            }
            guard start >= 2 else {
                throw .invalidArgument(name: "integration.startingPoints", expected: "≥ 2", received: "\(start)")
            }
        case let .simpson(points):
            guard points >= 3 && points % 2 == 1 else {
                throw .invalidArgument(name: "integration.points", expected: "an odd number ≥ 3", received: "\(points)")
            }
        case .midpoint:
            break
        }
    }

    /// Number of coefficients: `(ℓmax + 1)(ℓmax/2 + 1)` with Friedel symmetry, `(ℓmax + 1)²` without.
    public var count: Int { ellIndices.count }

    /// Writes `Y_ℓm` at each point, `(points.count, count)` row-major.
    public func evaluate(at points: [SIMD3<Double>], into values: inout [Double]) {
        let c = count, lmax = ellMax
        precondition(values.count >= points.count * c, "SphericalHarmonics.evaluate: output of \(values.count) for \(points.count)×\(c)")
        // P̄[l][m] scratch, (lmax+1)² entries.
        var p = [Double](repeating: 0, count: (lmax + 1) * (lmax + 1))
        var cosm = [Double](repeating: 0, count: lmax + 1), sinm = [Double](repeating: 0, count: lmax + 1)
        let sqrt2 = 2.0.squareRoot()
        for (index, u) in points.enumerated() {
            let z = u.z
            let s = Swift.max(0, 1 - z * z).squareRoot()
            let phi = atan2(u.y, u.x)
            for m in 0...lmax { cosm[m] = cos(Double(m) * phi); sinm[m] = sin(Double(m) * phi) }
            // Normalised associated Legendre functions, no Condon–Shortley phase.
            p[0] = 1
            if lmax >= 1 {
                for m in 1...lmax {
                    let mm = Double(m)
                    p[m * (lmax + 1) + m] = ((2 * mm + 1) / (2 * mm)).squareRoot() * s * p[(m - 1) * (lmax + 1) + (m - 1)]
                }
            }
            for m in 0...lmax where m + 1 <= lmax {
                p[(m + 1) * (lmax + 1) + m] = (2 * Double(m) + 3).squareRoot() * z * p[m * (lmax + 1) + m]
            }
            if lmax >= 2 {
                for m in 0...(lmax - 2) {
                    let mm = Double(m)
                    for l in (m + 2)...lmax {
                        let ll = Double(l)
                        let a = ((4 * ll * ll - 1) / (ll * ll - mm * mm)).squareRoot()
                        let b = (((ll - 1) * (ll - 1) - mm * mm) / (4 * (ll - 1) * (ll - 1) - 1)).squareRoot()
                        p[l * (lmax + 1) + m] = a * (z * p[(l - 1) * (lmax + 1) + m] - b * p[(l - 2) * (lmax + 1) + m])
                    }
                }
            }
            let row = index * c
            for j in 0..<c {
                let l = ellIndices[j], m = emmIndices[j]
                let legendre = p[l * (lmax + 1) + Swift.abs(m)]
                if m == 0 {
                    values[row + j] = legendre
                } else if m > 0 {
                    values[row + j] = sqrt2 * legendre * cosm[m]
                } else {
                    values[row + j] = sqrt2 * legendre * sinm[-m]
                }
            }
        }
    }

    /// The projection matrix (see ``TensorBasisSet``).
    public func projectionMatrix(for coordinates: ProbedCoordinates) -> Tensor<Double> {
        projectionMatrixWithConvergence(for: coordinates).matrix
    }

    /// The symmetric rank-2 tensor `T` whose quadratic form `uᵀ T u` equals
    /// the `ℓ ≤ 2` part of the function on the unit sphere (mumott's
    /// second-moment tensor up to its convention), from one voxel's
    /// coefficients, row-major 3×3.
    ///
    /// - Throws: ``TomographyError`` when `coefficients` does not have
    ///   ``count`` entries or ℓmax < 2.
    public func rank2Tensor(_ coefficients: [Double]) throws(TomographyError) -> [Double] {
        guard coefficients.count == count else {
            throw .shapeMismatch(argument: "coefficients", expected: [count], received: [coefficients.count])
        }
        guard ellMax >= 2 else { throw .invalidArgument(name: "ellMax", expected: "≥ 2 for a rank-2 tensor", received: "\(ellMax)") }
        var tensor = [Double](repeating: 0, count: 9)
        Self.rank2(coefficients, offset: friedelSymmetry ? 1 : 4, into: &tensor, at: 0)
        return tensor
    }

    /// Writes the rank-2 tensor (row-major 3 × 3) from `c[base]` and the
    /// five `ℓ = 2` coefficients at `base + offset` into `out[at..<at + 9]`.
    @inline(__always)
    static func rank2(_ c: [Double], offset o: Int, base: Int = 0, into out: inout [Double], at: Int) {
        let a0 = c[base]
        let (m2n, m1n, m0, m1, m2) = (c[base + o], c[base + o + 1], c[base + o + 2], c[base + o + 3], c[base + o + 4])
        let h5 = 5.0.squareRoot() / 2, h15 = 15.0.squareRoot() / 2
        let xy = h15 * m2n, xz = h15 * m1, yz = h15 * m1n
        out[at] = a0 - h5 * m0 + h15 * m2
        out[at + 1] = xy
        out[at + 2] = xz
        out[at + 3] = xy
        out[at + 4] = a0 - h5 * m0 - h15 * m2
        out[at + 5] = yz
        out[at + 6] = xz
        out[at + 7] = yz
        out[at + 8] = a0 + 2 * h5 * m0
    }

    /// Derived quantities for a coefficient volume `(X, Y, Z, C)`: mean
    /// intensity (`c₀`), and from the rank-2 tensor its eigenvalues
    /// (descending) and the eigenvector of the largest (the main
    /// orientation, sign chosen with a non-negative largest component), and
    /// the fractional anisotropy (mumott's formula).
    ///
    /// - Throws: ``TomographyError`` for a wrong shape or ℓmax < 2.
    public func derivedQuantities<Scalar: RealElement>(_ coefficients: Tensor<Scalar>) throws(TomographyError) -> OrientationMaps {
        let shape = coefficients.shape
        guard shape.count == 4, shape[3] == count else {
            throw .shapeMismatch(argument: "coefficients", expected: [-1, -1, -1, count], received: shape)
        }
        guard ellMax >= 2 else { throw .invalidArgument(name: "ellMax", expected: "≥ 2 for orientations", received: "\(ellMax)") }
        let voxels = shape[0] * shape[1] * shape[2]
        let values = RealConversion.doubles(coefficients.elements)
        var mean = [Double](repeating: 0, count: voxels)
        var tensors = [Double](repeating: 0, count: voxels * 9)
        let o = friedelSymmetry ? 1 : 4
        for v in 0..<voxels {
            Self.rank2(values, offset: o, base: v * count, into: &tensors, at: v * 9)
            mean[v] = values[v * count]
        }
        return OrientationMaps(spatialShape: Array(shape[0..<3]), meanIntensity: mean, tensors: tensors)
    }
}

/// Orientation maps derived from basis-set coefficients
/// (``SphericalHarmonics/derivedQuantities(_:)``,
/// ``NearestNeighbor/derivedQuantities(_:)``).
public struct OrientationMaps: Sendable {
    /// The mean intensity per voxel (`c₀`), `(X, Y, Z)`.
    public var meanIntensity: Tensor<Double>
    /// mumott's fractional anisotropy of the rank-2 tensor, `(X, Y, Z)`.
    public var fractionalAnisotropy: Tensor<Double>
    /// The rank-2 tensor's eigenvalues, largest first, `(X, Y, Z, 3)`.
    public var eigenvalues: Tensor<Double>
    /// The unit eigenvector of the largest eigenvalue, `(X, Y, Z, 3)`.
    public var mainOrientation: Tensor<Double>

    /// The maps of the symmetric 3 × 3 `tensors` (9 row-major values per
    /// voxel): eigenvalues (descending), the eigenvector of the largest, and
    /// mumott's fractional anisotropy
    /// `√(Σ(λᵢ − λⱼ)²) / √(2 Σ λᵢ²)` (0 for a zero tensor).
    init(spatialShape: [Int], meanIntensity mean: [Double], tensors: [Double]) {
        let voxels = mean.count
        var anisotropy = [Double](repeating: 0, count: voxels)
        var eigenvalues = [Double](repeating: 0, count: voxels * 3)
        var orientation = [Double](repeating: 0, count: voxels * 3)
        for v in 0..<voxels {
            let (w, vec) = SymmetricEigen3.decompose(Array(tensors[(v * 9)..<(v * 9 + 9)]))
            for i in 0..<3 { eigenvalues[v * 3 + i] = w[i]; orientation[v * 3 + i] = vec[i] }
            let num = ((w[0] - w[1]) * (w[0] - w[1]) + (w[1] - w[2]) * (w[1] - w[2]) + (w[2] - w[0]) * (w[2] - w[0])).squareRoot()
            let den = (2 * (w[0] * w[0] + w[1] * w[1] + w[2] * w[2])).squareRoot()
            anisotropy[v] = den > 0 ? num / den : 0
        }
        meanIntensity = Tensor(shape: spatialShape, elements: mean)
        fractionalAnisotropy = Tensor(shape: spatialShape, elements: anisotropy)
        self.eigenvalues = Tensor(shape: spatialShape + [3], elements: eigenvalues)
        mainOrientation = Tensor(shape: spatialShape + [3], elements: orientation)
    }
}

/// Eigen-decomposition of a symmetric 3×3 matrix by cyclic Jacobi rotations.
enum SymmetricEigen3 {
    /// Eigenvalues in descending order and the unit eigenvector of the
    /// largest (its largest-magnitude component made non-negative).
    static func decompose(_ m: [Double]) -> (values: [Double], top: [Double]) {
        var a = m
        var v: [Double] = [1, 0, 0, 0, 1, 0, 0, 0, 1]
        for _ in 0..<50 {
            let off = a[1] * a[1] + a[2] * a[2] + a[5] * a[5]
            if off < 1e-30 * Swift.max(1e-300, a[0] * a[0] + a[4] * a[4] + a[8] * a[8]) { break }
            for (p, q) in [(0, 1), (0, 2), (1, 2)] {
                let apq = a[p * 3 + q]
                if apq == 0 { continue }
                let theta = (a[q * 3 + q] - a[p * 3 + p]) / (2 * apq)
                let t = (theta >= 0 ? 1.0 : -1.0) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<3 {
                    let akp = a[k * 3 + p], akq = a[k * 3 + q]
                    a[k * 3 + p] = c * akp - s * akq
                    a[k * 3 + q] = s * akp + c * akq
                }
                for k in 0..<3 {
                    let apk = a[p * 3 + k], aqk = a[q * 3 + k]
                    a[p * 3 + k] = c * apk - s * aqk
                    a[q * 3 + k] = s * apk + c * aqk
                }
                for k in 0..<3 {
                    let vkp = v[k * 3 + p], vkq = v[k * 3 + q]
                    v[k * 3 + p] = c * vkp - s * vkq
                    v[k * 3 + q] = s * vkp + c * vkq
                }
            }
        }
        let order = [0, 1, 2].sorted { a[$0 * 3 + $0] > a[$1 * 3 + $1] }
        let values = order.map { a[$0 * 3 + $0] }
        var top = (0..<3).map { v[$0 * 3 + order[0]] }
        let largest = top.max { Swift.abs($0) < Swift.abs($1) } ?? 0
        if largest < 0 { top = top.map { -$0 } }
        return (values, top)
    }
}

/// mumott's `TrivialBasis`: each channel is its own detector segment (the
/// projection matrix is the identity for every projection), for scalar or
/// already-separated data.
public struct TrivialBasis: TensorBasisSet {
    /// Number of channels (coefficients and segments).
    public let channels: Int
    /// Unused (the matrix is exact); `.midpoint`.
    public var integration: SegmentIntegration { .midpoint }

    /// A trivial basis of `channels` channels (default 1).
    ///
    /// - Throws: ``TomographyError`` for `channels < 1`.
    public init(channels: Int = 1) throws(TomographyError) {
        guard channels >= 1 else { throw .invalidArgument(name: "channels", expected: "≥ 1", received: "\(channels)") }
        self.channels = channels
    }

    /// Number of coefficients (the channels).
    public var count: Int { channels }

    /// Every function is the isotropic function 1.
    public func evaluate(at points: [SIMD3<Double>], into values: inout [Double]) {
        for i in 0..<(points.count * channels) { values[i] = 1 }
    }

    /// The identity per projection, `(N, channels, channels)` (the segments
    /// of `coordinates` are ignored, as in mumott).
    public func projectionMatrix(for coordinates: ProbedCoordinates) -> Tensor<Double> {
        var m = [Double](repeating: 0, count: coordinates.projections * channels * channels)
        for n in 0..<coordinates.projections { for c in 0..<channels { m[(n * channels + c) * channels + c] = 1 } }
        return Tensor(shape: [coordinates.projections, channels, channels], elements: m)
    }
}
