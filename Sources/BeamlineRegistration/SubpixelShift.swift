import BeamlineTensor
import ComplexModule
import RealModule

/// Boundary handling of `fourier(_:by:padding:)`.
public enum FourierShiftPadding: String, Sendable, CaseIterable {
    /// No padding: the image wraps around (periodic shift).
    case wrap
    /// Reflect-pad each axis (NumPy `pad(mode: "reflect")`) to the next
    /// fast FFT length at least `n + 2·(⌈|shift|⌉ + 1)`, shift, and crop
    /// back, as toupy does, so content does not wrap across edges.
    case reflect
}

/// Sub-pixel translation of images: Fourier (sinc) shift, bilinear shift
/// with wrap-around, and cubic (or other order) spline shift with SciPy's
/// boundary modes, plus `scipy.ndimage.fourier_shift` on spectra.
///
/// Every function shifts content *by* `shift` pixels along each axis:
/// `out(x) = in(x − shift)`, the convention of `scipy.ndimage.shift`. To
/// apply a registration result, pass ``RegistrationResult/shift`` to the
/// moving image.
public enum SubpixelShift {
    /// Shifts by multiplying the spectrum by `exp(−2πi k·s/n)` (band-limited
    /// interpolation). Real images use real FFTs; with `.wrap` the result
    /// equals `numpy.real(ifftn(scipy.ndimage.fourier_shift(fftn(image), shift)))`
    /// for real input and `ifftn(fourier_shift(fftn(image), shift))` for complex input.
    ///
    /// - Throws: ``RegistrationError`` for an empty image, non-finite pixels
    ///   or values, or a `shift` whose length differs from the rank.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func fourier<T: RegistrationScalar>(_ image: Tensor<T>, by shift: [Double],
                                                      padding: FourierShiftPadding = .wrap) throws(RegistrationError) -> Tensor<T> {
        try checkImage(image, "image")
        try checkShift(shift, rank: image.rank)
        if padding == .reflect {
            let (padded, before) = reflectPadded(image, shift: shift)
            let shifted = try fourier(padded, by: shift, padding: .wrap)
            return crop(shifted, start: before, shape: image.shape)
        }
        let shape = image.shape
        var spectrum = try backend { () throws(TensorError) in try FFT.rfftn(image) }
        applyPhase(&spectrum, fullShape: shape, shift: shift, hermitian: true)
        return try backend { () throws(TensorError) in try FFT.irfftn(spectrum, s: shape) }
    }

    /// The Fourier shift of a complex image (see the real overload).
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func fourier<T: RegistrationScalar>(_ image: Tensor<Complex<T>>, by shift: [Double],
                                                      padding: FourierShiftPadding = .wrap) throws(RegistrationError) -> Tensor<Complex<T>> {
        try checkImage(image, "image")
        try checkShift(shift, rank: image.rank)
        if padding == .reflect {
            let (padded, before) = reflectPadded(image, shift: shift)
            let shifted = try fourier(padded, by: shift, padding: .wrap)
            return crop(shifted, start: before, shape: image.shape)
        }
        var spectrum = try backend { () throws(TensorError) in try FFT.fftn(image) }
        applyPhase(&spectrum, fullShape: image.shape, shift: shift, hermitian: false)
        return try backend { () throws(TensorError) in try FFT.ifftn(spectrum) }
    }

    /// `scipy.ndimage.fourier_shift(spectrum, shift)` (with `n = -1`):
    /// multiplies a full `fftn` spectrum by `exp(−2πi Σ_a s_a k_a / n_a)`
    /// with `k_a` the signed frequency index (`−n/2` for the Nyquist bin of
    /// an even axis); axes of length 1 are left alone.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func fourierShiftSpectrum<T: RegistrationScalar>(_ spectrum: Tensor<Complex<T>>,
                                                                   by shift: [Double]) throws(RegistrationError) -> Tensor<Complex<T>> {
        guard spectrum.rank >= 1 else { throw RegistrationError.emptyImage(argument: "spectrum", shape: spectrum.shape) }
        try checkShift(shift, rank: spectrum.rank)
        var result = spectrum.contiguous()
        applyPhase(&result, fullShape: spectrum.shape, shift: shift, hermitian: false)
        return result
    }

    /// Bilinear shift with wrap-around: equals
    /// `scipy.ndimage.shift(image, shift, order=1, mode='grid-wrap')`.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func linear<T: RegistrationScalar>(_ image: Tensor<T>, by shift: [Double]) throws(RegistrationError) -> Tensor<T> {
        try spline(image, by: shift, order: 1, mode: .gridWrap)
    }

    /// Spline shift matching `scipy.ndimage.shift(image, shift, order=order,
    /// mode=mode, cval=cval)` (prefilter on, computed in `Double`), for
    /// orders 0–5 (3, cubic, by default) and the modes of
    /// ``SplineBoundaryMode``.
    ///
    /// - Throws: ``RegistrationError`` for an empty image, non-finite pixels,
    ///   non-finite shifts or `cval`, a `shift` of the wrong length, or an
    ///   order outside 0...5.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func spline<T: RegistrationScalar>(_ image: Tensor<T>, by shift: [Double], order: Int = 3,
                                                     mode: SplineBoundaryMode = .constant,
                                                     cval: Double = 0) throws(RegistrationError) -> Tensor<T> {
        try checkImage(image, "image")
        try checkShift(shift, rank: image.rank)
        guard (0...5).contains(order) else {
            throw RegistrationError.invalidArgument(name: "order", expected: "a spline order in 0...5", received: "\(order)")
        }
        guard cval.isFinite else { throw RegistrationError.invalidArgument(name: "cval", expected: "a finite value", received: "\(cval)") }
        let values = RealConversion.doubles(image.elements)
        let out = SplineEngine.shift(values, shape: image.shape, by: shift, order: order, mode: mode, cval: cval)
        return Tensor(shape: image.shape, elements: out.map { T($0) })
    }

    /// The spline shift of a complex image: real and imaginary parts are
    /// shifted independently, as SciPy does.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func spline<T: RegistrationScalar>(_ image: Tensor<Complex<T>>, by shift: [Double], order: Int = 3,
                                                     mode: SplineBoundaryMode = .constant,
                                                     cval: Double = 0) throws(RegistrationError) -> Tensor<Complex<T>> {
        let re = try spline(image.map { $0.real }, by: shift, order: order, mode: mode, cval: cval)
        let im = try spline(image.map { $0.imaginary }, by: shift, order: order, mode: mode, cval: 0)
        return Tensor.zip(re, im) { Complex($0, $1) }
    }

    // MARK: - Helpers

    static func checkShift(_ shift: [Double], rank: Int) throws(RegistrationError) {
        guard shift.count == rank else {
            throw RegistrationError.invalidArgument(name: "shift", expected: "\(rank) values (one per axis)",
                                                    received: "\(shift.count) values")
        }
        guard shift.allSatisfy({ $0.isFinite }) else {
            throw RegistrationError.invalidArgument(name: "shift", expected: "finite values", received: "\(shift)")
        }
    }

    /// Multiplies a spectrum (full, or the `rfftn` half when `hermitian`)
    /// by `exp(−2πi Σ s_a k_a / n_a)`. In the Hermitian case the Nyquist
    /// bins get the Hermitian part `cos(π s)` of their factor, so that the
    /// inverse real FFT equals the real part of the full complex result.
    static func applyPhase<T: RegistrationScalar>(_ spectrum: inout Tensor<Complex<T>>, fullShape: [Int],
                                                  shift: [Double], hermitian: Bool) {
        let rank = fullShape.count
        let specShape = spectrum.shape
        // Per-axis angles (scipy's params) and whether a bin is a Nyquist bin.
        var angles: [[Double]] = []
        var nyquist: [[Bool]] = []
        for a in 0..<rank {
            let n = fullShape[a]
            let scale = -2.0 * Double.pi * shift[a] / Double(n)
            angles.append((0..<specShape[a]).map { k in
                n > 1 ? scale * Double(k < (n + 1) / 2 ? k : k - n) : 0
            })
            nyquist.append((0..<specShape[a]).map { k in hermitian && n % 2 == 0 && n > 1 && k == n / 2 })
        }
        let last = specShape[rank - 1]
        spectrum.withUnsafeMutableBufferPointer { buffer in
            let rows = buffer.count / last
            let base = SendableMutableBuffer(buffer)
            let (angles, nyquist) = (angles, nyquist)
            Parallel.forEachChunk(count: rows, minimumChunk: Swift.max(1, 16384 / last)) { range in
                var index = [Int](repeating: 0, count: rank)
                for row in range {
                    var rest = row
                    var rowAngle = 0.0, rowNyquistAngle = 0.0
                    for a in stride(from: rank - 2, through: 0, by: -1) {
                        index[a] = rest % specShape[a]
                        rest /= specShape[a]
                        if nyquist[a][index[a]] { rowNyquistAngle += angles[a][index[a]] } else { rowAngle += angles[a][index[a]] }
                    }
                    for j in 0..<last {
                        var angle = rowAngle, nyquistAngle = rowNyquistAngle
                        if nyquist[rank - 1][j] { nyquistAngle += angles[rank - 1][j] } else { angle += angles[rank - 1][j] }
                        var factor = Complex(Double.cos(angle), Double.sin(angle))
                        if hermitian && nyquistAngle != 0 {
                            let c = Double.cos(nyquistAngle)
                            factor = Complex(factor.real * c, factor.imaginary * c)
                        }
                        let v = base[row * last + j]
                        let re = Double(v.real), im = Double(v.imaginary)
                        base[row * last + j] = Complex(T(re * factor.real - im * factor.imaginary),
                                                            T(re * factor.imaginary + im * factor.real))
                    }
                }
            }
        }
    }

    /// `numpy.pad(image, pads, mode='reflect')` with each axis padded to the
    /// next fast length ≥ `n + 2(⌈|s|⌉ + 1)`; returns the padded image and
    /// the leading pad of each axis.
    static func reflectPadded<E: TensorElement>(_ image: Tensor<E>, shift: [Double]) -> (Tensor<E>, [Int]) {
        let shape = image.shape
        let rank = shape.count
        var before = [Int](repeating: 0, count: rank)
        var padded = shape
        for a in 0..<rank where shape[a] > 1 {
            let margin = Int(shift[a].magnitude.rounded(.up)) + 1
            padded[a] = nextFastLength(shape[a] + 2 * margin)
            before[a] = (padded[a] - shape[a]) / 2
        }
        let source = image.elements
        let inStrides = rowMajorStrides(shape)
        let count = padded.reduce(1, *)
        var values = [E]()
        values.reserveCapacity(count)
        var index = [Int](repeating: 0, count: rank)
        for _ in 0..<count {
            var flat = 0
            for a in 0..<rank {
                flat += reflectIndex(index[a] - before[a], shape[a]) * inStrides[a]
            }
            values.append(source[flat])
            var a = rank - 1
            while a >= 0 {
                index[a] += 1
                if index[a] < padded[a] { break }
                index[a] = 0
                a -= 1
            }
        }
        return (Tensor(shape: padded, elements: values), before)
    }

    /// NumPy's `reflect` padding index (whole-sample symmetric, edge not
    /// repeated: `… c b | a b c d | c b …`): the sample of `n` that index `i`
    /// (any integer) reads.
    public static func reflectIndex(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        let period = 2 * (n - 1)
        var j = i % period
        if j < 0 { j += period }
        return j < n ? j : period - j
    }

    static func crop<E: TensorElement>(_ image: Tensor<E>, start: [Int], shape: [Int]) -> Tensor<E> {
        let ranges = (0..<shape.count).map { TensorIndex.range(start[$0]..<(start[$0] + shape[$0])) }
        // The ranges are in bounds by construction.
        return (try? image.view(ranges))!.contiguous()
    }
}
