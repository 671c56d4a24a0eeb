import BeamlineTestSupport
import BeamlineTensor
import ComplexModule
import Foundation
import Testing

// Expected values: Tests/Fixtures/generate_linalg_fft.py (NumPy 2.4,
// numpy.fft, which uses pocketfft) → Fixtures/fft.json.
//
// Tolerances. FFTW and pocketfft are both O(log n)-accurate: the error of
// an n-point transform is about ε·log2(n)·‖x‖ per output, with inputs of
// unit variance and ‖x‖∞ ≲ 4. For n ≤ 210 points that is < 1e-13 in
// Double, so 1e-12 absolute (relative to max(|expected|, 1)) has a margin
// of ~10×; Float uses 1e-4 (ε = 1.2e-7, times log2 n ≤ 8 and the √n growth
// of the outputs, margin ~10×).

let fftTolerance = 1e-12

@Suite("FFT")
struct FFTTests {
    let fx: Fixtures
    init() throws { fx = try Fixtures.load("fft.json") }

    func close<T: FloatingElement>(_ a: Tensor<T>, _ b: Tensor<T>, _ tol: Double = fftTolerance,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        expectClose(a, b, tol, sourceLocation: sourceLocation)
    }

    @Test(arguments: [7, 8, 13, 97])
    func complexOneDimensional(n: Int) throws {
        // numpy.fft.fft(z) and numpy.fft.ifft(z) for odd, even and prime n.
        let z = try fx.complex("c\(n)")
        close(try FFT.fft(z), try fx.complex("c\(n)_fft"))
        close(try FFT.ifft(z), try fx.complex("c\(n)_ifft"))
        // Float: same data in complex64 (1e-4, see top).
        let z32 = try fx.complex("c\(n)", as: Float.self)
        close(try FFT.fft(z32), try fx.complex("c\(n)_fft", as: Float.self), 1e-4)
    }

    @Test(arguments: [7, 8, 13, 97])
    func realOneDimensional(n: Int) throws {
        // numpy.fft.rfft(r) (n/2+1 outputs), and irfft(rfft(r), n) == r.
        let r = try fx.real("r\(n)")
        let spectrum = try FFT.rfft(r)
        close(spectrum, try fx.complex("r\(n)_rfft"))
        close(try FFT.irfft(spectrum, n: n), r)
        close(try FFT.fft(r), try FFT.fft(r.map { Complex($0, 0) }))
        let r32 = try fx.real("r\(n)", as: Float.self)
        close(try FFT.rfft(r32), try fx.complex("r\(n)_rfft", as: Float.self), 1e-4)
        // A view starting one Float in (4-byte offset, not SIMD-aligned): the plan key
        // includes fftw_alignment_of, so it gets its own plan; compare with a copy.
        let tail = r32[1..<n]
        close(try FFT.rfft(tail), try FFT.rfft(tail.copied()), 1e-4)
    }

    @Test(arguments: FFTNormalization.allCases)
    func normalizationModes(norm: FFTNormalization) throws {
        // numpy.fft.fft/ifft(c13, norm=...), rfft(r8, norm=...), irfft(rfft(r8), n=8, norm=...).
        let z = try fx.complex("c13"), r = try fx.real("r8")
        close(try FFT.fft(z, norm: norm), try fx.complex("c13_fft_\(norm.rawValue)"))
        close(try FFT.ifft(z, norm: norm), try fx.complex("c13_ifft_\(norm.rawValue)"))
        close(try FFT.rfft(r, norm: norm), try fx.complex("r8_rfft_\(norm.rawValue)"))
        close(try FFT.irfft(try fx.complex("r8_rfft"), n: 8, norm: norm), try fx.real("r8_irfft_\(norm.rawValue)"))
    }

    @Test func lengthsAndIrfftParity() throws {
        // numpy.fft.fft(c7, n=10) (zero-padded), fft(c13, n=5) (cropped),
        // irfft(rfft(r7), n=7) (odd), irfft(rfft(r8)) (default n = 8), irfft(rfft(r13), n=13).
        close(try FFT.fft(try fx.complex("c7"), n: 10), try fx.complex("c7_fft_n10"))
        close(try FFT.fft(try fx.complex("c13"), n: 5), try fx.complex("c13_fft_n5"))
        close(try FFT.irfft(try fx.complex("r7_rfft"), n: 7), try fx.real("r7_irfft_n7"))
        close(try FFT.irfft(try fx.complex("r8_rfft")), try fx.real("r8_irfft_default"))
        close(try FFT.irfft(try fx.complex("r13_rfft"), n: 13), try fx.real("r13_irfft_n13"))
    }

    @Test func twoAndThreeDimensional() throws {
        // numpy.fft.fft2 / ifft2 / fft(axis=0) on (6,5); fftn, fftn(axes=(0,2)),
        // fftn(s=(3,6), axes=(2,0)), ifftn(axes=(1,2), norm="ortho") on (4,3,5).
        let z2 = try fx.complex("z2")
        close(try FFT.fftn(z2, axes: [-2, -1]), try fx.complex("z2_fft2"))
        close(try FFT.ifftn(z2, axes: [0, 1]), try fx.complex("z2_ifft2"))
        close(try FFT.fft(z2, axis: 0), try fx.complex("z2_fft_axis0"))
        let z3 = try fx.complex("z3")
        close(try FFT.fftn(z3), try fx.complex("z3_fftn"))
        close(try FFT.fftn(z3, axes: [0, 2]), try fx.complex("z3_fftn_02"))
        close(try FFT.fftn(z3, s: [3, 6], axes: [2, 0]), try fx.complex("z3_fftn_20_s"))
        close(try FFT.ifftn(z3, axes: [1, 2], norm: .ortho), try fx.complex("z3_ifftn_12_ortho"))
    }

    @Test func realBatchMatchesNumPyAndOneByOne() throws {
        // numpy.fft.rfftn(r3) on (4,3,5) for each image of the batch; the
        // batch runs one single-threaded plan per image, concurrently, so it
        // must equal rfftn image by image, whatever the thread count.
        let r3 = try fx.real("r3")
        let other = r3 * 2.5 - 1
        for threads in [1, 2] {
            try Parallel.withThreadCount(threads) {
                let spectra = try FFT.rfftn(batch: [r3, other.transposed.transposed, r3])
                #expect(spectra.count == 3)
                close(spectra[0], try fx.complex("r3_rfftn"))
                close(spectra[2], try fx.complex("r3_rfftn"))
                close(spectra[1], try FFT.rfftn(other))
            }
        }
        #expect(try FFT.rfftn(batch: [Tensor<Double>]()).isEmpty)
        #expect(throws: TensorError.self) { try FFT.rfftn(batch: [r3, Tensor<Double>.zeros([4, 3])]) }
    }

    @Test func batchedAndNonContiguous() throws {
        // numpy.fft.fft(zb, axis=-1) on (3,16): one plan with a batch loop of 3.
        close(try FFT.fft(try fx.complex("zb")), try fx.complex("zb_fft"))
        // numpy.fft.fft(z2.T, axis=-1) and fft2(z2[::-1, ::2]): transposed and negative/strided views.
        let z2 = try fx.complex("z2")
        close(try FFT.fft(z2.transposed), try fx.complex("z2T_fft"))
        let view = z2[TensorIndex.stride(by: -1), TensorIndex.stride(by: 2)]
        close(try FFT.fftn(view), try fx.complex("z2_neg_fft2"))
        // A view with an odd offset (misaligned for SIMD) must work too: z2[1:, :] vs its copy.
        let shifted = z2[1..<6]
        close(try FFT.fft(shifted), try FFT.fft(shifted.copied()))
    }

    @Test func realMultidimensional() throws {
        // numpy.fft.rfftn(r3), rfftn(r3, axes=(1,0)), irfftn(rfftn(r3), s=r3.shape, axes=(0,1,2)),
        // rfft(r3, axis=1), irfft2(rfft2(r3[0]), s=(6,7)) (odd last length).
        let r3 = try fx.real("r3")
        let spectrum = try FFT.rfftn(r3)
        close(spectrum, try fx.complex("r3_rfftn"))
        close(try FFT.rfftn(r3, axes: [1, 0]), try fx.complex("r3_rfftn_10"))
        close(try FFT.irfftn(spectrum, s: [4, 6, 7]), try fx.real("r3_irfftn"))
        close(try FFT.rfft(r3, axis: 1), try fx.complex("r3_rfft_axis1"))
        let slice = r3[0]
        close(try FFT.irfftn(try FFT.rfftn(slice, axes: [0, 1]), s: [6, 7], axes: [0, 1]), try fx.real("r2_irfft2_odd"))
        // The c2r input is not destroyed (a copy is transformed).
        let before = spectrum.elements
        _ = try FFT.irfftn(spectrum, s: [4, 6, 7])
        #expect(spectrum.elements == before)
    }

    @Test func frequenciesAndShifts() throws {
        // numpy.fft.fftfreq(8, d=0.5), fftfreq(7), rfftfreq(9, d=2.0): exact up to one rounding.
        close(try FFT.fftfreq(8, d: 0.5), try fx.real("fftfreq_8"))
        close(try FFT.fftfreq(7), try fx.real("fftfreq_7"))
        close(try FFT.rfftfreq(9, d: 2.0), try fx.real("rfftfreq_9"))
        // numpy.fft.fftshift / ifftshift on arange(15).reshape(3,5) (odd axis), and axes=1: exact.
        let sh = try fx.real("sh")
        #expect(try FFT.fftshift(sh) == (try fx.real("sh_fftshift")))
        #expect(try FFT.ifftshift(sh) == (try fx.real("sh_ifftshift")))
        #expect(try FFT.fftshift(sh, axes: [1]) == (try fx.real("sh_fftshift_1")))
        #expect(try FFT.ifftshift(try FFT.fftshift(sh)) == sh)
    }

    @Test func measuredPlansAndCache() throws {
        // FFTW_MEASURE plans on scratch buffers: the input is not clobbered and the
        // result equals the estimated plan's (numpy.fft.fft(c97)).
        let z = try fx.complex("c97")
        let before = z.elements
        close(try FFT.fft(z, planning: .measure), try fx.complex("c97_fft"))
        #expect(z.elements == before)
        // The cache is shared with tests running in parallel, so only its use is
        // checked: plans exist, and clearing it (plans in flight stay alive) is safe.
        #expect(FFT.cachedPlanCount >= 1)
        FFT.clearPlanCache()
        close(try FFT.fft(z), try fx.complex("c97_fft"))
    }

    @Test func concurrentTransforms() async throws {
        // Plans made from many tasks at once (the planner is serialised); every result
        // must equal numpy.fft.fft(c13).
        let z = try fx.complex("c13"), expected = try fx.complex("c13_fft")
        try await withThrowingTaskGroup(of: Tensor<Complex<Double>>.self) { group in
            for k in 0..<16 {
                group.addTask { try FFT.fft(z, n: k % 2 == 0 ? nil : 13, norm: .backward) }
            }
            for try await result in group { close(result, expected) }
        }
    }

    @Test func wisdomRoundTrip() throws {
        // Wisdom text from FFTW starts with "(fftw-3.3"; importing it back succeeds,
        // and through a file too. Bad text throws.
        _ = try FFT.fft(try fx.complex("c8"), planning: .measure)
        let text = FFT.exportWisdom(for: Double.self)
        #expect(text.hasPrefix("(fftw-3"))
        try FFT.importWisdom(text, for: Double.self)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-wisdom-\(getpid()).txt").path
        try FFT.exportWisdom(for: Float.self, toFile: path)
        try FFT.importWisdom(for: Float.self, fromFile: path)
        try? FileManager.default.removeItem(atPath: path)
        #expect(throws: TensorError.self) { try FFT.importWisdom("not wisdom", for: Double.self) }
    }

    @Test func errors() throws {
        let z = try fx.complex("z2")
        #expect(throws: TensorError.axisOutOfRange(axis: 2, rank: 2)) { try FFT.fft(z, axis: 2) }
        #expect(throws: TensorError.axisOutOfRange(axis: -3, rank: 2)) { try FFT.fftn(z, axes: [0, -3]) }
        #expect(throws: TensorError.invalidArgument(name: "axes", expected: "distinct axes", received: "[0, -2]")) {
            try FFT.fftn(z, axes: [0, -2])
        }
        #expect(throws: TensorError.invalidArgument(name: "n", expected: "lengths of at least 1", received: "[0]")) {
            try FFT.fft(z, n: 0)
        }
        #expect(throws: TensorError.invalidArgument(name: "x", expected: "at least 1 point along axis 1",
                                                    received: "shape [3, 0]")) {
            try FFT.rfft(Tensor<Float>.zeros([3, 0]))
        }
        #expect(throws: TensorError.self) { try FFT.irfft(Tensor<Complex<Double>>.zeros([1])) }
        #expect(throws: TensorError.self) { try FFT.fftn(z, s: [2, 2, 2], axes: [0, 1]) }
        #expect(throws: TensorError.self) { try FFT.fftfreq(0, d: 1.0) }
        #expect(throws: TensorError.self) { try FFT.fftshift(z, axes: [5]) }
        // A length-0 batch axis is fine (empty result), as in NumPy.
        #expect(try FFT.fft(Tensor<Complex<Double>>.zeros([0, 4])).shape == [0, 4])
    }
}
