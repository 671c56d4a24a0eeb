import BeamlineRegistration
import BeamlineTensor
import Testing

/// Registration results must not depend on ``Parallel/threadCount``: the
/// parallel passes (cross-power energies, the correctly normalised error,
/// the upsampled DFT, FFTW's split plans) use blocks fixed by the shape and
/// combine partial sums in block order. Each result is compared, bit for
/// bit, with the same call on one thread; no reference library is involved
/// (the scikit-image fixtures of PhaseCrossCorrelationTests cover the values).
@Suite(.serialized) struct ThreadCountTests {
    func bits(_ r: RegistrationResult) -> [UInt64] {
        r.shift.map(\.bitPattern) + [r.error.bitPattern, r.phaseDifference.bitPattern, r.normalizedError.bitPattern]
    }

    /// Sizes with one block (64²), two (128²), an even split of an odd
    /// count (256²) and non-square rows (96×200); integer and upsampled shifts.
    @Test("phase correlation gives the same bits with 1, 2 and 3 threads",
          arguments: [[64, 64], [128, 128], [256, 256], [96, 200]])
    func phaseCorrelation(shape: [Int]) throws {
        let reference = Tensor<Double>.normal(shape, seed: 21)
        let moving = try SubpixelShift.fourier(reference, by: [2.3, -5.7]) + Tensor<Double>.normal(shape, seed: 22) * 0.1
        for factor in [1, 10, 100] {
            let once = try Parallel.withThreadCount(1) {
                bits(try Registration.phaseCrossCorrelation(reference, moving, upsampleFactor: factor))
            }
            for threads in [2, 3] {
                let again = try Parallel.withThreadCount(threads) {
                    bits(try Registration.phaseCrossCorrelation(reference, moving, upsampleFactor: factor))
                }
                #expect(again == once, "shape \(shape), upsample \(factor), \(threads) threads")
            }
        }
    }
}
