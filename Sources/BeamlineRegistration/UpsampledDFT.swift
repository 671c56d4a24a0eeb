import BeamlineTensor
import ComplexModule
import RealModule

/// The matrix-multiply DFT of Guizar-Sicairos, Thurman & Fienup (2008),
/// as scikit-image's `_upsampled_dft` computes it, one BLAS complex GEMM
/// per axis (2-d real images: two real GEMMs, `UpsampledDFTHermitian.swift`).
@usableFromInline
enum UpsampledDFT {
    /// The cross-correlation `Σ_k P[k] exp(+2πi Σ_a (b_a − offset_a) f_a(k_a))`
    /// on a `regionSize`^rank grid, with `f_a = fftfreq(n_a, d: factor)`,
    /// laid out row-major as (u₀, u₁, …). This equals scikit-image's
    /// `_upsampled_dft(P.conj(), u, factor, offsets).conj()`.
    ///
    /// - Parameters:
    ///   - product: the cross-power spectrum, full (`shape`) or, when
    ///     `half`, the `rfftn` half spectrum of a Hermitian product
    ///     (shape `shape` with the last axis `n/2 + 1`).
    ///   - shape: the full spectrum's shape.
    static func region<T: RegistrationScalar>(product: UnsafePointer<Complex<T>>, shape: [Int], half: Bool,
                                              regionSize u: Int, factor: Double,
                                              offsets: [Double]) -> [Complex<T>] {
        let rank = shape.count
        var current: [Complex<T>]
        var currentShape: [Int]
        let n = shape[rank - 1]
        let rows = shape.dropLast().reduce(1, *)
        if half {
            current = firstStageHalf(product: product, rows: rows, leading: Array(shape.dropLast()), n: n, u: u,
                                     factor: factor, offset: offsets[rank - 1])
        } else {
            current = [Complex<T>](repeating: .zero, count: u * rows)
            let kernel = kernelMatrix(T.self, n: n, u: u, factor: factor, offset: offsets[rank - 1], range: 0..<n)
            current.withUnsafeMutableBufferPointer { c in
                kernel.withUnsafeBufferPointer { k in
                    gemm(k.baseAddress!, product, c.baseAddress!, u: u, rows: rows, n: n, ldb: n)
                }
            }
        }
        currentShape = [u] + shape.dropLast()
        for axis in stride(from: rank - 2, through: 0, by: -1) {
            let na = shape[axis]
            let m = currentShape.reduce(1, *) / na
            let kernel = kernelMatrix(T.self, n: na, u: u, factor: factor, offset: offsets[axis], range: 0..<na)
            var next = [Complex<T>](repeating: .zero, count: u * m)
            next.withUnsafeMutableBufferPointer { c in
                kernel.withUnsafeBufferPointer { k in
                    current.withUnsafeBufferPointer { d in
                        gemm(k.baseAddress!, d.baseAddress!, c.baseAddress!, u: u, rows: m, n: na, ldb: na)
                    }
                }
            }
            current = next
            currentShape = [u] + currentShape.dropLast()
        }
        return current
    }

    /// `C (u × rows) = K (u × n) · D (rows × n)ᵀ` with `D`'s rows `ldb` apart.
    @inline(__always)
    static func gemm<T: RegistrationScalar>(_ k: UnsafePointer<Complex<T>>, _ d: UnsafePointer<Complex<T>>,
                                            _ c: UnsafeMutablePointer<Complex<T>>, u: Int, rows: Int, n: Int, ldb: Int) {
        Complex<T>._blasGemm(transposeA: false, transposeB: true, m: Int32(u), n: Int32(rows), k: Int32(n),
                            alpha: .one, a: k, lda: Int32(n), b: d, ldb: Int32(ldb),
                            beta: .zero, c: c, ldc: Int32(rows))
    }

    /// Signed frequency index of bin `k` of an `n`-point DFT (`fftfreq · n`).
    @inline(__always)
    static func signedIndex(_ k: Int, _ n: Int) -> Int { k < (n + 1) / 2 ? k : k - n }

    /// `exp(+2πi (b − offset) f_k)` for `b` in `0..<u` and `k` in `range`,
    /// row-major (u × range.count), computed in `Double` and rounded to `T`
    /// as scikit-image does (its `val = 1/(n·d)` is rounded to the data
    /// precision, as NumPy's promotion rules give).
    ///
    /// With `center = u/2` and `shift = center − offset` (the integer-peak
    /// shift times the factor), the phase `2π val ((b − center)·s + shift·s)`
    /// (`s` the signed index of `k`) factors into `E((b − center)·s) · exp(2πi val shift s)`,
    /// both looked up in ``PhaseTable``s: a call costs about
    /// `2√(u·n) + 2√n` sine/cosine pairs instead of one per entry, and each
    /// entry (a product of four table values) is within a few ulp of the
    /// direct `exp`.
    static func kernelMatrix<T: RegistrationScalar>(_ type: T.Type, n: Int, u: Int, factor: Double, offset: Double,
                                                    range: Range<Int>) -> [Complex<T>] {
        [Complex<T>](unsafeUninitializedCapacity: u * range.count) { buffer, count in
            if let base = buffer.baseAddress {
                writeKernelMatrix(into: base, n: n, u: u, factor: factor, offset: offset, range: range)
            }
            count = u * range.count
        }
    }

    /// ``kernelMatrix(_:n:u:factor:offset:range:)`` written into `kernel`
    /// (`u · range.count` elements).
    static func writeKernelMatrix<T: RegistrationScalar>(into kernel: UnsafeMutablePointer<Complex<T>>, n: Int, u: Int,
                                                         factor: Double, offset: Double, range: Range<Int>) {
        let center = u / 2
        let shift = Double(center) - offset
        let val = Double(T(1) / (T(n) * T(factor)))
        let omega = 2 * Double.pi * val
        let width = range.count
        guard width > 0, u > 0 else { return }
        var indices = [Int](repeating: 0, count: width)
        var sLow = Int.max, sHigh = Int.min
        for j in 0..<width {
            let s = signedIndex(range.lowerBound + j, n)
            indices[j] = s
            sLow = Swift.min(sLow, s)
            sHigh = Swift.max(sHigh, s)
        }
        // Column factors exp(2πi val shift s) and the entries' E((b − center)·s).
        let shiftPhases = PhaseTable(omega: omega * shift, range: sLow...sHigh)
        let columns = indices.map { shiftPhases[$0] }
        let bLow = -center, bHigh = u - 1 - center
        let tLow = Swift.min(bLow * sLow, bLow * sHigh, bHigh * sLow, bHigh * sHigh)
        let tHigh = Swift.max(bLow * sLow, bLow * sHigh, bHigh * sLow, bHigh * sHigh)
        let phases = PhaseTable(omega: omega, range: tLow...tHigh)
        let result = SendableMutableBuffer(start: kernel, validIndices: 0..<(u * width))
        columns.withUnsafeBufferPointer { colBuffer in
            indices.withUnsafeBufferPointer { idxBuffer in
                let col = SendableBuffer(colBuffer), idx = SendableBuffer(idxBuffer)
                Parallel.forEachChunk(count: u, minimumChunk: Swift.max(1, 16384 / width)) { rows in
                    for b in rows {
                        let offsetB = b - center
                        let row = result.pointer(at: b * width, count: width)
                        for j in 0..<width {
                            let value = phases[offsetB * idx[j]] * col[j]
                            row[j] = Complex(T(value.real), T(value.imaginary))
                        }
                    }
                }
            }
        }
    }

    /// The last-axis stage on a Hermitian half spectrum: the negative
    /// frequencies are the conjugates of the stored positive ones at the
    /// negated leading index, so one GEMM over `(n − 1)/2` columns covers
    /// both halves (half the work of the full-spectrum product).
    static func firstStageHalf<T: RegistrationScalar>(product: UnsafePointer<Complex<T>>, rows: Int, leading: [Int],
                                                      n: Int, u: Int, factor: Double,
                                                      offset: Double) -> [Complex<T>] {
        let h = n / 2 + 1
        let m = (n - 1) / 2
        var a = [Complex<T>](repeating: .zero, count: u * rows)
        if m > 0 {
            let kernel = kernelMatrix(T.self, n: n, u: u, factor: factor, offset: offset, range: 1..<(m + 1))
            a.withUnsafeMutableBufferPointer { c in
                kernel.withUnsafeBufferPointer { k in
                    Complex<T>._blasGemm(transposeA: false, transposeB: true, m: Int32(u), n: Int32(rows), k: Int32(m),
                                        alpha: .one, a: k.baseAddress!, lda: Int32(m), b: product + 1, ldb: Int32(h),
                                        beta: .zero, c: c.baseAddress!, ldc: Int32(rows))
                }
            }
        }
        // Row r's negation (multi-index −i mod n on each leading axis).
        var negated = [Int](repeating: 0, count: rows)
        let strides = rowMajorStrides(leading)
        for r in 0..<rows {
            var rest = r, target = 0
            for axis in stride(from: leading.count - 1, through: 0, by: -1) {
                let i = rest % leading[axis]
                rest /= leading[axis]
                target += ((leading[axis] - i) % leading[axis]) * strides[axis]
            }
            negated[r] = target
        }
        let nyquist: [Complex<T>]? = n % 2 == 0
            ? kernelMatrix(T.self, n: n, u: u, factor: factor, offset: offset, range: (n / 2)..<(n / 2 + 1)) : nil
        var t = [Complex<T>](repeating: .zero, count: u * rows)
        for b in 0..<u {
            for r in 0..<rows {
                var value = product[r * h] + a[b * rows + r] + a[b * rows + negated[r]].conjugate
                if let nyquist { value += product[r * h + n / 2] * nyquist[b] }
                t[b * rows + r] = value
            }
        }
        return t
    }
}
