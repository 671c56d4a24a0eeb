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
    ///   - reference: the reference image (real, rank ≥ 1).
    ///   - moving: the image to register (same rank; its size may differ).
    ///   - referenceMask: valid pixels of `reference` (same shape).
    ///   - movingMask: valid pixels of `moving` (same shape as `moving`);
    ///     `nil` uses `referenceMask`, which requires images of equal shape
    ///     (scikit-image's behaviour).
    ///   - overlapRatio: minimum overlap fraction in `[0, 1]` (default 0.3).
    /// - Returns: the shift (pixels, array axis order). scikit-image returns
    ///   NaN for the error and phase difference on this path; use
    ///   `phaseCrossCorrelation(_:_:upsampleFactor:normalization:space:disambiguate:)`
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
    ) throws(RegistrationError) -> [Double] {
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
            guard reference.hasSameShape(as: moving) else {
                throw RegistrationError.missingMask(argument: "movingMask",
                    reason: "the images have different shapes (\(reference.shape) and \(moving.shape)), so the reference mask cannot stand in for it")
            }
            secondMask = referenceMask
        }
        guard referenceMask.hasSameShape(as: reference) else {
            throw RegistrationError.shapeMismatch(argument: "referenceMask", expected: reference.shape,
                                                  received: referenceMask.shape)
        }
        guard secondMask.hasSameShape(as: moving) else {
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
    ) throws(RegistrationError) -> RegistrationResult {
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
                      overlapRatio: Double) throws(RegistrationError) -> [Double] {
        let rank = reference.rank
        // scikit-image calls cross_correlate_masked(moving, reference, ...): the
        // moving image is the "fixed" array and the reference the rotated one.
        let fixedShape = moving.shape, movingShape = reference.shape
        let finalShape = (0..<rank).map { fixedShape[$0] + movingShape[$0] - 1 }
        let fastShape = finalShape.map(nextFastLength)
        let fastCount = fastShape.reduce(1, *)
        let fastStrides = rowMajorStrides(fastShape)
        let axes = Array(1...rank)
        // Batch of six padded real arrays:
        // 0 fixed, 1 rotated moving, 2 fixed mask, 3 rotated moving mask, 4 fixed², 5 rotated moving².
        let batch = padded(fixed: moving.contiguous(), fixedMask: movingMask.contiguous(),
                           rotated: reference.contiguous(), rotatedMask: referenceMask.contiguous(),
                           fastShape: fastShape)
        var spectra = try backend { () throws(TensorError) in try FFT.rfftn(batch, axes: axes) }
        let spectrumCount = spectra.count / 6
        // The six products, in place (each index reads its six spectra first),
        // with the inverse transform's 1/N applied here rather than in a pass
        // over the six real outputs.
        let inverseScale = T(1 / Double(fastCount))
        spectra.withUnsafeMutableBufferPointer { buffer in
            let s = SendableMutableBuffer(buffer)
            Parallel.forEachChunk(count: spectrumCount, minimumChunk: 16384) { range in
                let s0 = s.baseAddress, s1 = s0 + spectrumCount, s2 = s1 + spectrumCount
                let s3 = s2 + spectrumCount, s4 = s3 + spectrumCount, s5 = s4 + spectrumCount
                @inline(__always) func scaled(_ z: Complex<T>) -> Complex<T> {
                    Complex(z.real * inverseScale, z.imaginary * inverseScale)
                }
                for i in range {
                    let fixed = s0[i], rotated = s1[i], fixedMask = s2[i], rotatedMask = s3[i]
                    let fixedSquared = s4[i], rotatedSquared = s5[i]
                    s0[i] = scaled(rotatedMask * fixedMask)         // overlap
                    s1[i] = scaled(rotatedMask * fixed)             // masked correlation of the fixed image
                    s2[i] = scaled(fixedMask * rotated)             // masked correlation of the moving image
                    s3[i] = scaled(rotated * fixed)                 // image correlation
                    s4[i] = scaled(rotatedMask * fixedSquared)
                    s5[i] = scaled(fixedMask * rotatedSquared)
                }
            }
        }
        let correlations = try backend { () throws(TensorError) in try FFT.irfftn(spectra, s: fastShape, axes: axes, norm: .forward) }
        let best = correlations.withUnsafeBufferPointer { c in
            peak(correlations: c.baseAddress!, fastCount: fastCount, fastStrides: fastStrides,
                 finalShape: finalShape, overlapRatio: overlapRatio)
        }
        return (0..<rank).map { a in
            let mean = best[a]
            let shift = mean - Double(reference.length(ofAxis: a)) + 1
            return -shift + Double(moving.length(ofAxis: a) - reference.length(ofAxis: a)) / 2
        }
    }

    /// The six zero-padded arrays (fixed, rotated moving, their masks and
    /// squares; masked-out pixels are 0), each `fastShape`, written row by
    /// row in parallel; the rotated ones are flipped on every axis.
    static func padded(fixed: Tensor<T>, fixedMask: Tensor<Bool>, rotated: Tensor<T>, rotatedMask: Tensor<Bool>,
                       fastShape: [Int]) -> Tensor<T> {
        let rank = fastShape.count
        let fastCount = fastShape.reduce(1, *)
        let rowLength = fastShape[rank - 1]
        let rows = fastCount / rowLength
        let leading = Array(fastShape.dropLast())
        let fixedShape = fixed.shape, rotatedShape = rotated.shape
        return Tensor<T>(unsafeUninitializedShape: [6] + fastShape) { out in
            let base = SendableMutableBuffer(out)
            fixed.withUnsafeBufferPointer { fv in
                fixedMask.withUnsafeBufferPointer { fm in
                    rotated.withUnsafeBufferPointer { rv in
                        rotatedMask.withUnsafeBufferPointer { rm in
                            let (fv, fm, rv, rm) = (SendableBuffer(fv), SendableBuffer(fm), SendableBuffer(rv), SendableBuffer(rm))
                            Parallel.forEachChunk(count: rows, minimumChunk: Swift.max(1, 8192 / rowLength)) { range in
                                var index = [Int](repeating: 0, count: rank - 1)
                                for row in range {
                                    var rest = row
                                    for a in stride(from: rank - 2, through: 0, by: -1) {
                                        index[a] = rest % leading[a]
                                        rest /= leading[a]
                                    }
                                    // Source rows (nil where the target row is padding).
                                    var fixedRow: Int? = 0, rotatedRow: Int? = 0
                                    for a in 0..<(rank - 1) {
                                        if let r = fixedRow { fixedRow = index[a] < fixedShape[a] ? r * fixedShape[a] + index[a] : nil }
                                        if let r = rotatedRow {
                                            rotatedRow = index[a] < rotatedShape[a]
                                                ? r * rotatedShape[a] + (rotatedShape[a] - 1 - index[a]) : nil
                                        }
                                    }
                                    let target = base.pointer(at: row * rowLength)
                                    let fixedWidth = fixedRow == nil ? 0 : fixedShape[rank - 1]
                                    let fixedStart = (fixedRow ?? 0) * fixedShape[rank - 1]
                                    for j in 0..<rowLength {
                                        var value: T = 0, valid: T = 0
                                        if j < fixedWidth && fm[fixedStart + j] {
                                            value = fv[fixedStart + j]
                                            valid = 1
                                        }
                                        target[j] = value
                                        target[2 * fastCount + j] = valid
                                        target[4 * fastCount + j] = value * value
                                    }
                                    let width = rotatedRow == nil ? 0 : rotatedShape[rank - 1]
                                    let start = (rotatedRow ?? 0) * rotatedShape[rank - 1] + width - 1
                                    for j in 0..<rowLength {
                                        var value: T = 0, valid: T = 0
                                        if j < width && rm[start - j] {
                                            value = rv[start - j]
                                            valid = 1
                                        }
                                        target[fastCount + j] = value
                                        target[3 * fastCount + j] = valid
                                        target[5 * fastCount + j] = value * value
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The normalised correlation on the final (unpadded) region, with
    /// values under `overlapRatio` × the largest overlap set to 0, and the
    /// mean position of its equal maxima. The first pass (parallel over
    /// rows, vectorisable) stores the ratio numerator/denominator and the
    /// denominator and finds the largest denominator and overlap; the second
    /// applies the thresholds and finds the maxima over fixed row blocks.
    /// Maxima and integer position sums are exact, so the result does not
    /// depend on the thread count.
    static func peak(correlations p: UnsafePointer<T>, fastCount: Int, fastStrides: [Int], finalShape: [Int],
                     overlapRatio: Double) -> [Double] {
        let rank = finalShape.count
        let rowLength = finalShape[rank - 1]
        let finalCount = finalShape.reduce(1, *)
        let rows = finalCount / rowLength
        let leading = Array(finalShape.dropLast())
        let perBlock = Swift.max(1, 16384 / rowLength)
        let blocks = (rows + perBlock - 1) / perBlock
        let eps = T.ulpOfOne
        let source = SendableBuffer(start: p, validIndices: 0..<(6 * fastCount))
        /// Offset of final row `row` in the padded arrays.
        @Sendable func rowStart(_ row: Int) -> Int {
            var rest = row, start = 0
            for a in stride(from: rank - 2, through: 0, by: -1) {
                start += (rest % leading[a]) * fastStrides[a]
                rest /= leading[a]
            }
            return start
        }
        // Ratios, then denominators, then overlaps (final layout).
        var fields = [T](unsafeUninitializedCapacity: 3 * finalCount) { _, count in count = 3 * finalCount }
        var maxima = [(T, T)](repeating: (0, 0), count: blocks)
        fields.withUnsafeMutableBufferPointer { f in
            maxima.withUnsafeMutableBufferPointer { m in
                let out = SendableMutableBuffer(m), field = SendableMutableBuffer(f)
                Parallel.forEachBlock(count: rows, blockSize: perBlock) { block, range in
                    var maxDenominator: T = 0, maxOverlap: T = 0
                    for row in range {
                        let c = source.pointer(at: rowStart(row))
                        let ratio = field.pointer(at: row * rowLength, count: rowLength)
                        let denominators = ratio + finalCount, overlaps = denominators + finalCount
                        // scikit-image's formulas, elementwise (no reduction: vectorises).
                        for j in 0..<rowLength {
                            let count = Swift.max(c[j].rounded(.toNearestOrEven), eps)   // np.fmax (no NaN here)
                            let mcFixed = c[fastCount + j], mcMoving = c[2 * fastCount + j]
                            let numerator = c[3 * fastCount + j] - mcFixed * mcMoving / count
                            let fixedDenominator = Swift.max(c[4 * fastCount + j] - mcFixed * mcFixed / count, 0)
                            let movingDenominator = Swift.max(c[5 * fastCount + j] - mcMoving * mcMoving / count, 0)
                            let denominator = (fixedDenominator * movingDenominator).squareRoot()
                            ratio[j] = numerator / denominator
                            denominators[j] = denominator
                            overlaps[j] = count
                        }
                        for j in 0..<rowLength {
                            maxDenominator = Swift.max(maxDenominator, denominators[j])
                            maxOverlap = Swift.max(maxOverlap, overlaps[j])
                        }
                    }
                    out[block] = (maxDenominator, maxOverlap)
                }
            }
        }
        let tolerance = 1000 * eps * (maxima.map(\.0).max() ?? 0)
        let threshold = T(overlapRatio) * (maxima.map(\.1).max() ?? 0)
        // Per block: best value, the sums of the positions where it occurs, and how often.
        var bests = [T](repeating: -T.infinity, count: blocks)
        var sums = [Double](repeating: 0, count: blocks * (rank + 1))
        fields.withUnsafeBufferPointer { f in
            bests.withUnsafeMutableBufferPointer { b in
                sums.withUnsafeMutableBufferPointer { s in
                    let bestOut = SendableMutableBuffer(b), sumOut = SendableMutableBuffer(s)
                    let field = SendableBuffer(f)
                    Parallel.forEachBlock(count: rows, blockSize: perBlock) { block, range in
                        var best = -T.infinity
                        var positions = [Double](repeating: 0, count: rank + 1)   // per axis, then hits
                        for row in range {
                            let ratio = field.pointer(at: row * rowLength, count: rowLength)
                            let denominators = ratio + finalCount, overlaps = denominators + finalCount
                            var rowBest = -T.infinity, rowSum = 0.0, rowHits = 0.0
                            for j in 0..<rowLength {
                                var value: T = 0
                                if denominators[j] > tolerance { value = Swift.min(1, Swift.max(-1, ratio[j])) }
                                if overlaps[j] < threshold { value = 0 }
                                if value > rowBest {
                                    rowBest = value
                                    rowSum = Double(j)
                                    rowHits = 1
                                } else if value == rowBest {
                                    rowSum += Double(j)
                                    rowHits += 1
                                }
                            }
                            if rowBest > best {
                                best = rowBest
                                for a in 0...rank { positions[a] = 0 }
                            }
                            if rowBest == best {
                                var rest = row
                                for a in stride(from: rank - 2, through: 0, by: -1) {
                                    positions[a] += Double(rest % leading[a]) * rowHits
                                    rest /= leading[a]
                                }
                                positions[rank - 1] += rowSum
                                positions[rank] += rowHits
                            }
                        }
                        bestOut[block] = best
                        for a in 0...rank { sumOut[block * (rank + 1) + a] = positions[a] }
                    }
                }
            }
        }
        let best = bests.max() ?? 0
        var center = [Double](repeating: 0, count: rank + 1)
        for block in 0..<blocks where bests[block] == best {
            for a in 0...rank { center[a] += sums[block * (rank + 1) + a] }
        }
        return (0..<rank).map { center[$0] / center[rank] }
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
