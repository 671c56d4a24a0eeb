import BeamlineTestSupport
import BeamlineRegistration
import BeamlineTensor
import ComplexModule
import Foundation
import Testing

/// The fixture file, decoded once.
let registrationFixtures = Result { try Fixtures.load("registration.json") }
func fixtures() throws -> Fixtures { try registrationFixtures.get() }

func expectClose(_ a: [Double], _ b: [Double], _ tolerance: Double, _ comment: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "\(comment): \(a) vs \(b)", sourceLocation: sourceLocation)
    for (x, y) in zip(a, b) {
        #expect(abs(x - y) <= tolerance, "\(comment): \(a) vs expected \(b)", sourceLocation: sourceLocation)
    }
}

/// Angles compared modulo 2π (±π are the same phase).
func angleDistance(_ a: Double, _ b: Double) -> Double {
    let d = (a - b).truncatingRemainder(dividingBy: 2 * .pi)
    return min(abs(d), 2 * .pi - abs(d))
}

@Suite("Phase cross-correlation vs scikit-image 0.26")
struct PhaseCrossCorrelationTests {
    /// Each case: skimage.registration.phase_cross_correlation(ref, mov,
    /// upsample_factor=…, normalization=…) in generate_registration.py.
    static let realCases: [(String, Int, CrossCorrelationNormalization)] = [
        ("p2_64_up1", 1, .phase), ("p2_97x130_up10", 10, .phase), ("p2_31x17_up100", 100, .phase),
        ("p2_32_half", 1, .phase), ("p2_33_none_up20", 20, .none), ("p2_48x40_none_up1", 1, .none),
        ("p1_101_up10", 10, .phase), ("p1_64_up3", 3, .phase), ("p3_12x15x16_up4", 4, .phase),
        ("p3_9x10x11_up1", 1, .phase), ("p2_1x50_up10", 10, .phase), ("sp2_64x80_up50", 50, .phase),
        ("sp2_45_up7", 7, .phase),
    ]

    @Test("real Double images: shift to 1e-9 px, error to 1e-6, phasediff to 1e-6 rad",
          arguments: realCases)
    func realDouble(_ name: String, _ factor: Int, _ normalization: CrossCorrelationNormalization) throws {
        let f = try fixtures()
        let ref: Tensor<Double> = try f.real(name + "_ref"), mov: Tensor<Double> = try f.real(name + "_mov")
        let r = try Registration.phaseCrossCorrelation(ref, mov, upsampleFactor: factor, normalization: normalization)
        expectClose(r.shift, try f.real(name + "_shift").elements, 1e-9, name)
        #expect(abs(r.error - (try f.real(name + "_error").elements[0])) < 1e-6, "\(name) error \(r.error)")
        let expectedPhase = try f.real(name + "_phasediff").elements[0]
        #expect(angleDistance(r.phaseDifference, expectedPhase) < 1e-6, "\(name) phasediff \(r.phaseDifference) vs \(expectedPhase)")
    }

    @Test("float32 images match skimage's float32 run (shift 1e-5 px, error 1e-4)")
    func float32() throws {
        // phase_cross_correlation(ref.astype(float32), mov.astype(float32), upsample_factor=10)
        let f = try fixtures()
        let ref: Tensor<Float> = try f.real("f32_40x56_up10_ref", as: Float.self)
        let mov: Tensor<Float> = try f.real("f32_40x56_up10_mov", as: Float.self)
        let r = try Registration.phaseCrossCorrelation(ref, mov, upsampleFactor: 10)
        expectClose(r.shift, try f.real("f32_40x56_up10_shift").elements, 1e-5, "f32")
        #expect(abs(r.error - (try f.real("f32_40x56_up10_error").elements[0])) < 1e-4)
    }

    @Test("complex images (full FFT path)")
    func complexImages() throws {
        // phase_cross_correlation(ref, mov, upsample_factor=10) with complex ref/mov
        let f = try fixtures()
        let ref: Tensor<Complex<Double>> = try f.complex("c2_36x28_up10_ref")
        let mov: Tensor<Complex<Double>> = try f.complex("c2_36x28_up10_mov")
        let r = try Registration.phaseCrossCorrelation(ref, mov, upsampleFactor: 10)
        expectClose(r.shift, try f.real("c2_36x28_up10_shift").elements, 1e-9, "complex")
        #expect(abs(r.error - (try f.real("c2_36x28_up10_error").elements[0])) < 1e-6)
        #expect(angleDistance(r.phaseDifference, try f.real("c2_36x28_up10_phasediff").elements[0]) < 1e-6)
    }

    @Test("Fourier-space input")
    func fourierSpace() throws {
        // phase_cross_correlation(fftn(ref), fftn(mov), upsample_factor=10, space="fourier")
        let f = try fixtures()
        let ref: Tensor<Complex<Double>> = try f.complex("fs_50x44_up10_ref")
        let mov: Tensor<Complex<Double>> = try f.complex("fs_50x44_up10_mov")
        let r = try Registration.phaseCrossCorrelation(ref, mov, upsampleFactor: 10, space: .fourier)
        expectClose(r.shift, try f.real("fs_50x44_up10_shift").elements, 1e-9, "fourier")
        #expect(abs(r.error - (try f.real("fs_50x44_up10_error").elements[0])) < 1e-6)
        #expect(angleDistance(r.phaseDifference, try f.real("fs_50x44_up10_phasediff").elements[0]) < 1e-6)
        // The same images in real space give the same shift.
        let real = try Registration.phaseCrossCorrelation(try f.real("fs_50x44_ref_real") as Tensor<Double>,
                                                          try f.real("fs_50x44_mov_real"), upsampleFactor: 10)
        expectClose(real.shift, r.shift, 1e-9, "real vs fourier")
    }

    @Test("disambiguation picks skimage's wrap candidate", arguments: [
        ("dis_64_int", 1, true), ("dis_64_up10", 10, true), ("dis_64_sub_up10", 10, true), ("nodis_64_int", 1, false),
    ])
    func disambiguation(_ name: String, _ factor: Int, _ disambiguate: Bool) throws {
        // phase_cross_correlation(ref, mov, upsample_factor=…, disambiguate=…)
        let f = try fixtures()
        let r = try Registration.phaseCrossCorrelation(try f.real(name + "_ref") as Tensor<Double>, try f.real(name + "_mov"),
                                                       upsampleFactor: factor, disambiguate: disambiguate)
        expectClose(r.shift, try f.real(name + "_shift").elements, 1e-9, name)
    }

    @Test("plans are reused: a second call on the same shape adds no FFT plan")
    func planReuse() throws {
        let a = Tensor<Double>.normal([40, 48], seed: 1), b = Tensor<Double>.normal([40, 48], seed: 2)
        _ = try Registration.phaseCrossCorrelation(a, b, upsampleFactor: 10)
        // Other tests running in parallel may add plans of their own: retry a few times.
        var stable = false
        for _ in 0..<10 where !stable {
            let plans = FFT.cachedPlanCount
            _ = try Registration.phaseCrossCorrelation(b, a, upsampleFactor: 10)
            stable = FFT.cachedPlanCount == plans
        }
        #expect(stable)
    }
}

@Suite("Recovery of known sub-pixel shifts")
struct RecoveryTests {
    /// A smooth, non-periodic-looking test image (sum of Gaussians).
    static func blobs(_ rows: Int, _ cols: Int) -> Tensor<Double> {
        Tensor(unsafeUninitializedShape: [rows, cols]) { b in
            for i in 0..<rows {
                for j in 0..<cols {
                    let y = Double(i), x = Double(j)
                    b[i * cols + j] = exp(-((y - 20) * (y - 20) + (x - 25) * (x - 25)) / 40)
                        + 0.7 * exp(-((y - 40) * (y - 40) + (x - 12) * (x - 12)) / 20)
                        + 0.4 * exp(-((y - 15) * (y - 15) + (x - 50) * (x - 50)) / 60)
                }
            }
        }
    }

    @Test("Fourier-shifted smooth and noisy images are recovered within 1/upsample px",
          arguments: [([3.37, -7.81], 20, 0.0), ([-12.25, 4.6], 50, 0.0), ([0.43, 9.9], 10, 0.02)])
    func recovery(_ shift: [Double], _ factor: Int, _ noise: Double) throws {
        let reference = Self.blobs(64, 72)
        var moving = try SubpixelShift.fourier(reference, by: shift)
        if noise > 0 { moving = moving + Tensor<Double>.normal([64, 72], standardDeviation: noise, seed: 7) }
        // Phase correlation whitens the spectrum, so noise at frequencies where the smooth image has
        // no power swamps it (skimage's documentation says so too): noisy images use normalization none.
        for normalization in noise > 0 ? [.none] : CrossCorrelationNormalization.allCases {
            let r = try Registration.phaseCrossCorrelation(reference, moving, upsampleFactor: factor,
                                                           normalization: normalization)
            expectClose(r.shift, shift.map { -$0 }, 1.0 / Double(factor) + 1e-12, "\(normalization)")
            if noise == 0 && normalization == .none { #expect(r.normalizedError < 0.05) }
        }
    }

    @Test("normalized error: ≈ 0 for a pure translate with phase normalisation, while skimage's error is ≈ 1")
    func normalizedError() throws {
        let reference = Tensor<Double>.normal([32, 32], seed: 3)
        let moving = try SubpixelShift.fourier(reference, by: [5, -3])
        let r = try Registration.phaseCrossCorrelation(reference, moving)
        #expect(r.shift == [-5, 3])
        #expect(r.normalizedError < 1e-6)
        #expect(r.error > 0.99)
        let unrelated = try Registration.phaseCrossCorrelation(reference, Tensor<Double>.normal([32, 32], seed: 4))
        #expect(unrelated.normalizedError > 0.9)
    }

    @Test("normalized error at integer shifts: the real-space sum equals the spectral one (2-d, 3-d, odd sizes)")
    func normalizedErrorRealSpace() throws {
        // Real images without upsampling take the real-space correlation
        // Σ f(x) g(x − s); complex images the spectral sum (1/N) Σ F G* e^{2πik·s/n}.
        // Both are the same number up to rounding (1e-12 on an error near 0.7).
        for (shape, shift) in [([23, 30], [4.0, -9.0]), ([9, 12, 7], [-2.0, 5.0, 3.0]), ([31, 1], [6.0, 0.0])] {
            let reference = Tensor<Double>.normal(shape, seed: 21)
            let moving = try SubpixelShift.fourier(reference, by: shift) * 0.8
                + Tensor<Double>.normal(shape, standardDeviation: 0.7, seed: 22)
            let real = try Registration.phaseCrossCorrelation(reference, moving)
            let complex = try Registration.phaseCrossCorrelation(
                Tensor<Complex<Double>>(real: reference, imaginary: Tensor(shape: shape, repeating: 0)),
                Tensor<Complex<Double>>(real: moving, imaginary: Tensor(shape: shape, repeating: 0)))
            #expect(real.shift == shift.map { -$0 })
            #expect(complex.shift == real.shift)
            #expect(abs(real.normalizedError - complex.normalizedError) < 1e-12,
                    "\(shape): \(real.normalizedError) vs \(complex.normalizedError)")
            #expect(real.normalizedError > 0.1 && real.normalizedError < 0.99)
        }
    }

    @Test("measured FFT plans give the same registration (shift to 1e-9 px, errors to 1e-9)")
    func measuredPlans() throws {
        // FFTW's measured plans may use another decomposition: the same DFT up
        // to rounding, so the same peak and sub-pixel position.
        let reference = Self.blobs(40, 36)
        let moving = try SubpixelShift.fourier(reference, by: [2.3, -4.7])
        for factor in [1, 20] {
            let estimate = try Registration.phaseCrossCorrelation(reference, moving,
                                                                  options: PhaseCorrelationOptions(upsampleFactor: factor))
            let measure = try Registration.phaseCrossCorrelation(
                reference, moving, options: PhaseCorrelationOptions(upsampleFactor: factor, planning: .measure))
            expectClose(measure.shift, estimate.shift, 1e-9, "factor \(factor)")
            #expect(abs(measure.error - estimate.error) < 1e-9 && abs(measure.normalizedError - estimate.normalizedError) < 1e-9)
        }
    }

    @Test("batch registration equals one-by-one registration, any thread count")
    func batch() throws {
        let reference = Self.blobs(48, 56)
        let shifts = [[1.5, -2.25], [-3.1, 0.4], [7.0, 2.0], [0.2, -6.6], [2.5, 2.5]]
        let movers = try shifts.map { try SubpixelShift.fourier(reference, by: $0) }
        let stack = try Tensor.stacked(movers)
        let options = PhaseCorrelationOptions(upsampleFactor: 20)
        let stackedReferences = try Tensor.stacked(Array(repeating: reference, count: shifts.count))
        // One-by-one registrations on one thread are the reference; the
        // batch must give the same results with 1, 2 and 3 threads.
        let oneByOne = try Parallel.withThreadCount(1) {
            try movers.map { try Registration.phaseCrossCorrelation(reference, $0, options: options) }
        }
        for threads in [1, 2, 3] {
            try Parallel.withThreadCount(threads) {
                let results = try Registration.registerStack(stack, against: reference, options: options)
                for (i, _) in movers.enumerated() {
                    #expect(results[i] == oneByOne[i], "image \(i), \(threads) threads")
                    expectClose(results[i].shift, shifts[i].map { -$0 }, 0.05 + 1e-12, "image \(i)")
                }
                #expect(try Registration.registerStack(stack, against: stackedReferences, options: options).map(\.shift)
                        == results.map(\.shift))
            }
        }
    }
}
