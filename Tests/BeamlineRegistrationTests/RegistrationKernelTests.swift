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
                        CorrelationCore<Double>.crossPowerRowC(ap, bp, o.baseAddress!.assumingMemoryBound(to: Complex<Double>.self),
                                                               count: count, phase: phase, floor: floor)
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
}
