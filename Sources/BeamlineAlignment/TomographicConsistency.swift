import BeamlineOperators
import BeamlineTensor
import BeamlineTomography

/// The tomographic-consistency cost of a set of slices: each slice's
/// sinogram `s(h)` (every projection's row shifted horizontally by its
/// shift), reconstructed by filtered back-projection `F`, re-projected by
/// the Radon transform `A`, and compared: `E(h) = Σ_slices ‖s(h) − A F s(h)‖²`.
///
/// `F = M ∘ c·Aᵀ ∘ W`: the sinogram filter `W` (scikit-image's filters,
/// zero-padded, symmetric, so `Wᵀ = W`), the exact adjoint `Aᵀ` of the
/// projector scaled by `c = π / (2 · angles)`, and the circle mask `M`
/// (with the optional clipping, whose derivative is 1 inside the clip
/// range and 0 outside). With these, the full gradient is
/// `∇ₛE = 2 (r − Fᵀ Aᵀ r)` with `r = s − A F s` and `Fᵀ = W ∘ c·A ∘ M`,
/// and `∂E/∂hᵢ = Σₓ ∇ₛE[x, i] · ∂sᵢ(x)/∂hᵢ`. The frozen-reference gradient
/// (toupy's scheme) keeps the synthetic sinogram fixed: `∇ₛE = 2r`.
///
/// Derivative projections (toupy's `derivatives`): `s` holds horizontal
/// derivatives, `W` is the derivative filter `W_H` (antisymmetric:
/// `W_Hᵀ = −W_H`), and the synthetic sinogram is differentiated by `D`
/// (toupy's `derivatives_sino` with the shift method) before the
/// comparison: `r = s − D A F s`, `∇ₛE = 2 (r − Fᵀ Aᵀ Dᵀ r)`. With
/// `calculateDerivatives` (toupy's `calc_derivatives`), `s` holds plain
/// projections that are differentiated (`D_c`, Fourier) before the
/// derivative filter: `r = s − A F D_c s`, `∇ₛE = 2 (r − D_cᵀ Fᵀ Aᵀ r)`.
struct TomographicConsistency: Sendable {
    let rows: ShiftableProfiles        // (slices × projections) rows of length `columns`
    let slices: Int
    let projections: Int
    let columns: Int
    let projector: RadonProjector<Double>
    let filter: FBPFilter
    let cutoff: Double
    let circle: Bool
    let clipLow: Double?
    let clipHigh: Double?
    /// 1 inside the reconstruction circle, 0 outside (all ones without `circle`).
    let mask: [Double]
    /// The derivative filter replaces the ramp family (derivative projections).
    let derivativeFilter: Bool
    /// `D` applied to the synthetic sinogram (derivative projections given).
    let syntheticDerivative: HorizontalDerivative?
    /// `D_c` applied to the sinogram before the filter (`calculateDerivatives`).
    let inputDerivative: HorizontalDerivative?

    /// - Parameter sliceRows: `slices × projections × columns`, C order.
    init(sliceRows: [Double], slices: Int, projections: Int, columns: Int, anglesDegrees: [Double],
         method: ShiftMethod, filter: FBPFilter, cutoff: Double, circle: Bool,
         clipLow: Double?, clipHigh: Double?, derivatives: Bool = false,
         calculateDerivatives: Bool = false) throws(AlignmentError) {
        rows = ShiftableProfiles(sliceRows, count: slices * projections, length: columns, method: method,
                                 maximumShift: Double(columns))
        (self.slices, self.projections, self.columns) = (slices, projections, columns)
        // Applied hundreds of times: its samples are computed once.
        do { projector = try RadonProjector(size: columns, anglesDegrees: anglesDegrees, precomputeSamples: true) } catch {
            throw .tomography(error)
        }
        (self.filter, self.cutoff, self.circle, self.clipLow, self.clipHigh) = (filter, cutoff, circle, clipLow, clipHigh)
        mask = Self.circleMask(columns: columns, circle: circle)
        derivativeFilter = derivatives
        // toupy differentiates the synthetic sinogram with its shift method,
        // and the given sinogram (calc_derivatives) with Fourier shifts.
        syntheticDerivative = derivatives && !calculateDerivatives ? HorizontalDerivative(length: columns, method: method) : nil
        inputDerivative = derivatives && calculateDerivatives ? HorizontalDerivative(length: columns, method: .fourier) : nil
    }

    /// The cost, its gradient with respect to the shifts (full or frozen),
    /// and the cost of each slice.
    func evaluate(_ shifts: [Double], fullGradient: Bool) throws(AlignmentError) -> (value: Double, gradient: [Double]) {
        let p = projections, n = columns
        let repeated = (0..<(slices * p)).map { shifts[$0 % p] }
        let (values, derivatives) = rows.evaluate(shifts: repeated, window: 0..<n)
        var value = 0.0
        var gradient = [Double](repeating: 0, count: p)
        let scale = Double.pi / (2 * Double(p))
        for slice in 0..<slices {
            // The sinogram in the Radon layout (columns, projections).
            var sinogram = [Double](repeating: 0, count: n * p)
            for i in 0..<p { for x in 0..<n { sinogram[x * p + i] = values[(slice * p + i) * n + x] } }
            let input = inputDerivative?.apply(sinogram, columns: p) ?? sinogram
            let filtered: Tensor<Double>
            do {
                filtered = try Radon.filterSinogram(Tensor(shape: [n, p], elements: input), filter: filter, cutoff: cutoff,
                                                    derivative: derivativeFilter)
            } catch { throw .tomography(error) }
            var image = projector.applyAdjoint(filtered).elements
            var passes = [Double](repeating: 1, count: n * n)
            for k in 0..<(n * n) {
                image[k] *= scale * mask[k]
                if let low = clipLow, image[k] < low { image[k] = low; passes[k] = 0 }
                if let high = clipHigh, image[k] > high { image[k] = high; passes[k] = 0 }
                passes[k] *= mask[k]
            }
            var synthetic = projector.apply(Tensor(shape: [n, n], elements: image)).elements
            if let d = syntheticDerivative { synthetic = d.apply(synthetic, columns: p) }
            var residual = [Double](repeating: 0, count: n * p)
            for k in 0..<(n * p) {
                residual[k] = sinogram[k] - synthetic[k]
                value += residual[k] * residual[k]
            }
            var sinogramGradient = residual
            if fullGradient {
                let differentiated = syntheticDerivative?.apply(residual, columns: p, transposed: true) ?? residual
                var back = projector.applyAdjoint(Tensor(shape: [n, p], elements: differentiated)).elements
                for k in 0..<(n * n) { back[k] *= passes[k] * scale }
                let reprojected = projector.apply(Tensor(shape: [n, n], elements: back))
                let filteredBack: Tensor<Double>
                do {
                    filteredBack = try Radon.filterSinogram(reprojected, filter: filter, cutoff: cutoff, derivative: derivativeFilter)
                } catch {
                    throw .tomography(error)
                }
                var correction = filteredBack.elements
                if derivativeFilter {
                    // W_Hᵀ = −W_H (odd, imaginary filter).
                    for k in correction.indices { correction[k] = -correction[k] }
                }
                if let d = inputDerivative { correction = d.apply(correction, columns: p, transposed: true) }
                for k in 0..<(n * p) { sinogramGradient[k] -= correction[k] }
            }
            for i in 0..<p {
                var g = 0.0
                for x in 0..<n { g += sinogramGradient[x * p + i] * derivatives[(slice * p + i) * n + x] }
                gradient[i] += 2 * g
            }
        }
        return (value, gradient)
    }

    /// 1 inside scikit-image's reconstruction circle (radius `n / 2`
    /// about pixel `n / 2`), 0 outside; all ones without `circle`.
    static func circleMask(columns n: Int, circle: Bool) -> [Double] {
        guard circle else { return [Double](repeating: 1, count: n * n) }
        let centre = Double(n / 2), radius = Double(n / 2)
        var mask = [Double](repeating: 0, count: n * n)
        for r in 0..<n {
            for c in 0..<n {
                let (dr, dc) = (Double(r) - centre, Double(c) - centre)
                if dr * dr + dc * dc <= radius * radius { mask[r * n + c] = 1 }
            }
        }
        return mask
    }
}
