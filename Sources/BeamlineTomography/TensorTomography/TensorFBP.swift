import BeamlineTensor
import ComplexModule
import Foundation

/// The window of ``TensorReconstruction/filteredBackProjection(_:rotationAxis:window:normalizationPercentile:transmittivityCutoff:)``
/// (mumott's `filter_type`), applied to its ramp.
public enum FBPWindow: String, Sendable, Hashable, CaseIterable {
    /// The bare ramp (mumott's default, `'Ram-Lak'`).
    case ramLak = "ram-lak"
    /// `0.5 + 0.5 cos(2πf)`.
    case hann
    /// `0.54 + 0.46 cos(2πf)`.
    case hamming
    /// `sinc(f)`.
    case sheppLogan = "shepp-logan"
    /// `cos(πf)`.
    case cosine
}

/// The result of ``TensorReconstruction/filteredBackProjection(_:rotationAxis:window:normalizationPercentile:transmittivityCutoff:)``.
public struct TensorFBPResult: Sendable {
    /// The back-projected absorptivity, `(X, Y, Z, 1)`.
    public var volume: Tensor<Double>
    /// The projections used: untilted, one per distinct angle (mod π), in
    /// the data's order (mumott's `fbp_indices`).
    public var projectionIndices: [Int]
    /// The detector axis the filter ran along: 1 (`j`) or 2 (`k`), as in
    /// the `(N, J, K)` projections.
    public var filterAxis: Int
}

extension TensorReconstruction {
    /// mumott's `run_fbp`: a one-step scalar reconstruction of the
    /// absorptivity from the diode of a tensor-tomography data set.
    ///
    /// Steps, as mumott 2.3:
    /// 1. absorbances `−log10` of the diode normalised per projection by its
    ///    `normalizationPercentile` and clipped to `transmittivityCutoff`
    ///    (``TensorTomographyData/absorbances(percentile:cutoff:)``);
    /// 2. the projections not tilted away from `rotationAxis` (rotations that
    ///    leave the axis where it is, to 1e-8), keeping the first of those
    ///    whose rotation angles agree modulo π to 1e-4;
    /// 3. pixels set to 0 where the transmittivity was outside the cut-off or
    ///    any segment's weight is 0;
    /// 4. along the detector axis perpendicular to `rotationAxis`, the FFT
    ///    multiplied by mumott's ramp `|f|/(4π)`, cut to 0 above a quarter of
    ///    the sampling frequency (`|f| > 1/4`), times the window, and the real
    ///    part of the inverse FFT (no padding);
    /// 5. the adjoint of the John transform over those projections.
    ///
    /// Two differences from mumott, both fixes: mumott evaluates the windows
    /// at `f/(4π)` instead of `f`, which leaves every window within 1 % of 1
    /// (they do nothing); here they are evaluated at `f`, the frequency in
    /// cycles per pixel (Ram-Lak, the default, is identical). And mumott's
    /// `transmittivity_cutoff` raises a `TypeError` whenever it is given (it
    /// assigns into a tuple); here it is used. The rotation angles are read
    /// from the rotation matrices, so data sets given as matrices (where
    /// mumott has no angles and fails) work too.
    ///
    /// - Parameters:
    ///   - data: the data set; its diode is required.
    ///   - rotationAxis: the tomographic axis (default `(0, 0, −1)`, mumott's
    ///     inner axis; pass the outer axis for mumott's `fbp_axis='outer'`).
    ///     It must lie along the `j` or the `k` detector direction.
    ///   - window: the filter's window (default Ram-Lak).
    ///   - normalizationPercentile: percentile of each projection's diode
    ///     that counts as full transmission (default 99.9).
    ///   - transmittivityCutoff: the range transmittivities are clipped to
    ///     (default `1e-4…1`; `0 < lower ≤ upper ≤ 1`).
    /// - Throws: ``TomographyError/invalidArgument(name:expected:received:)``
    ///   for a data set without diode, an axis that is zero or not along `j`
    ///   or `k`, a bad percentile or cut-off, or no untilted projection.
    public static func filteredBackProjection(
        _ data: TensorTomographyData, rotationAxis: SIMD3<Double> = SIMD3(0, 0, -1), window: FBPWindow = .ramLak,
        normalizationPercentile: Double = 99.9, transmittivityCutoff: (Double, Double) = (1e-4, 1)
    ) throws(TomographyError) -> TensorFBPResult {
        let g = data.geometry
        let norm = (rotationAxis * rotationAxis).sum().squareRoot()
        guard norm.isFinite, norm > 0 else {
            throw .invalidArgument(name: "rotationAxis", expected: "a finite, non-zero vector",
                                   received: "(\(rotationAxis.x), \(rotationAxis.y), \(rotationAxis.z))")
        }
        let axis = rotationAxis / norm
        let filterAxis = try Self.filterAxis(for: axis, geometry: g)
        guard normalizationPercentile > 0, normalizationPercentile <= 100 else {
            throw .invalidArgument(name: "normalizationPercentile", expected: "in (0, 100]", received: "\(normalizationPercentile)")
        }
        let (low, high) = transmittivityCutoff
        guard low > 0, low <= high, high <= 1 else {
            throw .invalidArgument(name: "transmittivityCutoff", expected: "0 < lower ≤ upper ≤ 1", received: "(\(low), \(high))")
        }
        let (filtered, indices) = try Self.filteredAbsorbances(data, axis: axis, filterAxis: filterAxis, window: window,
                                                               percentile: normalizationPercentile, cutoff: transmittivityCutoff)
        let projector = try JohnTransformProjector<Double>(geometry: g, channels: 1).subset(indices)
        var volume = Tensor<Double>(shape: projector.volumeShape, repeating: 0)
        filtered.withUnsafeBufferPointer { y in volume.withUnsafeMutableBufferPointer { projector.applyAdjoint(y, into: $0) } }
        return TensorFBPResult(volume: volume, projectionIndices: indices, filterAxis: filterAxis)
    }

    /// Steps 1–4 of ``filteredBackProjection(_:rotationAxis:window:normalizationPercentile:transmittivityCutoff:)``:
    /// the filtered absorbances `(n, J, K, 1)` of the chosen projections, and
    /// their indices (mumott's `get_filtered_projections`).
    static func filteredAbsorbances(_ data: TensorTomographyData, axis: SIMD3<Double>, filterAxis: Int, window: FBPWindow,
                                    percentile: Double, cutoff: (Double, Double)) throws(TomographyError) -> (Tensor<Double>, [Int]) {
        let g = data.geometry
        let indices = Self.untiltedDistinctProjections(g.rotations, axis: axis)
        guard !indices.isEmpty else {
            throw .invalidArgument(name: "rotationAxis", expected: "at least one projection not tilted away from it",
                                   received: "none of \(g.count)")
        }
        let (absorbances, inRange) = try data.absorbancesAndCutoffMask(percentile: percentile, cutoff: cutoff)
        let (nj, nk, segments) = (g.projectionShape[0], g.projectionShape[1], g.segmentCount)
        let pixels = nj * nk
        let a = absorbances.elements, w = data.weights.elements
        var selected = [Double](repeating: 0, count: indices.count * pixels)
        for (row, n) in indices.enumerated() {
            for p in 0..<pixels {
                var keep = inRange[n * pixels + p]
                for s in 0..<segments where !(w[(n * pixels + p) * segments + s] > 0) { keep = false }
                selected[row * pixels + p] = keep ? a[n * pixels + p] : 0
            }
        }
        let filtered = try Self.rampFiltered(Tensor(shape: [indices.count, nj, nk], elements: selected),
                                             axis: filterAxis, window: window)
        return (filtered, indices)
    }

    /// mumott's `_get_orthogonal_axis`: 1 (filter along `j`) when the axis
    /// has no `j` component, 2 (along `k`) otherwise; the axis must lie along
    /// `j` or `k`.
    static func filterAxis(for axis: SIMD3<Double>, geometry g: Geometry) throws(TomographyError) -> Int {
        let j = (axis * g.jDirection0).sum(), k = (axis * g.kDirection0).sum()
        guard Swift.abs(Swift.abs(j + k) - 1) <= 1e-8 + 1e-5 else {
            throw .invalidArgument(name: "rotationAxis", expected: "along the j or the k detector direction",
                                   received: "(\(axis.x), \(axis.y), \(axis.z)), j·axis = \(j), k·axis = \(k)")
        }
        return Swift.abs(j) <= 1e-8 ? 1 : 2
    }

    /// Indices of the rotations that leave `axis` in place (to 1e-8), the
    /// first of each group whose rotation angles about it agree modulo π to
    /// 1e-4 (mumott's `_get_unique_indices`).
    static func untiltedDistinctProjections(_ rotations: [Matrix3], axis: SIMD3<Double>) -> [Int] {
        // A unit vector perpendicular to the axis, to measure angles with.
        let e: SIMD3<Double> = Swift.abs(axis.x) <= Swift.abs(axis.y) && Swift.abs(axis.x) <= Swift.abs(axis.z)
            ? SIMD3(1, 0, 0) : (Swift.abs(axis.y) <= Swift.abs(axis.z) ? SIMD3(0, 1, 0) : SIMD3(0, 0, 1))
        var v = e - (e * axis).sum() * axis
        v /= (v * v).sum().squareRoot()
        var kept: [Int] = [], keptAngles: [Double] = []
        for (index, r) in rotations.enumerated() {
            let moved = r.multiply(axis) - axis
            guard (moved * moved).sum().squareRoot() <= 1e-8 else { continue }
            let rv = r.multiply(v)
            let cross = SIMD3(v.y * rv.z - v.z * rv.y, v.z * rv.x - v.x * rv.z, v.x * rv.y - v.y * rv.x)
            var angle = atan2((axis * cross).sum(), (v * rv).sum()).truncatingRemainder(dividingBy: Double.pi)
            if angle < 0 { angle += Double.pi }
            let distinct = keptAngles.allSatisfy { other in
                let delta = Swift.abs(angle - other)
                return delta > 1e-4 && delta < Double.pi - 1e-4
            }
            if kept.isEmpty || distinct { kept.append(index); keptAngles.append(angle) }
        }
        return kept
    }

    /// `projections` `(N, J, K)` filtered along `axis` (1 or 2) by mumott's
    /// ramp and the window, as `(N, J, K, 1)`.
    static func rampFiltered(_ projections: Tensor<Double>, axis: Int, window: FBPWindow) throws(TomographyError) -> Tensor<Double> {
        let length = projections.shape[axis]
        var response = [Double](repeating: 0, count: length)
        for i in 0..<length {
            // numpy.fft.fftfreq(length)[i]
            let f = Double(i < (length + 1) / 2 ? i : i - length) / Double(length)
            guard Swift.abs(f) <= 0.25 else { continue }
            let ramp = Swift.abs(f) / (4 * Double.pi)
            let shape: Double = switch window {
            case .ramLak: 1
            case .hann: 0.5 + 0.5 * cos(2 * Double.pi * f)
            case .hamming: 0.54 + 0.46 * cos(2 * Double.pi * f)
            case .sheppLogan: f == 0 ? 1 : sin(Double.pi * f) / (Double.pi * f)
            case .cosine: cos(Double.pi * f)
            }
            response[i] = ramp * shape
        }
        do {
            var spectrum = try FFT.fft(projections, axis: axis)
            let s = spectrum.shape
            let (count, nj, nk) = (s[0], s[1], s[2])
            spectrum.withUnsafeMutableBufferPointer { z in
                for n in 0..<count {
                    for j in 0..<nj {
                        for k in 0..<nk {
                            let factor: Double = response[axis == 1 ? j : k]
                            let index: Int = (n * nj + j) * nk + k
                            z[index] = Complex(z[index].real * factor, z[index].imaginary * factor)
                        }
                    }
                }
            }
            let back = try FFT.ifft(spectrum, axis: axis)
            return Tensor(shape: s + [1], elements: back.elements.map(\.real))
        } catch {
            throw .invalidArgument(name: "projections", expected: "a transformable stack", received: "\(error)")
        }
    }
}
