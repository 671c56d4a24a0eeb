@testable import BeamlineRegistration
import BeamlineTensor
import ComplexModule
import Foundation
import Testing

/// The real-GEMM path is checked against the complex full-spectrum path
/// (the one the scikit-image fixtures of PhaseCrossCorrelationTests check) and
/// against a direct sum of the DFT definition; no fixture values here.
@Suite("Upsampled DFT of a Hermitian product (real GEMMs)")
struct UpsampledDFTTests {
    /// The product of two real images' half spectra, as the phase
    /// correlation forms it (unnormalised).
    static func halfProduct(_ n0: Int, _ n1: Int, seed: UInt64) throws -> Tensor<Complex<Double>> {
        let f = try FFT.rfftn(Tensor<Double>.normal([n0, n1], seed: seed))
        let g = try FFT.rfftn(Tensor<Double>.normal([n0, n1], seed: seed + 1))
        let (fe, ge) = (f.elements, g.elements)  // `elements` builds an array: once, not per element
        return Tensor(unsafeUninitializedShape: f.shape) { out in
            for i in 0..<f.count { out[i] = fe[i] * ge[i].conjugate }
        }
    }

    @Test("matches the complex two-stage DFT of the full spectrum (even, odd, tiny sizes)",
          arguments: [(16, 16, 15), (17, 12, 30), (12, 17, 7), (9, 9, 3), (2, 6, 5), (1, 8, 4), (6, 1, 4), (2, 2, 3)])
    func matchesFullSpectrum(_ n0: Int, _ n1: Int, _ factor: Int) throws {
        let half = try Self.halfProduct(n0, n1, seed: UInt64(n0 * 100 + n1))
        let u = Int((Double(factor) * 1.5).rounded(.up))
        // The full spectrum from the half (P[−r, −k] = conj P[r, k]).
        let h1 = n1 / 2 + 1
        let halfElements = half.elements
        let full = Tensor<Complex<Double>>(unsafeUninitializedShape: [n0, n1]) { out in
            for r in 0..<n0 {
                for k in 0..<n1 {
                    out[r * n1 + k] = k < h1 ? halfElements[r * h1 + k]
                        : halfElements[((n0 - r) % n0) * h1 + (n1 - k)].conjugate
                }
            }
        }
        let offsets = [Double(u / 2) - 3.0 * Double(factor), Double(u / 2) + 2.0 * Double(factor)]
        let fast = half.withUnsafeBufferPointer { p in
            UpsampledDFT.regionHermitian2D(product: p.baseAddress!, n0: n0, n1: n1, regionSize: u,
                                           factor: Double(factor), offsets: offsets).elements
        }
        let reference = full.withUnsafeBufferPointer { p in
            UpsampledDFT.region(product: p.baseAddress!, shape: [n0, n1], half: false, regionSize: u,
                                factor: Double(factor), offsets: offsets)
        }
        let scale = reference.map(\.length).max() ?? 1
        for i in 0..<reference.count {
            #expect((fast[i] - reference[i]).length <= 1e-12 * scale, "\(n0)x\(n1) at \(i): \(fast[i]) vs \(reference[i])")
        }
        // And one entry against the direct sum Σ P[r,k] exp(2πi((a−o₀)s₀/(n₀f) + (b−o₁)s₁/(n₁f))).
        let a = u / 3, b = u - 1
        var direct = Complex<Double>.zero
        let fullElements = full.elements
        for r in 0..<n0 {
            for k in 0..<n1 {
                let s0 = Double(UpsampledDFT.signedIndex(r, n0)), s1 = Double(UpsampledDFT.signedIndex(k, n1))
                let angle = 2 * Double.pi * ((Double(a) - offsets[0]) * s0 / Double(n0 * factor)
                                             + (Double(b) - offsets[1]) * s1 / Double(n1 * factor))
                direct += fullElements[r * n1 + k] * Complex(cos(angle), sin(angle))
            }
        }
        #expect((fast[a * u + b] - direct).length <= 1e-11 * scale, "direct sum \(direct) vs \(fast[a * u + b])")
    }
}
