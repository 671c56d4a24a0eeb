import BeamlineTestSupport
import BeamlineRegistration
import BeamlineTensor
import ComplexModule
import Foundation
import Testing

@Suite("Masked registration vs scikit-image 0.26")
struct MaskedTests {
    @Test("masked shifts (2-d, different sizes, reference mask only, 3-d)", arguments: [
        ("m2_50", true, 0.3), ("m2_diff", true, 0.5), ("m2_single", false, 0.3), ("m3", true, 0.3),
    ])
    func masked(_ name: String, _ twoMasks: Bool, _ ratio: Double) throws {
        // phase_cross_correlation(ref, mov, reference_mask=…, moving_mask=…, overlap_ratio=…)
        let f = try fixtures()
        let ref: Tensor<Double> = try f.real(name + "_ref"), mov: Tensor<Double> = try f.real(name + "_mov")
        let shift = try Registration.maskedPhaseCrossCorrelation(
            ref, mov, referenceMask: try f.bool(name + "_refmask"),
            movingMask: twoMasks ? try f.bool(name + "_movmask") : nil, overlapRatio: ratio)
        expectClose(shift, try f.real(name + "_shift").elements, 1e-9, name)
        // Float gives the same shift on these well-separated peaks.
        let shift32 = try Registration.maskedPhaseCrossCorrelation(
            ref.map { Float($0) }, mov.map { Float($0) }, referenceMask: try f.bool(name + "_refmask"),
            movingMask: twoMasks ? try f.bool(name + "_movmask") : nil, overlapRatio: ratio)
        expectClose(shift32, shift, 1e-9, name + " float32")
    }

    @Test("the skimage-style entry point returns NaN error and phase difference on the masked path")
    func combinedEntry() throws {
        let f = try fixtures()
        let r = try Registration.phaseCrossCorrelation(try f.real("m2_50_ref") as Tensor<Double>, try f.real("m2_50_mov"),
                                                       referenceMask: try f.bool("m2_50_refmask"),
                                                       movingMask: try f.bool("m2_50_movmask"))
        #expect(r.shift == (try f.real("m2_50_shift").elements))
        #expect(r.error.isNaN && r.phaseDifference.isNaN)
    }
}

@Suite("Sub-pixel shifts vs SciPy")
struct ShiftTests {
    @Test("scipy.ndimage.shift(order=3) in every mode", arguments: SplineBoundaryMode.allCases)
    func splineModes(_ mode: SplineBoundaryMode) throws {
        // ndimage.shift(img, (2.3, -4.6), order=3, mode=mode, cval=0.5 for constant) and (-20.7, 31.2)
        let f = try fixtures()
        let image: Tensor<Double> = try f.real("shift_in")
        let key = mode.rawValue.replacingOccurrences(of: "-", with: "_")
        let out = try SubpixelShift.spline(image, by: [2.3, -4.6], mode: mode, cval: mode == .constant ? 0.5 : 0)
        #expect(maxAbsoluteError(out, try f.real("shift3_" + key)) < 1e-12, "\(mode)")
        let far = try SubpixelShift.spline(image, by: [-20.7, 31.2], mode: mode)
        #expect(maxAbsoluteError(far, try f.real("shift3big_" + key)) < 1e-12, "\(mode) far")
    }

    @Test("orders 0 and 1 with grid-wrap, 3-d and 1-d cubic")
    func otherOrders() throws {
        let f = try fixtures()
        let image: Tensor<Double> = try f.real("shift_in")
        // ndimage.shift(img, (1.25, -3.5), order=1, mode='grid-wrap')
        #expect(maxAbsoluteError(try SubpixelShift.linear(image, by: [1.25, -3.5]), try f.real("shift1_grid_wrap")) < 1e-12)
        // ndimage.shift(img, (3, -5), order=0, mode='grid-wrap')
        #expect(maxAbsoluteError(try SubpixelShift.spline(image, by: [3, -5], order: 0, mode: .gridWrap),
                                 try f.real("shift0_grid_wrap")) < 1e-15)
        // ndimage.shift(vol, (0.4, -1.3, 2.2), order=3, mode='reflect')
        let volError = maxAbsoluteError(try SubpixelShift.spline(try f.real("shift_vol") as Tensor<Double>, by: [0.4, -1.3, 2.2],
                                                          mode: .reflect), try f.real("shift3_vol_reflect"))
        #expect(volError < 1e-12, "\(volError)")
        // ndimage.shift(sig, 3.7, order=3, mode='mirror')
        #expect(maxAbsoluteError(try SubpixelShift.spline(try f.real("shift_sig") as Tensor<Double>, by: [3.7], mode: .mirror),
                                 try f.real("shift3_sig_mirror")) < 1e-12)
    }

    @Test("Fourier shift: ndimage.fourier_shift on spectra and the real image shift")
    func fourier() throws {
        let f = try fixtures()
        let image: Tensor<Double> = try f.real("fshift_in")
        // ndimage.fourier_shift(np.fft.fftn(img), (1.3, -2.4))
        let spectrum = try FFT.fftn(image)
        #expect(maxAbsoluteError(try SubpixelShift.fourierShiftSpectrum(spectrum, by: [1.3, -2.4]),
                                 try f.complex("fshift_spectrum")) < 1e-12)
        // np.real(np.fft.ifftn(ndimage.fourier_shift(np.fft.fftn(img), s))), even and odd sizes
        #expect(maxAbsoluteError(try SubpixelShift.fourier(image, by: [1.3, -2.4]), try f.real("fshift_real")) < 1e-12)
        #expect(maxAbsoluteError(try SubpixelShift.fourier(try f.real("fshift_odd_in") as Tensor<Double>, by: [-0.6, 3.2]),
                                 try f.real("fshift_odd_real")) < 1e-12)
        // Complex image: the real and imaginary parts shift alike.
        let complexOut = try SubpixelShift.fourier(image.map { Complex($0, 0) }, by: [1.3, -2.4])
        #expect(maxAbsoluteError(complexOut.map { Complex($0.real, 0) }, try f.real("fshift_real").map { Complex($0, 0) }) < 1e-12)
    }

    @Test("reflect-padded Fourier shift: integer shifts move the interior exactly, no wrap-around")
    func reflectPadding() throws {
        let image = RecoveryTests.blobs(30, 40)
        let out = try SubpixelShift.fourier(image, by: [3, -4], padding: .reflect)
        #expect(out.shape == image.shape)
        for i in 3..<30 {
            for j in 0..<36 { #expect(abs(out[at: i, j] - image[at: i - 3, j + 4]) < 1e-9) }
        }
        // Row 0 comes from the reflection (row 3 of the image), not from the bottom rows.
        #expect(abs(out[at: 0, 10] - image[at: 3, 14]) < 1e-9)
    }
}

@Suite("Centre of mass vs scipy.ndimage.center_of_mass")
struct CenterOfMassTests {
    @Test("plain, masked, 3-d and labelled")
    func centres() throws {
        let f = try fixtures()
        let image: Tensor<Double> = try f.real("com_in")
        // center_of_mass(img), center_of_mass(img, labels=mask), center_of_mass(vol)
        expectClose(try Registration.centerOfMass(image), try f.real("com").elements, 1e-12, "plain")
        expectClose(try Registration.centerOfMass(image, mask: try f.bool("com_mask")), try f.real("com_masked").elements,
                    1e-12, "masked")
        expectClose(try Registration.centerOfMass(try f.real("com3_in") as Tensor<Double>), try f.real("com3").elements,
                    1e-12, "3-d")
        // center_of_mass(img, labels, [1, 3])
        let labelled = try Registration.centerOfMass(image, labels: try f.integer("com_labels"), index: [1, 3])
        expectClose(labelled.flatMap { $0 }, try f.real("com_labelled").elements, 1e-12, "labelled")
        expectClose(try Registration.centerOfMass(image.map { Float($0) }), try f.real("com").elements, 1e-5, "float32")
    }
}

@Suite("Bad input gives typed errors")
struct BadInputTests {
    let a = Tensor<Double>.normal([16, 16], seed: 1)

    @Test("phase cross-correlation")
    func phase() throws {
        #expect(throws: RegistrationError.shapeMismatch(argument: "moving", expected: [16, 16], received: [16, 15])) {
            try Registration.phaseCrossCorrelation(a, Tensor<Double>.zeros([16, 15]))
        }
        #expect(throws: RegistrationError.emptyImage(argument: "reference", shape: [0, 4])) {
            try Registration.phaseCrossCorrelation(Tensor<Double>.zeros([0, 4]), Tensor<Double>.zeros([0, 4]))
        }
        var bad = a
        bad[at: 3, 3] = .nan
        #expect(throws: RegistrationError.nonFiniteValues(argument: "moving")) {
            try Registration.phaseCrossCorrelation(a, bad)
        }
        bad[at: 3, 3] = .infinity
        #expect(throws: RegistrationError.nonFiniteValues(argument: "reference")) {
            try Registration.phaseCrossCorrelation(bad, a)
        }
        #expect(throws: RegistrationError.invalidArgument(name: "upsampleFactor", expected: "an integer ≥ 1", received: "0")) {
            try Registration.phaseCrossCorrelation(a, a, upsampleFactor: 0)
        }
        #expect(throws: RegistrationError.self) { try Registration.registerStack(Tensor<Double>.zeros([2, 3, 3]), against: a) }
    }

    @Test("masks")
    func masks() throws {
        let mask = Tensor<Bool>(shape: [16, 16], repeating: true)
        // skimage crashes (AttributeError) when only moving_mask is given.
        #expect(throws: RegistrationError.missingMask(argument: "referenceMask",
                                                       reason: "a moving mask was given without a reference mask")) {
            try Registration.phaseCrossCorrelation(a, a, referenceMask: nil, movingMask: mask)
        }
        #expect(throws: RegistrationError.self) {   // a single mask with differently sized images
            try Registration.maskedPhaseCrossCorrelation(a, Tensor<Double>.zeros([8, 8]), referenceMask: mask)
        }
        #expect(throws: RegistrationError.shapeMismatch(argument: "referenceMask", expected: [16, 16], received: [4, 4])) {
            try Registration.maskedPhaseCrossCorrelation(a, a, referenceMask: Tensor(shape: [4, 4], repeating: true))
        }
        #expect(throws: RegistrationError.emptyMask(argument: "movingMask")) {
            try Registration.maskedPhaseCrossCorrelation(a, a, referenceMask: mask,
                                                         movingMask: Tensor(shape: [16, 16], repeating: false))
        }
        #expect(throws: RegistrationError.invalidArgument(name: "overlapRatio", expected: "a value in [0, 1]", received: "1.5")) {
            try Registration.maskedPhaseCrossCorrelation(a, a, referenceMask: mask, overlapRatio: 1.5)
        }
    }

    @Test("shifts and centre of mass")
    func shifts() throws {
        #expect(throws: RegistrationError.self) { try SubpixelShift.spline(a, by: [1]) }
        #expect(throws: RegistrationError.self) { try SubpixelShift.spline(a, by: [1, .nan]) }
        #expect(throws: RegistrationError.self) { try SubpixelShift.spline(a, by: [1, 1], order: 7) }
        #expect(throws: RegistrationError.self) { try SubpixelShift.fourier(Tensor<Double>.zeros([0]), by: [1]) }
        #expect(throws: RegistrationError.zeroTotalMass(argument: "image (label 1)")) {
            try Registration.centerOfMass(Tensor<Double>.zeros([4, 4]))
        }
        #expect(throws: RegistrationError.self) {
            try Registration.centerOfMass(a, mask: Tensor(shape: [3, 3], repeating: true))
        }
    }
}
