import Foundation
import BeamlineTensor

/// The points on the reciprocal-space sphere that each detector segment of
/// each projection probes, in the sample frame: mumott's
/// `Geometry.probed_coordinates` (`ProbedCoordinates.vector` and
/// `great_circle_offset`).
///
/// ``vectors`` is `(N, K, I, 3)` row-major: projection, detector segment,
/// sample along the segment's arc (the first and last are the segment's
/// boundaries), xyz. ``greatCircleOffsets`` is `(N, K, 3)`: the vector
/// `−sin(θ/2) R_iᵀ p` by which a wide-angle (2θ ≠ 0) ring is offset from a
/// great circle (zero for small-angle data).
public struct ProbedCoordinates: Sendable, Hashable {
    /// Number of projections `N`.
    public let projections: Int
    /// Number of detector segments `K` (azimuthal bins).
    public let segments: Int
    /// Number of samples `I` along each segment's arc.
    public let samples: Int
    /// `(N, K, I, 3)` row-major xyz coordinates.
    public let vectors: [Double]
    /// `(N, K, 3)` row-major great-circle offsets.
    public let greatCircleOffsets: [Double]

    /// Coordinates from flat row-major arrays.
    ///
    /// - Throws: ``TomographyError`` when a count is not positive, the
    ///   arrays do not have `N·K·I·3` and `N·K·3` elements, or a value is not
    ///   finite.
    public init(projections: Int, segments: Int, samples: Int, vectors: [Double],
                greatCircleOffsets: [Double]? = nil) throws(TomographyError) {
        guard projections > 0 else { throw .invalidArgument(name: "projections", expected: "≥ 1", received: "\(projections)") }
        guard segments > 0 else { throw .invalidArgument(name: "segments", expected: "≥ 1 detector segment", received: "\(segments)") }
        guard samples > 0 else { throw .invalidArgument(name: "samples", expected: "≥ 1", received: "\(samples)") }
        guard vectors.count == projections * segments * samples * 3 else {
            throw .shapeMismatch(argument: "vectors", expected: [projections, segments, samples, 3], received: [vectors.count])
        }
        let offsets = greatCircleOffsets ?? [Double](repeating: 0, count: projections * segments * 3)
        guard offsets.count == projections * segments * 3 else {
            throw .shapeMismatch(argument: "greatCircleOffsets", expected: [projections, segments, 3], received: [offsets.count])
        }
        guard vectors.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "vectors") }
        guard offsets.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "greatCircleOffsets") }
        self.projections = projections
        self.segments = segments
        self.samples = samples
        self.vectors = vectors
        self.greatCircleOffsets = offsets
    }

    /// Unchecked memberwise initialiser (the geometry builds valid arrays).
    init(unchecked projections: Int, _ segments: Int, _ samples: Int, _ vectors: [Double], _ offsets: [Double]) {
        self.projections = projections
        self.segments = segments
        self.samples = samples
        self.vectors = vectors
        self.greatCircleOffsets = offsets
    }

    /// The coordinate of sample `i` of segment `k` of projection `n`.
    @inlinable public func vector(_ n: Int, _ k: Int, _ i: Int) -> SIMD3<Double> {
        let base = ((n * segments + k) * samples + i) * 3
        return SIMD3(vectors[base], vectors[base + 1], vectors[base + 2])
    }

    /// The great-circle offset of segment `k` of projection `n`.
    @inlinable public func offset(_ n: Int, _ k: Int) -> SIMD3<Double> {
        let base = (n * segments + k) * 3
        return SIMD3(greatCircleOffsets[base], greatCircleOffsets[base + 1], greatCircleOffsets[base + 2])
    }
}

extension Geometry {
    /// The probed coordinates of this geometry, exactly as mumott 2.3's
    /// `Geometry.probed_coordinates`.
    ///
    /// Segment `k` is centred on `detectorAngles[k]` and reaches halfway to
    /// its neighbours (the first and last segments' outer neighbours are the
    /// last and first angles shifted by π unless ``fullCircleCovered``, with
    /// the ±2π unwrapping mumott does). The `I` samples are equally spaced in
    /// azimuth `α` from the segment's start to its end; each is
    /// `q = cos(θ/2)·d(α) − sin(θ/2)·p₀` with `d(α) = cos α·o + sin α·o₉₀`
    /// (``detectorDirectionOrigin``, ``detectorDirectionPositive90``) and
    /// 2θ each of ``twoTheta`` (with several rings the `K` segments are the
    /// azimuthal bins of the first ring, then of the second, …: mumott's
    /// order), rotated into the sample frame as `R_iᵀ q`.
    ///
    /// - Parameter integrationSamples: samples per segment, `I` (default 3:
    ///   start, centre and end, which is what mumott 2.3 computes; 1 gives
    ///   the centres only, for data fitted at the segment centres).
    /// - Throws: ``TomographyError`` when there are no detector angles or
    ///   `integrationSamples < 1`.
    public func probedCoordinates(integrationSamples: Int = 3) throws(TomographyError) -> ProbedCoordinates {
        let bins = detectorAngles.count, segmentCount = self.segmentCount
        guard bins > 0 else {
            throw .invalidArgument(name: "detector_angles", expected: "at least one detector segment", received: "[]")
        }
        guard integrationSamples >= 1 else {
            throw .invalidArgument(name: "integrationSamples", expected: "≥ 1", received: "\(integrationSamples)")
        }
        let shift = fullCircleCovered ? 0.0 : Double.pi
        let twoPi = 2 * Double.pi
        let samples = integrationSamples
        // Zero-rotation directions per segment and sample, and the small
        // circle's offset per segment.
        var zero = [SIMD3<Double>](repeating: .zero, count: segmentCount * samples)
        var zeroOffsets = [SIMD3<Double>](repeating: .zero, count: segmentCount)
        for k in 0..<bins {
            var before = k == 0 ? detectorAngles[bins - 1] + shift : detectorAngles[k - 1]
            let now = detectorAngles[k]
            var after = k == bins - 1 ? detectorAngles[0] + shift : detectorAngles[k + 1]
            if Swift.abs(before - now + twoPi) < Swift.abs(before - now) {
                before += twoPi
            } else if Swift.abs(before - now - twoPi) < Swift.abs(before - now) {
                before -= twoPi
            }
            if Swift.abs(now - after + twoPi) < Swift.abs(now - after) {
                after -= twoPi
            } else if Swift.abs(now - after - twoPi) < Swift.abs(now - after) {
                after += twoPi
            }
            let start = 0.5 * (before + now), end = 0.5 * (now + after)
            for (ring, angle2) in twoTheta.enumerated() {
                let cosHalf = cos(angle2 / 2), sinHalf = sin(angle2 / 2)
                let segment = ring * bins + k
                zeroOffsets[segment] = -sinHalf * pDirection0
                for i in 0..<samples {
                    let angle = Self.linspace(start, end, count: samples, index: i)
                    var d = cos(angle) * detectorDirectionOrigin
                    d += sin(angle) * detectorDirectionPositive90
                    zero[segment * samples + i] = d * cosHalf - sinHalf * pDirection0
                }
            }
        }
        var vectors = [Double](repeating: 0, count: count * segmentCount * samples * 3)
        var offsets = [Double](repeating: 0, count: count * segmentCount * 3)
        for n in 0..<count {
            let r = rotations[n]
            for k in 0..<segmentCount {
                let o = r.transposeMultiply(zeroOffsets[k])
                let ob = (n * segmentCount + k) * 3
                offsets[ob] = o.x; offsets[ob + 1] = o.y; offsets[ob + 2] = o.z
                for i in 0..<samples {
                    let v = r.transposeMultiply(zero[k * samples + i])
                    let b = ((n * segmentCount + k) * samples + i) * 3
                    vectors[b] = v.x; vectors[b + 1] = v.y; vectors[b + 2] = v.z
                }
            }
        }
        return ProbedCoordinates(unchecked: count, segmentCount, samples, vectors, offsets)
    }

    /// `numpy.linspace(start, end, count)[index]` (NumPy's formula: start +
    /// index·step, the last point exactly `end`).
    static func linspace(_ start: Double, _ end: Double, count: Int, index: Int) -> Double {
        if count == 1 { return start }
        if index == count - 1 { return end }
        let step = (end - start) / Double(count - 1)
        return start + Double(index) * step
    }
}
