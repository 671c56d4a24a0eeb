@testable import BeamlineRegistration
import BeamlineTensor
import ComplexModule
import Testing

/// The C kernels behind the Double phase correlation (CBeamlineKernels,
/// AVX2 where the CPU has it) against the Swift formulas they replace: the
/// cross-power product must be bit-identical (same IEEE operations in the
/// same order), the energies equal to summation-order rounding (1e-13
/// relative), and the peak position the first occurrence of the largest
/// |x| (ties included). No reference-library values are involved: the
/// scikit-image fixtures of PhaseCrossCorrelationTests cover the results.
@Suite("Registration C kernels vs the Swift formulas")
struct RegistrationKernelTests {
    @Test("cross-power product bit for bit, energies to rounding", arguments: [0, 1, 2, 3, 7, 64, 65, 129])
    func crossPower(count: Int) {
        let a = Tensor<Double>.normal([2 * Swift.max(count, 1)], seed: 5).elements
        var b = Tensor<Double>.normal([2 * Swift.max(count, 1)], seed: 6).elements
        if count > 2 { b[2] = 0; b[3] = 0 }             // a zero product: the floor applies
        for phase in [false, true] {
            var viaC = [Double](repeating: .nan, count: 2 * count), viaSwift = viaC
            let (fc, gc, fs, gs) = a.withUnsafeBufferPointer { ab in
                b.withUnsafeBufferPointer { bb in
                    let ap = UnsafeRawPointer(ab.baseAddress!).assumingMemoryBound(to: Complex<Double>.self)
                    let bp = UnsafeRawPointer(bb.baseAddress!).assumingMemoryBound(to: Complex<Double>.self)
                    let floor = 100 * Double.ulpOfOne
                    let c = viaC.withUnsafeMutableBytes { o in
                        Double._crossPower(count: count, a: ap, b: bp,
                                           product: o.baseAddress!.assumingMemoryBound(to: Complex<Double>.self),
                                           phase: phase, floor: floor)!
                    }
                    let s = viaSwift.withUnsafeMutableBytes { o in
                        CorrelationCore<Double>.crossPowerRow(ap, bp, o.baseAddress!.assumingMemoryBound(to: Complex<Double>.self),
                                                              count: count, phase: phase, floor: floor)
                    }
                    return (c.0, c.1, s.0, s.1)
                }
            }
            #expect(viaC.map(\.bitPattern) == viaSwift.map(\.bitPattern), "count \(count), phase \(phase)")
            #expect(abs(fc - fs) <= 1e-13 * Swift.max(fs, 1) && abs(gc - gs) <= 1e-13 * Swift.max(gs, 1))
        }
    }

    @Test("first largest |x|, ties and negative values included")
    func peak() {
        var x = Tensor<Double>.normal([1003], seed: 9).elements
        x[500] = -7.5
        x[777] = 7.5                                      // tie with a negative value: the first wins
        for count in [0, 1, 5, 8, 13, 501, 1003] {
            let found = x.withUnsafeBufferPointer { CorrelationCore<Double>.firstRealPeak(UnsafeBufferPointer(rebasing: $0[0..<count])) }
            var expected = 0, top = -Double.infinity
            for i in 0..<count where abs(x[i]) > top { top = abs(x[i]); expected = i }
            #expect(found == expected, "count \(count)")
        }
    }

    /// The folding kernel of the Hermitian upsampled DFT (`bl_fold_dft_d`,
    /// AVX2 where the CPU has it) against its formula in Swift, bit for bit
    /// (same products and sums in the same order), for odd and even row
    /// counts and region widths on both sides of a 16-lane block.
    @Test("fold kernel bit for bit", arguments: [(6, 5, 1), (9, 8, 15), (8, 12, 16), (7, 9, 17), (10, 33, 32)])
    func fold(n0: Int, h1: Int, u: Int) {
        let m = h1 - 1, ldk = (u + 15) / 16 * 16, pairs = n0 / 2 + 1
        let product = Tensor<Double>.normal([2 * n0 * h1], seed: 3).elements
        var cosines = Tensor<Double>.normal([m * ldk], seed: 4).elements
        var sines = Tensor<Double>.normal([m * ldk], seed: 5).elements
        for j in 0..<m { for b in u..<ldk { cosines[j * ldk + b] = 0; sines[j * ldk + b] = 0 } }
        var viaC = [Double](repeating: .nan, count: 2 * pairs * u)
        product.withUnsafeBufferPointer { p in
            cosines.withUnsafeMutableBufferPointer { c in
                sines.withUnsafeMutableBufferPointer { s in
                    viaC.withUnsafeMutableBufferPointer { o in
                        let complex = UnsafeMutableRawPointer(mutating: p.baseAddress!).assumingMemoryBound(to: Complex<Double>.self)
                        UpsampledDFT.foldDFT(rows: 0..<pairs, n0: n0, h1: h1, m: m, u: u, ldk: ldk, product: complex,
                                             cosines: c.baseAddress!, sines: s.baseAddress!, out: o.baseAddress!)
                    }
                }
            }
        }
        var expected = [Double](repeating: 0, count: 2 * pairs * u)
        for r in 0..<pairs {
            let plus = 2 * r * h1, minus = 2 * ((n0 - r) % n0) * h1
            for b in 0..<u {
                var re = 0.0, im = 0.0
                for j in 1...m {
                    let (pr, pi) = (product[plus + 2 * j], product[plus + 2 * j + 1])
                    let (qr, qi) = (product[minus + 2 * j], product[minus + 2 * j + 1])
                    let (c, s) = (cosines[(j - 1) * ldk + b], sines[(j - 1) * ldk + b])
                    re = re + c * (pr + qr)
                    re = re + s * -(pi + qi)
                    im = im + c * (pi - qi)
                    im = im + s * (pr - qr)
                }
                expected[2 * r * u + b] = re
                expected[(2 * r + 1) * u + b] = im
            }
        }
        #expect(viaC.map(\.bitPattern) == expected.map(\.bitPattern), "n0 \(n0), h1 \(h1), u \(u)")
    }

    /// The Hermitian region (folding kernel for u ≤ 32, GEMM above) equals
    /// the complex upsampled DFT of the full product to 1e-12 of its largest
    /// value (rounding of differently ordered sums), even and odd sizes. The
    /// complex path is the one PhaseCrossCorrelationTests checks against
    /// scikit-image's fixtures (upsampled shifts, errors, phase differences).
    @Test("Hermitian region vs complex region", arguments: [(16, 16, 15), (15, 20, 15), (16, 17, 33)])
    func hermitianRegion(n0: Int, n1: Int, u: Int) throws {
        let image = Tensor<Double>.normal([n0, n1], seed: 8)
        let half = try FFT.rfftn(image), full = try FFT.fftn(image.map { Complex($0, 0) })
        let offsets = [3.25, -1.5]
        let folded = half.withUnsafeBufferPointer {
            UpsampledDFT.regionHermitian2D(product: $0.baseAddress!, n0: n0, n1: n1, regionSize: u, factor: 10, offsets: offsets)
        }
        let reference = full.withUnsafeBufferPointer {
            Tensor(UpsampledDFT.region(product: $0.baseAddress!, shape: [n0, n1], half: false, regionSize: u, factor: 10,
                                       offsets: offsets))
        }
        let scale = reference.elements.map(\.length).max()!
        let difference = zip(folded.elements, reference.elements).map { ($0 - $1).length }.max()!
        #expect(difference <= 1e-12 * scale, "\(n0)×\(n1), u \(u)")
    }
}
