import BeamlineTensor
import ComplexModule
import RealModule

extension Registration {
    /// Registers `moving` onto `reference` by masked normalised
    /// cross-correlation (Padfield 2012), giving the shifts of
    /// scikit-image's `phase_cross_correlation(reference, moving,
    /// reference_mask=…, moving_mask=…, overlap_ratio=…)`.
    ///
    /// The images may differ in size (same rank); pixels where a mask is
    /// false are ignored. The correlation is computed for every overlap
    /// (the "full" correlation, zero-padded to a fast FFT size), values
    /// whose mask overlap is below `overlapRatio` × the largest overlap
    /// are discarded, and the shift is the mean position of the equal
    /// maxima. All twelve FFTs run as two batched real-to-complex /
    /// complex-to-real transforms.
    ///
    /// - Parameters:
    ///   - referenceMask: valid pixels of `reference` (same shape).
    ///   - movingMask: valid pixels of `moving` (same shape as `moving`);
    ///     `nil` uses `referenceMask`, which requires images of equal shape
    ///     (scikit-image's behaviour).
    ///   - overlapRatio: minimum overlap fraction in `[0, 1]` (default 0.3).
    /// - Returns: the shift (pixels, array axis order). scikit-image returns
    ///   NaN for the error and phase difference on this path; use
    ///   ``phaseCrossCorrelation(_:_:upsampleFactor:normalization:space:disambiguate:)``
    ///   for those.
    /// - Throws: ``RegistrationError`` for ranks that differ, empty images,
    ///   NaN or infinite pixels, masks of the wrong shape, all-false masks,
    ///   a missing moving mask with differently sized images, or an
    ///   `overlapRatio` outside `[0, 1]`.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func maskedPhaseCrossCorrelation<T: RegistrationScalar>(
        _ reference: Tensor<T>, _ moving: Tensor<T>, referenceMask: Tensor<Bool>, movingMask: Tensor<Bool>? = nil,
        overlapRatio: Double = 0.3
    ) throws -> [Double] {
        try checkImage(reference, "reference")
        try checkImage(moving, "moving")
        guard reference.rank == moving.rank else {
            throw RegistrationError.invalidArgument(name: "moving", expected: "\(reference.rank) axes like reference",
                                                    received: "shape \(moving.shape)")
        }
        guard overlapRatio >= 0 && overlapRatio <= 1 else {
            throw RegistrationError.invalidArgument(name: "overlapRatio", expected: "a value in [0, 1]",
                                                    received: "\(overlapRatio)")
        }
        let secondMask: Tensor<Bool>
        if let movingMask {
            secondMask = movingMask
        } else {
            guard reference.shape == moving.shape else {
                throw RegistrationError.missingMask(argument: "movingMask",
                    reason: "the images have different shapes (\(reference.shape) and \(moving.shape)), so the reference mask cannot stand in for it")
            }
            secondMask = referenceMask
        }
        guard referenceMask.shape == reference.shape else {
            throw RegistrationError.shapeMismatch(argument: "referenceMask", expected: reference.shape,
                                                  received: referenceMask.shape)
        }
        guard secondMask.shape == moving.shape else {
            throw RegistrationError.shapeMismatch(argument: "movingMask", expected: moving.shape, received: secondMask.shape)
        }
        guard referenceMask.elements.contains(true) else { throw RegistrationError.emptyMask(argument: "referenceMask") }
        guard secondMask.elements.contains(true) else { throw RegistrationError.emptyMask(argument: "movingMask") }
        return try MaskedCore<T>.shift(reference: reference, moving: moving, referenceMask: referenceMask,
                                       movingMask: secondMask, overlapRatio: overlapRatio)
    }

    /// The entry point that mirrors scikit-image's argument list: with no
    /// mask it runs the phase cross-correlation, with masks the masked
    /// path (returning NaN error and phase difference, as scikit-image
    /// does).
    ///
    /// Unlike scikit-image, which crashes with an `AttributeError` when
    /// only `moving_mask` is given, this throws
    /// ``RegistrationError/missingMask(argument:reason:)`` naming
    /// `referenceMask`.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func phaseCrossCorrelation<T: RegistrationScalar>(
        _ reference: Tensor<T>, _ moving: Tensor<T>, referenceMask: Tensor<Bool>?, movingMask: Tensor<Bool>?,
        overlapRatio: Double = 0.3, options: PhaseCorrelationOptions = PhaseCorrelationOptions()
    ) throws -> RegistrationResult {
        if referenceMask == nil && movingMask == nil {
            return try phaseCrossCorrelation(reference, moving, options: options)
        }
        guard let referenceMask else {
            throw RegistrationError.missingMask(argument: "referenceMask",
                                                reason: "a moving mask was given without a reference mask")
        }
        let shift = try maskedPhaseCrossCorrelation(reference, moving, referenceMask: referenceMask,
                                                    movingMask: movingMask, overlapRatio: overlapRatio)
        return RegistrationResult(shift: shift, error: .nan, phaseDifference: .nan, normalizedError: .nan)
    }
}

/// The computation of the masked normalised cross-correlation.
enum MaskedCore<T: RegistrationScalar> {
    static func shift(reference: Tensor<T>, moving: Tensor<T>, referenceMask: Tensor<Bool>, movingMask: Tensor<Bool>,
                      overlapRatio: Double) throws -> [Double] {
        let rank = reference.rank
        // scikit-image calls cross_correlate_masked(moving, reference, ...): the
        // moving image is the "fixed" array and the reference the rotated one.
        let fixedShape = moving.shape, movingShape = reference.shape
        let finalShape = (0..<rank).map { fixedShape[$0] + movingShape[$0] - 1 }
        let fastShape = finalShape.map(nextFastLength)
        let fastCount = fastShape.reduce(1, *)
        let fastStrides = rowMajorStrides(fastShape)
        // Batch of six padded real arrays:
        // 0 fixed, 1 rotated moving, 2 fixed mask, 3 rotated moving mask, 4 fixed², 5 rotated moving².
        var batch = Tensor<T>(shape: [6] + fastShape, repeating: 0)
        let fixedValues = moving.elements, fixedMask = movingMask.elements
        let movingValues = reference.elements, movingMaskValues = referenceMask.elements
        batch.withUnsafeMutableBufferPointer { b in
            let base = b.baseAddress!
            func scatter(_ shape: [Int], flip: Bool, _ body: (Int, Int) -> Void) {
                let count = shape.reduce(1, *)
                var index = [Int](repeating: 0, count: rank)
                for flat in 0..<count {
                    var target = 0
                    for a in 0..<rank { target += (flip ? shape[a] - 1 - index[a] : index[a]) * fastStrides[a] }
                    body(flat, target)
                    var a = rank - 1
                    while a >= 0 {
                        index[a] += 1
                        if index[a] < shape[a] { break }
                        index[a] = 0
                        a -= 1
                    }
                }
            }
            scatter(fixedShape, flip: false) { flat, target in
                let valid = fixedMask[flat]
                let v = valid ? fixedValues[flat] : 0
                base[target] = v
                base[2 * fastCount + target] = valid ? 1 : 0
                base[4 * fastCount + target] = v * v
            }
            scatter(movingShape, flip: true) { flat, target in
                let valid = movingMaskValues[flat]
                let v = valid ? movingValues[flat] : 0
                base[fastCount + target] = v
                base[3 * fastCount + target] = valid ? 1 : 0
                base[5 * fastCount + target] = v * v
            }
        }
        let axes = Array(1...rank)
        let spectra = try backend { try FFT.rfftn(batch, axes: axes) }
        let spectrumCount = spectra.count / 6
        var products = Tensor<Complex<T>>(shape: spectra.shape, repeating: .zero)
        spectra.withUnsafeBufferPointer { s in
            products.withUnsafeMutableBufferPointer { p in
                let sp = s.baseAddress!, pp = SendablePointer(p.baseAddress!)
                // (output slot, left spectrum, right spectrum)
                let pairs = [(0, 3, 2), (1, 3, 0), (2, 2, 1), (3, 1, 0), (4, 3, 4), (5, 2, 5)]
                Parallel.forEachChunk(count: spectrumCount, minimumChunk: 16384) { range in
                    for (slot, l, r) in pairs {
                        let out = pp.base + slot * spectrumCount, a = sp + l * spectrumCount, b = sp + r * spectrumCount
                        for i in range { out[i] = a[i] * b[i] }
                    }
                }
            }
        }
        let correlations = try backend { try FFT.irfftn(products, s: fastShape, axes: axes) }
        // Combine on the final (unpadded) region, row by row in parallel
        // (maxima are exact, so the split does not change the result).
        let finalCount = finalShape.reduce(1, *)
        let rowLength = finalShape[rank - 1]
        let rows = finalCount / rowLength
        // Numerators, overlaps and denominators, one after the other.
        var fields = [T](repeating: 0, count: 3 * finalCount)
        let eps = T.ulpOfOne
        let finalLeading = Array(finalShape.dropLast())
        let rowsPerBlock = Swift.max(1, 8192 / rowLength)
        let blocks = (rows + rowsPerBlock - 1) / rowsPerBlock
        var blockMaxima = [(T, T)](repeating: (0, 0), count: blocks)
        correlations.withUnsafeBufferPointer { c in
            fields.withUnsafeMutableBufferPointer { f in
                blockMaxima.withUnsafeMutableBufferPointer { m in
                    let base = SendablePointer(UnsafeMutablePointer(mutating: c.baseAddress!))
                    let output = SendablePointer(f.baseAddress!), maxima = SendablePointer(m.baseAddress!)
                    Parallel.forEachBlock(count: rows, blockSize: rowsPerBlock) { block, range in
                        var maxDenominator: T = 0, maxOverlap: T = 0
                        for row in range {
                            let position = unravel(row, finalLeading)
                            var source = 0
                            for a in 0..<(rank - 1) { source += position[a] * fastStrides[a] }
                            let p = base.base + source
                            for j in 0..<rowLength {
                                let count = Swift.max(p[j].rounded(.toNearestOrEven), eps)   // np.fmax (no NaN here)
                                let mcFixed = p[fastCount + j], mcMoving = p[2 * fastCount + j]
                                let numerator = p[3 * fastCount + j] - mcFixed * mcMoving / count
                                let fixedDenominator = Swift.max(p[4 * fastCount + j] - mcFixed * mcFixed / count, 0)
                                let movingDenominator = Swift.max(p[5 * fastCount + j] - mcMoving * mcMoving / count, 0)
                                let denominator = (fixedDenominator * movingDenominator).squareRoot()
                                let flat = row * rowLength + j
                                output.base[flat] = numerator
                                output.base[finalCount + flat] = count
                                output.base[2 * finalCount + flat] = denominator
                                maxDenominator = Swift.max(maxDenominator, Swift.abs(denominator))
                                maxOverlap = Swift.max(maxOverlap, count)
                            }
                        }
                        maxima.base[block] = (maxDenominator, maxOverlap)
                    }
                }
            }
        }
        let maxDenominator = blockMaxima.map(\.0).max() ?? 0
        let maxOverlap = blockMaxima.map(\.1).max() ?? 0
        let tolerance = 1000 * eps * maxDenominator
        let threshold = T(overlapRatio) * maxOverlap
        var out = [T](repeating: 0, count: finalCount)
        var best = -T.infinity
        for i in 0..<finalCount {
            var value: T = 0
            let denominator = fields[2 * finalCount + i]
            if denominator > tolerance {
                value = Swift.min(1, Swift.max(-1, fields[i] / denominator))
            }
            if fields[finalCount + i] < threshold { value = 0 }
            out[i] = value
            if value > best { best = value }
        }
        // Mean position of the equal maxima.
        var center = [Double](repeating: 0, count: rank)
        var hits = 0
        for i in 0..<finalCount where out[i] == best {
            let position = unravel(i, finalShape)
            for a in 0..<rank { center[a] += Double(position[a]) }
            hits += 1
        }
        return (0..<rank).map { a in
            let mean = center[a] / Double(hits)
            let shift = mean - Double(reference.shape[a]) + 1
            return -shift + Double(moving.shape[a] - reference.shape[a]) / 2
        }
    }
}

/// The smallest `m ≥ n` whose prime factors are all 2, 3, 5 or 7 (sizes
/// FFTW transforms fastest).
@usableFromInline
func nextFastLength(_ n: Int) -> Int {
    if n <= 1 { return 1 }
    var m = n
    while true {
        var r = m
        for p in [2, 3, 5, 7] { while r % p == 0 { r /= p } }
        if r == 1 { return m }
        m += 1
    }
}
