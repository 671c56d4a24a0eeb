import BeamlineTensor
import CBeamlineKernels
import ComplexModule
import RealModule

/// How the cross-power spectrum is normalised before the inverse FFT
/// (scikit-image's `normalization`).
public enum CrossCorrelationNormalization: String, Sendable, CaseIterable {
    /// Phase correlation: divide by `max(|P|, 100·eps)` (the default).
    case phase
    /// Plain cross-correlation (scikit-image's `normalization=None`).
    case none
}

/// Whether the images are given in real space or are already spectra
/// (scikit-image's `space`).
public enum RegistrationSpace: String, Sendable, CaseIterable {
    /// Real-space images (transformed here; real input uses `rfftn`).
    case real
    /// Fourier-space spectra as `fftn` returns them (full, unshifted).
    case fourier
}

/// Settings of `phaseCrossCorrelation(_:_:options:)`.
public struct PhaseCorrelationOptions: Sendable, Equatable {
    /// Registration precision is `1/upsampleFactor` pixel (≥ 1; 1 means the
    /// integer peak only).
    public var upsampleFactor: Int
    /// Normalisation of the cross-power spectrum.
    public var normalization: CrossCorrelationNormalization
    /// Whether the inputs are images or spectra.
    public var space: RegistrationSpace
    /// Resolve the periodic ambiguity of the shift by testing the 2^ndim
    /// wrap candidates in real space (scikit-image's `disambiguate`).
    public var disambiguate: Bool
    /// FFTW planning effort for the transforms (Beamline's addition).
    /// `estimate` (the default) plans instantly. When many
    /// images of one shape are registered (a stack, an alignment loop),
    /// `measure` pays once per shape (about 0.15 s at 128²,
    /// 0.4 s at 512² on the development machine) for plans that run
    /// 1.2–1.6× faster; plans are cached, so later calls reuse them.
    public var planning: FFTPlanning

    /// Options with scikit-image's defaults unless given.
    public init(upsampleFactor: Int = 1, normalization: CrossCorrelationNormalization = .phase,
                space: RegistrationSpace = .real, disambiguate: Bool = false, planning: FFTPlanning = .estimate) {
        self.upsampleFactor = upsampleFactor
        self.normalization = normalization
        self.space = space
        self.disambiguate = disambiguate
        self.planning = planning
    }
}

/// What a phase cross-correlation returns.
public struct RegistrationResult: Sendable, Equatable {
    /// The shift (pixels, array axis order) that registers the moving image
    /// onto the reference: for `moving(x) = reference(x − s)` it is `−s`.
    public var shift: [Double]
    /// scikit-image's `error`: `sqrt(|1 − |CCmax|² / (A_ref·A_mov)|)` with
    /// `CCmax` the (normalised) correlation peak and `A` the spectral
    /// energies. With ``CrossCorrelationNormalization/phase`` this is
    /// ≈ 1 for every pair of images (the peak of a phase correlation is not
    /// comparable to the energies); kept for compatibility.
    public var error: Double
    /// The global phase difference `atan2(Im CCmax, Re CCmax)` (scikit-image's
    /// `phasediff`; 0 for non-negative real images, ±π for a negative peak).
    public var phaseDifference: Double
    /// A correctly normalised RMS error, whatever the normalisation:
    /// `sqrt(max(0, 1 − |r(s)|² / (Σ|f|²·Σ|g|²)))` where `r(s)` is the
    /// *unnormalised* cross-correlation `Σ_x f(x)·conj(g(x − s))`
    /// evaluated (band-limited, from the spectra) at the returned shift.
    /// It is 0 when the moving image is an exact (sub-pixel, periodic)
    /// translate of the reference up to a global complex factor, and
    /// approaches 1 for unrelated images (Guizar-Sicairos et al. 2008,
    /// eq. 1). For real images the real part of `r(s)` is used.
    public var normalizedError: Double

    /// Makes a result.
    public init(shift: [Double], error: Double, phaseDifference: Double, normalizedError: Double) {
        self.shift = shift
        self.error = error
        self.phaseDifference = phaseDifference
        self.normalizedError = normalizedError
    }
}

/// Image registration by cross-correlation: phase cross-correlation with
/// upsampled-DFT refinement (Guizar-Sicairos et al. 2008), masked
/// normalised cross-correlation (Padfield 2012) and batch registration of
/// stacks, following scikit-image 0.26's
/// `skimage.registration.phase_cross_correlation` conventions.
public enum Registration {
    /// Registers `moving` onto `reference` (real images of any rank ≥ 1,
    /// typically 2-d or 3-d) by phase cross-correlation, as scikit-image's
    /// `phase_cross_correlation(reference, moving, upsample_factor=…,
    /// space=…, disambiguate=…, normalization=…)`.
    ///
    /// The spectra are computed with real-to-complex FFTs (FFTW plans are
    /// cached, so repeated calls on one shape reuse them); the refinement
    /// runs as one GEMM per axis on a `ceil(1.5·factor)`-point grid centred
    /// as scikit-image centres it, using the Hermitian symmetry of the
    /// product: for 2-d images both GEMMs are real (half and a quarter of
    /// the multiply-adds of the complex ones), for other ranks the largest
    /// complex GEMM is halved.
    ///
    /// - Parameters:
    ///   - reference: the reference image.
    ///   - moving: the image to register, same shape as `reference`.
    ///   - upsampleFactor: precision `1/upsampleFactor` px (≥ 1).
    ///   - normalization: ``CrossCorrelationNormalization/phase`` (default) or none.
    ///   - space: ``RegistrationSpace/real`` (default); with
    ///     ``RegistrationSpace/fourier`` the real tensors are taken as
    ///     real-valued spectra.
    ///   - disambiguate: test the 2^ndim periodic candidates in real space.
    /// - Returns: shift, scikit-image's error and phase difference, and a
    ///   correctly normalised error (see ``RegistrationResult``).
    /// - Throws: ``RegistrationError`` for different shapes, empty images,
    ///   NaN or infinite pixels, or `upsampleFactor < 1`.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func phaseCrossCorrelation<T: RegistrationScalar>(
        _ reference: Tensor<T>, _ moving: Tensor<T>, upsampleFactor: Int = 1,
        normalization: CrossCorrelationNormalization = .phase, space: RegistrationSpace = .real,
        disambiguate: Bool = false
    ) throws(RegistrationError) -> RegistrationResult {
        try phaseCrossCorrelation(reference, moving, options: PhaseCorrelationOptions(
            upsampleFactor: upsampleFactor, normalization: normalization, space: space, disambiguate: disambiguate))
    }

    /// `phaseCrossCorrelation(_:_:upsampleFactor:normalization:space:disambiguate:)`
    /// with the settings in one value.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func phaseCrossCorrelation<T: RegistrationScalar>(
        _ reference: Tensor<T>, _ moving: Tensor<T>, options: PhaseCorrelationOptions
    ) throws(RegistrationError) -> RegistrationResult {
        try validate(reference, moving, options)
        if options.space == .fourier {
            try checkImage(reference, "reference")
            try checkImage(moving, "moving")
            return try CorrelationCore<T>.run(spectraReference: reference.map { Complex($0, 0) },
                                              moving: moving.map { Complex($0, 0) }, options: options)
        }
        // Finiteness is checked through the spectral energies (a NaN or
        // infinite pixel makes them non-finite), sparing two passes over
        // the images; the pixels themselves are scanned only then.
        try checkNotEmpty(reference, "reference")
        try checkNotEmpty(moving, "moving")
        return try CorrelationCore<T>.run(realReference: reference, moving: moving, options: options)
    }

    /// Phase cross-correlation of complex images (or, with
    /// ``RegistrationSpace/fourier``, of their `fftn` spectra), as
    /// scikit-image does for complex input. See the real overload for the
    /// parameters; full complex FFTs are used.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func phaseCrossCorrelation<T: RegistrationScalar>(
        _ reference: Tensor<Complex<T>>, _ moving: Tensor<Complex<T>>, upsampleFactor: Int = 1,
        normalization: CrossCorrelationNormalization = .phase, space: RegistrationSpace = .real,
        disambiguate: Bool = false
    ) throws(RegistrationError) -> RegistrationResult {
        try phaseCrossCorrelation(reference, moving, options: PhaseCorrelationOptions(
            upsampleFactor: upsampleFactor, normalization: normalization, space: space, disambiguate: disambiguate))
    }

    /// The complex overload with the settings in one value.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func phaseCrossCorrelation<T: RegistrationScalar>(
        _ reference: Tensor<Complex<T>>, _ moving: Tensor<Complex<T>>, options: PhaseCorrelationOptions
    ) throws(RegistrationError) -> RegistrationResult {
        try validate(reference, moving, options)
        try checkImage(reference, "reference")
        try checkImage(moving, "moving")
        if options.space == .fourier {
            return try CorrelationCore<T>.run(spectraReference: reference, moving: moving, options: options)
        }
        let f = try backend { () throws(TensorError) in try FFT.fftn(reference, planning: options.planning) }
        let g = try backend { () throws(TensorError) in try FFT.fftn(moving, planning: options.planning) }
        return try CorrelationCore<T>.run(spectraReference: f, moving: g, options: options,
                                          realSpace: (reference, moving))
    }

    static func validate<A: TensorElement, B: TensorElement>(_ a: Tensor<A>, _ b: Tensor<B>,
                                                             _ options: PhaseCorrelationOptions) throws(RegistrationError) {
        guard options.upsampleFactor >= 1 else {
            throw RegistrationError.invalidArgument(name: "upsampleFactor", expected: "an integer ≥ 1",
                                                    received: "\(options.upsampleFactor)")
        }
        guard a.hasSameShape(as: b) else {
            throw RegistrationError.shapeMismatch(argument: "moving", expected: a.shape, received: b.shape)
        }
    }
}

/// The shared computation of a phase cross-correlation.
@usableFromInline
enum CorrelationCore<T: RegistrationScalar> {
    /// Real images: half spectra from `rfftn`.
    static func run(realReference: Tensor<T>, moving: Tensor<T>, options: PhaseCorrelationOptions) throws(RegistrationError) -> RegistrationResult {
        let shape = realReference.shape
        // Both spectra at once, one image a thread (small and mid-sized images).
        let spectra = try backend { () throws(TensorError) in try FFT.rfftn(batch: [realReference, moving], planning: options.planning) }
        return try finish(f: spectra[0], g: spectra[1], shape: shape, half: true, options: options,
                          disambiguationImages: { (realReference.map { Complex($0, 0) }, moving.map { Complex($0, 0) }) },
                          realImages: (realReference, moving),
                          checkImages: { () throws(RegistrationError) in
                              try checkImage(realReference, "reference")
                              try checkImage(moving, "moving")
                          })
    }

    /// Complex spectra (full).
    static func run(spectraReference f: Tensor<Complex<T>>, moving g: Tensor<Complex<T>>, options: PhaseCorrelationOptions,
                    realSpace: (Tensor<Complex<T>>, Tensor<Complex<T>>)? = nil) throws(RegistrationError) -> RegistrationResult {
        let images: () throws(RegistrationError) -> (Tensor<Complex<T>>, Tensor<Complex<T>>) = {
            if let realSpace { return realSpace }
            return (try backend { () throws(TensorError) in try FFT.ifftn(f, planning: options.planning) },
                    try backend { () throws(TensorError) in try FFT.ifftn(g, planning: options.planning) })
        }
        return try finish(f: f.contiguous(), g: g.contiguous(), shape: f.shape, half: false, options: options,
                          disambiguationImages: images, realImages: nil)
    }

    static func finish(f: Tensor<Complex<T>>, g: Tensor<Complex<T>>, shape: [Int], half: Bool,
                       options: PhaseCorrelationOptions,
                       disambiguationImages: () throws(RegistrationError) -> (Tensor<Complex<T>>, Tensor<Complex<T>>),
                       realImages: (Tensor<T>, Tensor<T>)?,
                       checkImages: (() throws(RegistrationError) -> Void)? = nil) throws(RegistrationError) -> RegistrationResult {
        let rank = shape.count
        let total = shape.reduce(1, *)
        let lastFull = shape[rank - 1]
        // Cross-power spectrum, its normalisation and the spectral energies.
        let (product, srcEnergy, tgtEnergy) = crossPowerSpectrum(f: f, g: g, lastFull: lastFull, half: half,
                                                                 phase: options.normalization == .phase)
        // Non-finite energies: a NaN or infinite pixel (typed error), or an overflow of finite ones.
        if let checkImages, !(srcEnergy.isFinite && tgtEnergy.isFinite) { try checkImages() }
        var srcAmp = srcEnergy, tgtAmp = tgtEnergy
        // Integer peak of |IFFT(product)| (first occurrence).
        let peak: Int
        var ccMax: Complex<Double>
        // The inverse is left unscaled (the argmax does not need the 1/N, which
        // would be one more pass); the peak value is scaled as NumPy scales it.
        let inverseScale = T(1 / Double(total))
        let factor = options.upsampleFactor
        if half {
            // Without upsampling the product is not needed again: the c2r may overwrite it.
            let cc = try backend { () throws(TensorError) in
                factor == 1 ? try FFT.irfftn(destroying: product, s: shape, norm: .forward, planning: options.planning)
                            : try FFT.irfftn(product, s: shape, norm: .forward, planning: options.planning)
            }
            peak = cc.withUnsafeBufferPointer { firstRealPeak($0) }
            ccMax = Complex(Double(cc.withUnsafeBufferPointer { $0[peak] } * inverseScale), 0)
        } else {
            let cc = try backend { () throws(TensorError) in try FFT.ifftn(product, norm: .forward, planning: options.planning) }
            peak = cc.withUnsafeBufferPointer { firstPeak($0) }
            let value = cc.withUnsafeBufferPointer { $0[peak] }
            ccMax = Complex(Double(value.real * inverseScale), Double(value.imaginary * inverseScale))
        }
        let maxima = unravel(peak, shape)
        var shift = [T](repeating: 0, count: rank)
        for a in 0..<rank {
            shift[a] = T(maxima[a])
            if maxima[a] > shape[a] / 2 { shift[a] -= T(shape[a]) }
        }
        if factor == 1 {
            srcAmp /= Double(total)
            tgtAmp /= Double(total)
        } else {
            let up = T(factor)
            for a in 0..<rank { shift[a] = (shift[a] * up).rounded(.toNearestOrEven) / up }
            let regionSize = Int((Double(factor) * 1.5).rounded(.up))
            let dftShift = T(regionSize / 2)
            let offsets = (0..<rank).map { Double(dftShift - shift[$0] * up) }
            let region = product.withUnsafeBufferPointer { p in
                half && rank == 2
                    ? UpsampledDFT.regionHermitian2D(product: p.baseAddress!, n0: shape[0], n1: shape[1],
                                                     regionSize: regionSize, factor: Double(factor), offsets: offsets)
                    : Tensor(UpsampledDFT.region(product: p.baseAddress!, shape: shape, half: half,
                                                 regionSize: regionSize, factor: Double(factor), offsets: offsets))
            }
            // First largest modulus; the modulus (a square root) is taken only where the
            // squared one does not rule the point out (the square root is monotonic).
            let (at, peakValue) = region.withUnsafeBufferPointer { values -> (Int, Complex<T>) in
                var best = -T.infinity, bestSquared = -T.infinity, at = 0
                for i in 0..<values.count {
                    let squared = values[i].lengthSquared
                    if squared >= bestSquared, values[i].length > best {
                        best = values[i].length
                        bestSquared = squared
                        at = i
                    }
                }
                return (at, values[at])
            }
            ccMax = Complex(Double(peakValue.real), Double(peakValue.imaginary))
            let local = unravel(at, [Int](repeating: regionSize, count: rank))
            for a in 0..<rank { shift[a] += (T(local[a]) - dftShift) / up }
        }
        var result = shift.map { Double($0) }
        for a in 0..<rank where shape[a] == 1 { result[a] = 0 }
        if options.disambiguate {
            let (reference, moving) = try disambiguationImages()
            result = Disambiguation.resolve(reference: reference, moving: moving, shift: result)
        }
        let amp = srcAmp * tgtAmp
        let error = (1.0 - ccMax.lengthSquared / amp).magnitude.squareRoot()
        let phaseDifference = Double.atan2(y: ccMax.imaginary, x: ccMax.real)
        let energy = srcAmp * tgtAmp * (factor == 1 ? 1 : 1 / Double(total * total))
        let normalized: Double
        if let realImages, factor == 1 {
            // An integer shift: the correlation there is a real-space sum (half the data of the spectra).
            let r = circularCorrelation(realImages.0, realImages.1, shift: result.map { Int($0) })
            normalized = rmsError(correlationSquared: r * r, energy: energy)
        } else {
            normalized = normalizedError(f: f, g: g, shape: shape, half: half, shift: result, energy: energy,
                                         realImages: realImages != nil)
        }
        return RegistrationResult(shift: result, error: error, phaseDifference: phaseDifference,
                                  normalizedError: normalized)
    }

    /// Rows per block in the parallel loops below: fixed by the shape, so
    /// partial sums combine in the same order whatever the thread count.
    /// Blocks of nearly equal size, each about 8 Ki elements or fewer, and
    /// an even number of them when there are several, so two threads get
    /// equal shares (a 128² half spectrum is two blocks of 64 rows: with the
    /// pool's workers awake, two threads pay from there).
    static func rowsPerBlock(_ rowLength: Int, rows: Int) -> Int {
        let length = Swift.max(rowLength, 1), count = Swift.max(rows, 1)
        var blocks = Swift.max(1, (count * length + 8191) / 8192)
        if blocks > 1 { blocks += blocks % 2 }
        return (count + blocks - 1) / blocks
    }

    /// `F·conj(G)` (divided by `max(|F·conj(G)|, 100·eps)` for phase
    /// normalisation, as a multiplication by the reciprocal, which is what
    /// NumPy's complex-by-real division does) and the spectral energies
    /// `Σ|F|²`, `Σ|G|²` (half spectra count their mirrored columns twice).
    /// Parallel over fixed row blocks; energies combine in block order.
    static func crossPowerSpectrum(f: Tensor<Complex<T>>, g: Tensor<Complex<T>>, lastFull: Int, half: Bool,
                                   phase: Bool) -> (Tensor<Complex<T>>, Double, Double) {
        let h = f.length(ofAxis: -1)
        let rows = f.count / Swift.max(h, 1)
        let perBlock = rowsPerBlock(h, rows: rows)
        let blocks = (rows + perBlock - 1) / perBlock
        var energies = [Double](repeating: 0, count: 2 * blocks)
        let floor = 100 * T.ulpOfOne
        // Columns 1 ..< mirroredEnd of a half spectrum stand for two bins each.
        let mirroredEnd = half ? (lastFull % 2 == 0 ? h - 1 : h) : 1
        let product = Tensor<Complex<T>>(unsafeUninitializedShape: f.shape) { p in
            f.withUnsafeBufferPointer { fb in
                g.withUnsafeBufferPointer { gb in
                    energies.withUnsafeMutableBufferPointer { e in
                        let out = SendableMutableBuffer(p), sums = SendableMutableBuffer(e)
                        let fp = SendableBuffer(fb)
                        let gp = SendableBuffer(gb)
                        Parallel.forEachBlock(count: rows, blockSize: perBlock) { block, range in
                            var src = 0.0, tgt = 0.0
                            for row in range {
                                let a = fp.pointer(at: row * h, count: h), b = gp.pointer(at: row * h, count: h)
                                let o = out.pointer(at: row * h, count: h)
                                let (fAll, gAll) = T._crossPower(count: h, a: a, b: b, product: o, phase: phase, floor: floor)
                                    ?? crossPowerRow(a, b, o, count: h, phase: phase, floor: floor)
                                // Energies: bins 0 and (even n) n/2 once, the mirrored ones twice.
                                if half {
                                    var fOnce = Double(a[0].real * a[0].real + a[0].imaginary * a[0].imaginary)
                                    var gOnce = Double(b[0].real * b[0].real + b[0].imaginary * b[0].imaginary)
                                    for j in Swift.max(1, mirroredEnd)..<h {
                                        fOnce += Double(a[j].real * a[j].real + a[j].imaginary * a[j].imaginary)
                                        gOnce += Double(b[j].real * b[j].real + b[j].imaginary * b[j].imaginary)
                                    }
                                    src += 2 * fAll - fOnce
                                    tgt += 2 * gAll - gOnce
                                } else {
                                    src += fAll
                                    tgt += gAll
                                }
                            }
                            sums[2 * block] = src
                            sums[2 * block + 1] = tgt
                        }
                    }
                }
            }
        }
        var src = 0.0, tgt = 0.0
        for block in 0..<blocks {
            src += energies[2 * block]
            tgt += energies[2 * block + 1]
        }
        return (product, src, tgt)
    }

    /// One row of ``crossPowerSpectrum(f:g:lastFull:half:phase:)``:
    /// `o = a·conj(b)`, divided by `max(|a·conj(b)|, floor)` when `phase`,
    /// and the row's `Σ|a|²` and `Σ|b|²`. Four bins a step in `SIMD4<Double>`
    /// lanes (a concrete vector type, so the packed square roots and
    /// divisions are emitted directly; generic `SIMD4<T>` code is not), the
    /// remainder one at a time with the same formula. `Double` data gives
    /// exactly the scalar formula's values; `Float` data is computed in
    /// double precision and rounded once.
    @inline(__always)
    static func crossPowerRow(_ a: UnsafePointer<Complex<T>>, _ b: UnsafePointer<Complex<T>>,
                              _ o: UnsafeMutablePointer<Complex<T>>, count h: Int, phase: Bool,
                              floor: T) -> (Double, Double) {
        let x = UnsafeRawPointer(a).assumingMemoryBound(to: T.self)
        let y = UnsafeRawPointer(b).assumingMemoryBound(to: T.self)
        let z = UnsafeMutableRawPointer(o).assumingMemoryBound(to: T.self)
        let floorLanes = SIMD4<Double>(repeating: Double(floor))
        var fSum = SIMD4<Double>(), gSum = SIMD4<Double>()
        var j = 0
        while j + 4 <= h {
            let e = 2 * j
            let ar = lanes(x, e), ai = lanes(x, e + 1), br = lanes(y, e), bi = lanes(y, e + 1)
            fSum += ar * ar + ai * ai
            gSum += br * br + bi * bi
            var re = ar * br + ai * bi, im = ai * br - ar * bi
            if phase {
                let modulus = (re * re + im * im).squareRoot()
                let scale = 1 / modulus.replacing(with: floorLanes, where: modulus .< floorLanes)
                re *= scale
                im *= scale
            }
            for l in 0..<4 {
                z[e + 2 * l] = T(re[l])
                z[e + 2 * l + 1] = T(im[l])
            }
            j += 4
        }
        var fRest = 0.0, gRest = 0.0
        while j < h {
            let ar = Double(x[2 * j]), ai = Double(x[2 * j + 1]), br = Double(y[2 * j]), bi = Double(y[2 * j + 1])
            fRest += ar * ar + ai * ai
            gRest += br * br + bi * bi
            var re = ar * br + ai * bi, im = ai * br - ar * bi
            if phase {
                let scale = 1 / Swift.max((re * re + im * im).squareRoot(), Double(floor))
                re *= scale
                im *= scale
            }
            z[2 * j] = T(re)
            z[2 * j + 1] = T(im)
            j += 1
        }
        return (fSum.sum() + fRest, gSum.sum() + gRest)
    }

    /// Elements `e, e+2, e+4, e+6` of `x` (every other one: the real or the
    /// imaginary parts of four complex numbers) as `Double` lanes.
    @inline(__always)
    static func lanes(_ x: UnsafePointer<T>, _ e: Int) -> SIMD4<Double> {
        SIMD4<Double>(Double(x[e]), Double(x[e + 2]), Double(x[e + 4]), Double(x[e + 6]))
    }

    /// `Σ_j a[j]·conj(b[j])·w[j]` in `Double` over one row, with the
    /// weights `w` as separate real (`wr`) and imaginary (`wi`) parts; four
    /// bins a step in SIMD lanes.
    @inline(__always)
    static func weightedCrossPowerSum(_ a: UnsafePointer<Complex<T>>, _ b: UnsafePointer<Complex<T>>,
                                      _ wr: UnsafePointer<Double>, _ wi: UnsafePointer<Double>,
                                      count: Int) -> (Double, Double) {
        let x = UnsafeRawPointer(a).assumingMemoryBound(to: T.self)
        let y = UnsafeRawPointer(b).assumingMemoryBound(to: T.self)
        var sumReal = SIMD4<Double>(), sumImaginary = SIMD4<Double>()
        var j = 0
        while j + 4 <= count {
            let e = 2 * j
            let ar = lanes(x, e), ai = lanes(x, e + 1), br = lanes(y, e), bi = lanes(y, e + 1)
            let cr = SIMD4<Double>(wr[j], wr[j + 1], wr[j + 2], wr[j + 3])
            let ci = SIMD4<Double>(wi[j], wi[j + 1], wi[j + 2], wi[j + 3])
            let pr = ar * br + ai * bi, pi = ai * br - ar * bi
            sumReal += pr * cr - pi * ci
            sumImaginary += pr * ci + pi * cr
            j += 4
        }
        var restReal = 0.0, restImaginary = 0.0
        while j < count {
            let ar = Double(x[2 * j]), ai = Double(x[2 * j + 1]), br = Double(y[2 * j]), bi = Double(y[2 * j + 1])
            let pr = ar * br + ai * bi, pi = ai * br - ar * bi
            restReal += pr * wr[j] - pi * wi[j]
            restImaginary += pr * wi[j] + pi * wr[j]
            j += 1
        }
        return (sumReal.sum() + restReal, sumImaginary.sum() + restImaginary)
    }

    /// ``firstPeak(_:)`` for real values: through the C kernel
    /// `bl_abs_argmax_d` (AVX2 where the CPU has it) for the types that have
    /// it (``KernelScalar/_absArgmax(count:x:)`` is not nil), per fixed
    /// block, the blocks combined in order; other types through
    /// ``firstPeak(_:)``. The values are finite (the images were checked).
    static func firstRealPeak(_ values: UnsafeBufferPointer<T>) -> Int {
        guard let base = values.baseAddress, T._absArgmax(count: 0, x: base) != nil else { return firstPeak(values) }
        let block = 1 << 14
        let blocks = (values.count + block - 1) / block
        var best = [(T, Int)](repeating: (-T.infinity, 0), count: blocks)
        best.withUnsafeMutableBufferPointer { results in
            let out = SendableMutableBuffer(results)
            let x = SendableBuffer(values)
            Parallel.forEachBlock(count: values.count, blockSize: block) { index, range in
                let first = x.pointer(at: range.lowerBound, count: range.count)
                let at = range.lowerBound + T._absArgmax(count: range.count, x: first)!
                out[index] = (Swift.abs(x[at]), at)
            }
        }
        var top = -T.infinity, at = 0
        for (m, i) in best where m > top { top = m; at = i }
        return at
    }

    /// Position of the first largest modulus (NumPy's `argmax` of the
    /// absolute values), over fixed blocks in parallel.
    /// The magnitude is the element's modulus (`abs` for real, `length` for
    /// complex), called statically: no closure call per element.
    static func firstPeak<E: FloatingElement>(_ values: UnsafeBufferPointer<E>) -> Int where E.RealComponent == T {
        let block = 1 << 14
        let blocks = (values.count + block - 1) / block
        var best = [(T, Int)](repeating: (-T.infinity, 0), count: blocks)
        best.withUnsafeMutableBufferPointer { results in
            let out = SendableMutableBuffer(results), values = SendableBuffer(values)
            Parallel.forEachBlock(count: values.count, blockSize: block) { index, range in
                var top = -T.infinity, at = range.lowerBound
                for i in range {
                    let m = values[i].modulus
                    if m > top { top = m; at = i }
                }
                out[index] = (top, at)
            }
        }
        var top = -T.infinity, at = 0
        for (m, i) in best where m > top { top = m; at = i }
        return at
    }

    /// `Σ_x f(x)·g(x − s)` over the periodic grid for an integer shift `s`
    /// (the cross-correlation `r(s)` of ``normalizedError(f:g:shape:half:shift:energy:realImages:)``,
    /// computed in real space). Rows of the last axis in fixed blocks, in
    /// parallel; partial sums combine in block order.
    static func circularCorrelation(_ reference: Tensor<T>, _ moving: Tensor<T>, shift: [Int]) -> Double {
        let f = reference.contiguous(), g = moving.contiguous()
        let shape = f.shape, rank = shape.count
        let last = shape[rank - 1]
        let rows = f.count / Swift.max(last, 1)
        guard rows > 0, last > 0 else { return 0 }
        let t = ((shift[rank - 1] % last) + last) % last     // g's row is read from column j − t
        let leading = Array(shape.dropLast())
        let leadingStrides = rowMajorStrides(leading)
        let leadingShift = (0..<(rank - 1)).map { ((shift[$0] % shape[$0]) + shape[$0]) % shape[$0] }
        let perBlock = rowsPerBlock(last, rows: rows)
        let blocks = (rows + perBlock - 1) / perBlock
        var partial = [Double](repeating: 0, count: blocks)
        f.withUnsafeBufferPointer { fb in
            g.withUnsafeBufferPointer { gb in
                partial.withUnsafeMutableBufferPointer { results in
                    let out = SendableMutableBuffer(results)
                    let fp = SendableBuffer(fb)
                    let gp = SendableBuffer(gb)
                    Parallel.forEachBlock(count: rows, blockSize: perBlock) { block, range in
                        var sum = 0.0
                        for row in range {
                            // The partner row: each leading index minus its shift, periodically.
                            var rest = row, partner = 0
                            for axis in stride(from: rank - 2, through: 0, by: -1) {
                                let i = rest % leading[axis]
                                rest /= leading[axis]
                                let k = i - leadingShift[axis]
                                partner += (k < 0 ? k + leading[axis] : k) * leadingStrides[axis]
                            }
                            let a = UnsafePointer(fp.baseAddress + row * last), b = UnsafePointer(gp.baseAddress + partner * last)
                            sum += dot(a + t, b, count: last - t) + dot(a, b + last - t, count: t)
                        }
                        out[block] = sum
                    }
                }
            }
        }
        return partial.reduce(0, +)
    }

    /// `Σ a[i]·b[i]` in `Double`, four accumulators.
    @inline(__always)
    static func dot(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, count: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= count {
            s0 += Double(a[i]) * Double(b[i])
            s1 += Double(a[i + 1]) * Double(b[i + 1])
            s2 += Double(a[i + 2]) * Double(b[i + 2])
            s3 += Double(a[i + 3]) * Double(b[i + 3])
            i += 4
        }
        while i < count {
            s0 += Double(a[i]) * Double(b[i])
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
    }

    /// `sqrt(max(0, 1 − |r(s)|²/(Σ|f|²Σ|g|²)))` with `r(s) = (1/N) Σ_k F G* e^{2πi k·s/n}`;
    /// `energy` is `Σ|f|²·Σ|g|²` (Parseval: `Σ|F|²/N` each).
    static func normalizedError(f: Tensor<Complex<T>>, g: Tensor<Complex<T>>, shape: [Int], half: Bool,
                                shift: [Double], energy: Double, realImages: Bool) -> Double {
        let rank = shape.count
        let total = shape.reduce(1, *)
        let specShape = f.shape
        // Per-axis phase factors exp(2πi k s / n) with symmetric frequencies.
        var factors: [[Complex<Double>]] = []
        for a in 0..<rank {
            let n = shape[a]
            let phases = PhaseTable(omega: 2 * Double.pi * shift[a] / Double(n), range: (n / 2 - n + 1)...(n / 2))
            // Signed frequency k − n above n/2; the Nyquist bin (even n) at +n/2 (its symmetric part).
            factors.append((0..<specShape[a]).map { k in phases[k <= n / 2 ? k : k - n] })
        }
        let last = specShape[rank - 1]
        let lastFull = shape[rank - 1]
        let rows = f.count / last
        let perBlock = rowsPerBlock(last, rows: rows)
        let blocks = (rows + perBlock - 1) / perBlock
        var partial = [Complex<Double>](repeating: .zero, count: blocks)
        // Last-axis factors, doubled where a half-spectrum column stands for two bins,
        // as separate real and imaginary parts for the SIMD loop.
        var columnReal = [Double](repeating: 0, count: last), columnImaginary = [Double](repeating: 0, count: last)
        for j in 0..<last {
            let w = half && !(j == 0 || (lastFull % 2 == 0 && j == last - 1)) ? factors[rank - 1][j] * 2
                                                                               : factors[rank - 1][j]
            columnReal[j] = w.real
            columnImaginary[j] = w.imaginary
        }
        f.withUnsafeBufferPointer { fb in
            g.withUnsafeBufferPointer { gb in
                partial.withUnsafeMutableBufferPointer { results in
                    let out = SendableMutableBuffer(results)
                    columnReal.withUnsafeBufferPointer { wr in
                        columnImaginary.withUnsafeBufferPointer { wi in
                            let (fb, gb, wr, wi) = (SendableBuffer(fb), SendableBuffer(gb), SendableBuffer(wr), SendableBuffer(wi))
                            let factors = factors
                            Parallel.forEachBlock(count: rows, blockSize: perBlock) { block, range in
                                var blockSum = Complex<Double>.zero
                                for row in range {
                                    var rest = row
                                    var rowFactor = Complex<Double>.one
                                    for a in stride(from: rank - 2, through: 0, by: -1) {
                                        let index = rest % specShape[a]
                                        rest /= specShape[a]
                                        rowFactor = rowFactor * factors[a][index]
                                    }
                                    let (re, im) = weightedCrossPowerSum(fb.pointer(at: row * last, count: last),
                                                                         gb.pointer(at: row * last, count: last),
                                                                         wr.pointer(at: 0, count: last),
                                                                         wi.pointer(at: 0, count: last), count: last)
                                    blockSum += Complex(re, im) * rowFactor
                                }
                                out[block] = blockSum
                            }
                        }
                    }
                }
            }
        }
        var sum = Complex<Double>.zero
        for value in partial { sum += value }
        var r = Complex(sum.real / Double(total), sum.imaginary / Double(total))
        if realImages { r = Complex(r.real, 0) }
        return rmsError(correlationSquared: r.lengthSquared, energy: energy)
    }

    /// `sqrt(max(0, 1 − |r|²/energy))`, NaN without energy: the normalised
    /// error from the correlation at the shift and `Σ|f|²·Σ|g|²`.
    static func rmsError(correlationSquared: Double, energy: Double) -> Double {
        guard energy > 0 else { return .nan }
        return Swift.max(0, 1 - correlationSquared / energy).squareRoot()
    }
}
