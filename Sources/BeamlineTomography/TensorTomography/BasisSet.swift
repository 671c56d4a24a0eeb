import Foundation
import BeamlineTensor

/// How a basis set turns the probed coordinates of a detector segment into
/// one row of its projection matrix.
public enum SegmentIntegration: Sendable, Hashable {
    /// mumott's default (`integration_mode='simpson'`): the mean of each basis
    /// function over the segment's arc by Simpson's rule on points
    /// spherically interpolated (slerp) between the segment's first and last
    /// probed coordinates, starting with `startingPoints` points and
    /// doubling the intervals until the largest change of any matrix entry,
    /// relative to the largest entry, is below `tolerance` (at most
    /// `maximumIterations` doublings). Defaults: 1e-5, 10, 3 (mumott's).
    case adaptiveSimpson(tolerance: Double = 1e-5, maximumIterations: Int = 10, startingPoints: Int = 3)
    /// Simpson's rule on a fixed odd number of slerp points (no adaptation):
    /// the "fixed-sample" matrix.
    case simpson(points: Int)
    /// The basis functions at the centre sample of each segment
    /// (mumott's `integration_mode='midpoint'`).
    case midpoint

    /// mumott's default.
    public static var `default`: SegmentIntegration { .adaptiveSimpson() }
}

/// A basis set for the spherical function in each voxel (mumott's
/// `BasisSet`): `count` coefficients per voxel, evaluated at points of the
/// reciprocal-space sphere.
///
/// A conforming type supplies the values of its functions at unit vectors;
/// the projection matrix `(N, K, C)` (the mean of each function over each
/// detector segment, for each projection) is built from those by
/// ``projectionMatrix(for:)``, and the forward map (coefficients → segment
/// intensities) and its exact transpose are ``BasisSetOperator``.
/// Conformances are `Hashable`: a residual calculator compares the basis it
/// built its matrix for with the current one to know when to rebuild
/// (mumott's "dirtiness").
public protocol TensorBasisSet: Sendable, Hashable {
    /// Number of coefficients per voxel, `C`.
    var count: Int { get }
    /// How segment arcs are integrated.
    var integration: SegmentIntegration { get }
    /// The values of the `C` basis functions at `points` (xyz, not
    /// necessarily normalised; each conformance says what it does with the
    /// norm), written row-major into `values` (`points.count × C`).
    func evaluate(at points: [SIMD3<Double>], into values: inout [Double])
    /// The projection matrix `(N, K, C)` for `coordinates`; the default
    /// integrates ``evaluate(at:into:)`` over each segment's arc as
    /// ``integration`` says.
    func projectionMatrix(for coordinates: ProbedCoordinates) -> Tensor<Double>
}

extension TensorBasisSet {
    /// The values of the basis functions at `points`, `(P, C)` row-major.
    public func values(at points: [SIMD3<Double>]) -> [Double] {
        var out = [Double](repeating: 0, count: points.count * count)
        evaluate(at: points, into: &out)
        return out
    }

    /// The basis functions at every probed coordinate, `(N, K, I, C)`:
    /// mumott's `_get_projection_matrix(probed_coordinates)`.
    public func pointValues(for coordinates: ProbedCoordinates) -> Tensor<Double> {
        let (n, k, s) = (coordinates.projections, coordinates.segments, coordinates.samples)
        var points = [SIMD3<Double>]()
        points.reserveCapacity(n * k * s)
        for a in 0..<n { for b in 0..<k { for i in 0..<s { points.append(coordinates.vector(a, b, i)) } } }
        return Tensor(shape: [n, k, s, count], elements: values(at: points))
    }

    /// The projection matrix `(N, K, C)`: entry `(n, k, c)` is the mean of
    /// basis function `c` over segment `k` of projection `n`, integrated as
    /// ``integration`` says (see ``SegmentIntegration``), as mumott's
    /// `_get_integrated_projection_matrix`.
    ///
    /// When every segment's first and last coordinates coincide (one sample
    /// per segment), the matrix is the values at the first sample, as in
    /// mumott.
    public func projectionMatrix(for coordinates: ProbedCoordinates) -> Tensor<Double> {
        projectionMatrixWithConvergence(for: coordinates).matrix
    }

    /// ``projectionMatrix(for:)`` and whether the adaptive integration met
    /// its tolerance (always true for the fixed rules).
    public func projectionMatrixWithConvergence(for coordinates: ProbedCoordinates) -> (matrix: Tensor<Double>, converged: Bool) {
        let (n, k, s, c) = (coordinates.projections, coordinates.segments, coordinates.samples, count)
        let segments = n * k
        let (starts, ends, offsets, allClose) = coordinates.segmentEnds()
        if allClose {
            // numpy.allclose(start, end): the values at the first sample.
            var points = [SIMD3<Double>]()
            points.reserveCapacity(segments)
            for a in 0..<n { for b in 0..<k { points.append(coordinates.vector(a, b, 0)) } }
            return (Tensor(shape: [n, k, c], elements: values(at: points)), true)
        }
        switch integration {
        case .midpoint:
            var points = [SIMD3<Double>]()
            points.reserveCapacity(segments)
            for a in 0..<n { for b in 0..<k { points.append(coordinates.vector(a, b, s / 2)) } }
            return (Tensor(shape: [n, k, c], elements: values(at: points)), true)
        case let .simpson(points):
            let m = ArcQuadrature(starts: starts, ends: ends, offsets: offsets)
            return (Tensor(shape: [n, k, c], elements: m.simpson(self, points: Swift.max(3, points | 1))), true)
        case let .adaptiveSimpson(tolerance, maximumIterations, startingPoints):
            let m = ArcQuadrature(starts: starts, ends: ends, offsets: offsets)
            var points = Swift.max(2, startingPoints)
            var old = m.simpson(self, points: points)
            var new = old
            var converged = false
            for _ in 0..<Swift.max(1, maximumIterations) {
                points += Swift.max(points - 1, 1)
                new = m.simpson(self, points: points)
                var change = 0.0, largest = 0.0
                for i in new.indices {
                    change = Swift.max(change, Swift.abs(new[i] - old[i]))
                    largest = Swift.max(largest, Swift.abs(new[i]))
                }
                if change / largest < tolerance { converged = true; break }
                old = new
            }
            return (Tensor(shape: [n, k, c], elements: new), converged)
        }
    }
}

extension ProbedCoordinates {
    /// The normalised first and last probed coordinate of every segment
    /// (projection-major), the centres of their circles, and whether every
    /// segment's two ends coincide (`numpy.allclose`: one sample per
    /// segment, nothing to integrate), as mumott's
    /// `_get_integrated_projection_matrix` decides.
    func segmentEnds() -> (starts: [SIMD3<Double>], ends: [SIMD3<Double>], offsets: [SIMD3<Double>], allClose: Bool) {
        let (n, k, s) = (projections, segments, samples)
        var starts = [SIMD3<Double>](), ends = [SIMD3<Double>](), offsets = [SIMD3<Double>]()
        starts.reserveCapacity(n * k); ends.reserveCapacity(n * k); offsets.reserveCapacity(n * k)
        var allClose = true
        for a in 0..<n {
            for b in 0..<k {
                let first = vector(a, b, 0), last = vector(a, b, s - 1)
                let start = first / (first * first).sum().squareRoot(), end = last / (last * last).sum().squareRoot()
                for d in 0..<3 where Swift.abs(start[d] - end[d]) > 1e-8 + 1e-5 * Swift.abs(end[d]) { allClose = false }
                starts.append(start); ends.append(end); offsets.append(offset(a, b))
            }
        }
        return (starts, ends, offsets, allClose)
    }
}

/// Points along each segment's arc and the composite Simpson rule over them
/// (SciPy's `simpson` on equally spaced points).
///
/// A segment's arc lies on a circle of the sphere: for 2θ ≠ 0 a small circle
/// whose centre is the great-circle offset. The points are the spherical
/// interpolation (slerp) of the directions from that centre to the segment's
/// ends, at the angle between them, scaled by the circle's radius and moved
/// back by the centre, so every point is on the sphere. mumott 2.3 takes the
/// angle from the centred vectors without normalising them (their length is
/// cos(2θ/2)), which overestimates it for WAXS and puts its points off the
/// sphere (|q| up to cos(Δα/2)/cos(ω/2)); for 2θ = 0 the two agree exactly
/// (docs/tensor-tomography.md).
struct ArcQuadrature {
    let startDirections: [SIMD3<Double>]
    let endDirections: [SIMD3<Double>]
    let startRadii: [Double]
    let endRadii: [Double]
    let offsets: [SIMD3<Double>]
    let omegas: [Double]

    init(starts: [SIMD3<Double>], ends: [SIMD3<Double>], offsets: [SIMD3<Double>]) {
        func unit(_ v: SIMD3<Double>) -> (SIMD3<Double>, Double) {
            let r = (v * v).sum().squareRoot()
            return r > 0 ? (v / r, r) : (v, 0)
        }
        let s = zip(starts, offsets).map { unit($0 - $1) }
        let e = zip(ends, offsets).map { unit($0 - $1) }
        startDirections = s.map(\.0); startRadii = s.map(\.1)
        endDirections = e.map(\.0); endRadii = e.map(\.1)
        self.offsets = offsets
        omegas = zip(startDirections, endDirections).map { a, b in
            acos(Swift.min(1, Swift.max(-1, (a * b).sum())))
        }
    }

    /// The point at `t` ∈ [0, 1] along the arc of segment `s`.
    func point(_ s: Int, _ t: Double) -> SIMD3<Double> {
        let omega = omegas[s]
        let a: Double, b: Double
        if Swift.abs(omega) <= 1e-8 {
            a = 1 - t; b = t
        } else {
            let so = sin(omega)
            a = sin((1 - t) * omega) / so
            b = sin(t * omega) / so
        }
        let radius = (1 - t) * startRadii[s] + t * endRadii[s]
        return radius * (a * startDirections[s] + b * endDirections[s]) + offsets[s]
    }

    /// SciPy's `simpson(values, x=linspace(0, 1, points))` per segment and
    /// basis function, `(segments, C)` row-major. Odd `points`: the
    /// composite rule; even: SciPy's (≥ 1.11) correction of the last
    /// interval (Cartwright).
    func simpson<B: TensorBasisSet>(_ basis: B, points: Int) -> [Double] {
        let segments = omegas.count, c = basis.count
        var ts = [Double](repeating: 0, count: points)
        for i in 0..<points { ts[i] = Geometry.linspace(0, 1, count: points, index: i) }
        let weights = Self.simpsonWeights(points)
        var out = [Double](repeating: 0, count: segments * c)
        var pts = [SIMD3<Double>](repeating: .zero, count: points)
        var vals = [Double](repeating: 0, count: points * c)
        for s in 0..<segments {
            for i in 0..<points { pts[i] = point(s, ts[i]) }
            basis.evaluate(at: pts, into: &vals)
            for i in 0..<points {
                let w = weights[i]
                for j in 0..<c { out[s * c + j] += w * vals[i * c + j] }
            }
        }
        return out
    }

    /// Weights of Simpson's rule on `points` equally spaced points of [0, 1].
    static func simpsonWeights(_ points: Int) -> [Double] {
        let h = 1.0 / Double(points - 1)
        var w = [Double](repeating: 0, count: points)
        if points == 2 { return [0.5, 0.5] }
        let composite = points % 2 == 1 ? points : points - 1
        for i in 0..<composite {
            w[i] = (i == 0 || i == composite - 1) ? h / 3 : (i % 2 == 1 ? 4 * h / 3 : 2 * h / 3)
        }
        if composite != points {
            // SciPy ≥ 1.11: last interval by a parabola through the last three points.
            w[points - 1] += 5 * h / 12
            w[points - 2] += 8 * h / 12
            w[points - 3] -= h / 12
        }
        return w
    }
}
