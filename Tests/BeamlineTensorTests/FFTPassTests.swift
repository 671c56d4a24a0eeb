import BeamlineTestSupport
@testable import BeamlineTensor
import ComplexModule
import Testing

/// Large multi-axis transforms run as blocked one-axis passes
/// (FFTPasses.swift); small ones as one FFTW guru plan. Both compute the
/// same DFT, so forcing each path on the same input must agree to rounding:
/// 1e-12 relative to the largest output for Double (O(log n) roundings of
/// O(n) sums), 1e-4 for Float.
@Suite(.serialized) struct FFTPassTests {
    func bothPaths<Out: FloatingElement>(_ transform: () throws -> Tensor<Out>) throws -> (Tensor<Out>, Tensor<Out>) {
        let saved = (FFT.passThreshold, FFT.realPlaneThreshold)
        defer { (FFT.passThreshold, FFT.realPlaneThreshold) = saved }
        (FFT.passThreshold, FFT.realPlaneThreshold) = (Int.max, Int.max)
        let single = try transform()
        (FFT.passThreshold, FFT.realPlaneThreshold) = (0, 0)
        let passes = try transform()
        return (single, passes)
    }

    func agree<Out: FloatingElement>(_ pair: (Tensor<Out>, Tensor<Out>), _ tolerance: Double) -> Bool {
        let scale = Double(abs(pair.0).max())
        return pair.0.shape == pair.1.shape && maxAbsoluteError(pair.0, pair.1) <= tolerance * scale
    }

    @Test func complexAndRealTransformsAgreeOnBothPaths() throws {
        let x = Tensor<Complex<Double>>(real: Tensor.uniform([12, 10, 18], seed: 1),
                                        imaginary: Tensor.uniform([12, 10, 18], seed: 2))
        let r = Tensor<Double>.uniform([12, 10, 17], seed: 3)
        #expect(agree(try bothPaths { try FFT.fftn(x) }, 1e-12))
        #expect(agree(try bothPaths { try FFT.ifftn(x, norm: .ortho) }, 1e-12))
        #expect(agree(try bothPaths { try FFT.fftn(x, axes: [0, 2]) }, 1e-12))
        #expect(agree(try bothPaths { try FFT.fft(x, axis: 1) }, 1e-12))
        #expect(agree(try bothPaths { try FFT.fftn(x, s: [7, 19], axes: [2, 0]) }, 1e-12))
        #expect(agree(try bothPaths { try FFT.rfftn(r) }, 1e-12))
        #expect(agree(try bothPaths { try FFT.rfftn(r, axes: [2, 0]) }, 1e-12))
        #expect(agree(try bothPaths { try FFT.rfft(r, axis: 1) }, 1e-12))
        let spectrum = try FFT.rfftn(r)
        #expect(agree(try bothPaths { try FFT.irfftn(spectrum, s: [12, 10, 17]) }, 1e-12))
        #expect(agree(try bothPaths { try FFT.irfftn(try FFT.rfftn(r, axes: [0, 1]), s: [12, 10], axes: [0, 1]) }, 1e-12))
        let xf = x.cast(to: Complex<Float>.self)
        #expect(agree(try bothPaths { try FFT.fftn(xf) }, 1e-4))
    }

    @Test func passesAreIdenticalWhateverTheThreadCount() throws {
        let x = Tensor<Complex<Double>>(real: Tensor.uniform([64, 48, 40], seed: 4))
        let one = try Parallel.withThreadCount(1) { try FFT.fftn(x, axes: [0, 1]) }
        let two = try Parallel.withThreadCount(2) { try FFT.fftn(x, axes: [0, 1]) }
        #expect(one == two)
    }
}
