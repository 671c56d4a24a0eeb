import BeamlineTensor
import CBeamlineKernels
import ComplexModule
import RealModule

// The 2-d upsampled DFT of a Hermitian product (real images): a folded first
// stage (a C kernel, or a real GEMM for wide regions) and a real GEMM.
//
// With P the full product (P[−r, −k] = conj P[r, k]) and H its stored half
// (columns 0 … n₁/2), the first stage t[b, r] = Σ_k K₁[b, k] P[r, k] splits
// into column 0, the pairs ±j (j = 1 … m₁, m = ⌊(n − 1)/2⌋) and, for even
// n₁, the Nyquist column. The pairs give
//   T₁[b, r] = H[r, 0] + Σ_j K₁[b, j] H[r, j] + conj(K₁[b, j] H[−r, j])
//            = H[r, 0] + Σ_j c₁[b, j] S[r, j] + i s₁[b, j] D[r, j]
// with K = c + i s, S = H[r, ·] + conj H[−r, ·], D = H[r, ·] − conj H[−r, ·].
// T₁ is Hermitian in r, so only rows 0 … n₀/2 are needed, and its real and
// imaginary parts are sums against c₁ and s₁ of the rows [Re S | −Im D] and
// [Im S | Re D]: half the multiply-adds of the complex GEMM over all rows.
// For narrow regions S and D are formed on the fly in the C kernel
// `bl_fold_dft_d` (a real GEMM needs a pass to write them out and OpenBLAS's
// packing of them, more than its multiply-adds at 15 output columns); wide
// regions write them out and use one real GEMM. The second stage Σ_r K₀[a, r] T₁[b, r] over a
// Hermitian T₁ is T₁[b, 0] + 2 Σ_{r=1}^{m₀} Re(K₀[a, r] T₁[b, r]) (plus the
// Nyquist row for even n₀): one real GEMM, a quarter of the complex one.
// The Nyquist column of an even n₁ adds K₁[b, n₁/2] · Σ_r K₀[a, r] H[r, n₁/2],
// an outer product.

extension UpsampledDFT {
    /// ``region(product:shape:half:regionSize:factor:offsets:)`` for a 2-d
    /// `rfftn` half spectrum of a Hermitian product (shape `n0 × (n1/2 + 1)`),
    /// computed with real arithmetic (see the file comment), as a `u × u` tensor.
    ///
    /// Every intermediate lives in one workspace tensor (its storage comes
    /// from ``StorageCache`` when it is large), and the loops run on raw
    /// pointers: at 128² and factor 100 the arrays this used to allocate
    /// (about 1 MB, each above glibc's mmap threshold) cost more in page
    /// faults and uniqueness checks than the GEMMs.
    static func regionHermitian2D<T: RegistrationScalar>(product: UnsafePointer<Complex<T>>, n0: Int, n1: Int,
                                                         regionSize u: Int, factor: Double,
                                                         offsets: [Double]) -> Tensor<Complex<T>> {
        let h1 = n1 / 2 + 1
        let m0 = (n0 - 1) / 2, m1 = (n1 - 1) / 2
        let pairs = n0 / 2 + 1                      // rows 0 … n₀/2; the others are their negations
        let w0Count = n0 / 2 + 1
        let ldk = (u + 15) / 16 * 16                // kernel rows of the fold, padded for the C kernel
        let folding = u <= Self.foldKernelLanes
        // Workspace layout (in T): k0 (u × w0Count complex), k1 (u × h1 complex),
        // w1 (folding: c₁ then s₁, each m₁ × ldk; else u × 2m₁), y (GEMM only:
        // 2·pairs × 2m₁), c1 (2·pairs × u), w0 (u × 2m₀), real (u × u).
        let sizes = [2 * u * w0Count, 2 * u * h1, folding ? 2 * m1 * ldk : u * 2 * m1, folding ? 0 : 2 * pairs * 2 * m1,
                     2 * pairs * u, u * 2 * m0, u * u]
        var workspace = Tensor<T>(unsafeUninitializedShape: [sizes.reduce(0, +)]) { _ in }   // every part is written before it is read
        var region = Tensor<Complex<T>>(unsafeUninitializedShape: [u, u]) { _ in }             // every entry is written below
        workspace.withUnsafeMutableBufferPointer { space in
            var next = space.baseAddress!
            func part(_ index: Int) -> UnsafeMutablePointer<T> {
                defer { next += sizes[index] }
                return next
            }
            let k0Reals = part(0), k1Reals = part(1), w1 = part(2), y = part(3), c = part(4), w0 = part(5), real = part(6)
            let k0 = UnsafeMutableRawPointer(k0Reals).bindMemory(to: Complex<T>.self, capacity: u * w0Count)
            let k1 = UnsafeMutableRawPointer(k1Reals).bindMemory(to: Complex<T>.self, capacity: u * h1)
            writeKernelMatrix(into: k0, n: n0, u: u, factor: factor, offset: offsets[0], range: 0..<w0Count)
            writeKernelMatrix(into: k1, n: n1, u: u, factor: factor, offset: offsets[1], range: 0..<h1)
            // First stage: c (2·pairs × u), then column 0 added. Up to
            // ``foldKernelLanes`` output columns the row pairs are folded on the
            // fly by a C kernel against the kernel columns c₁ and s₁ (m₁ rows of
            // ldk lanes, zero-padded); wider regions write the folded rows Y out
            // once and take a real GEMM, c = Y · [c₁ | s₁]ᵀ (OpenBLAS's blocking
            // wins there: 128² and 256², factor 100, were 5–15 % slower folded).
            let out = SendableMutableBuffer(start: c, validIndices: 0..<(2 * pairs * u))
            let source = SendableBuffer(start: product, validIndices: 0..<(n0 * h1))
            if m1 == 0 {
                c.initialize(repeating: 0, count: 2 * pairs * u)
            } else if u <= Self.foldKernelLanes {
                for j in 1...m1 {
                    let cosines = w1 + (j - 1) * ldk, sines = cosines + m1 * ldk
                    for b in 0..<u {
                        cosines[b] = k1[b * h1 + j].real
                        sines[b] = k1[b * h1 + j].imaginary
                    }
                    (cosines + u).initialize(repeating: 0, count: ldk - u)
                    (sines + u).initialize(repeating: 0, count: ldk - u)
                }
                let kernel = SendableBuffer(start: UnsafePointer(w1), validIndices: 0..<(2 * m1 * ldk))
                // About 64 Ki multiply-adds a chunk: 128² runs inline (waking a thread costs more).
                Parallel.forEachChunk(count: pairs, minimumChunk: Swift.max(1, 65536 / (m1 * ldk))) { rows in
                    foldDFT(rows: rows, n0: n0, h1: h1, m: m1, u: u, ldk: ldk, product: source.pointer(at: 0),
                            cosines: kernel.pointer(at: 0), sines: kernel.pointer(at: m1 * ldk, count: m1 * ldk),
                            out: out.pointer(at: 0))
                }
            } else {
                for b in 0..<u {
                    let row = w1 + b * 2 * m1, kernelRow = k1 + b * h1
                    for j in 1...m1 {
                        row[j - 1] = kernelRow[j].real
                        row[m1 + j - 1] = kernelRow[j].imaginary
                    }
                }
                let folded = SendableMutableBuffer(start: y, validIndices: 0..<(2 * pairs * 2 * m1))
                Parallel.forEachChunk(count: pairs, minimumChunk: Swift.max(1, 8192 / m1)) { rows in
                    for r in rows {
                        let plus = source.pointer(at: r * h1, count: h1)
                        let minus = source.pointer(at: ((n0 - r) % n0) * h1, count: h1)
                        let re = folded.pointer(at: 2 * r * 2 * m1, count: 4 * m1), im = re + 2 * m1
                        for j in 1...m1 {
                            let p = plus[j], q = minus[j]
                            re[j - 1] = p.real + q.real
                            re[m1 + j - 1] = -(p.imaginary + q.imaginary)
                            im[j - 1] = p.imaginary - q.imaginary
                            im[m1 + j - 1] = p.real - q.real
                        }
                    }
                }
                T._blasGemm(transposeA: false, transposeB: true, m: Int32(2 * pairs), n: Int32(u),
                           k: Int32(2 * m1), alpha: 1, a: y, lda: Int32(2 * m1),
                           b: w1, ldb: Int32(2 * m1), beta: 0, c: c, ldc: Int32(u))
            }
            for r in 0..<pairs {
                let h = product[r * h1]
                let re = c + 2 * r * u, im = re + u
                for b in 0..<u {
                    re[b] += h.real
                    im[b] += h.imaginary
                }
            }
            // Second stage: 2 Σ_{r=1}^{m₀} (c₀ Re T₁ − s₀ Im T₁) as one real GEMM,
            // and the Nyquist column of an even n₁, w[a] = Σ_r K₀[a, r] H[r, n₁/2]
            // over all rows: with v = H[·, n₁/2], pairs ±r give
            // c₀ (v[r] + v[−r]) + i s₀ (v[r] − v[−r]), a two-column GEMM against
            // the same [2c₀ | −2s₀] (halved).
            var nyquistColumn = [Complex<T>](repeating: .zero, count: n1 % 2 == 0 ? u : 0)
            if n1 % 2 == 0 {
                for a in 0..<u {
                    var sum = k0[a * w0Count] * product[n1 / 2]
                    if n0 % 2 == 0 && n0 > 1 { sum += k0[a * w0Count + n0 / 2] * product[(n0 / 2) * h1 + n1 / 2] }
                    nyquistColumn[a] = sum
                }
            }
            if m0 > 0 {
                for a in 0..<u {
                    let row = w0 + a * 2 * m0, kernelRow = k0 + a * w0Count
                    for r in 1...m0 {
                        row[2 * (r - 1)] = 2 * kernelRow[r].real
                        row[2 * (r - 1) + 1] = -2 * kernelRow[r].imaginary
                    }
                }
                T._blasGemm(transposeA: false, transposeB: false, m: Int32(u), n: Int32(u), k: Int32(2 * m0),
                           alpha: 1, a: w0, lda: Int32(2 * m0), b: c + 2 * u, ldb: Int32(u), beta: 0,
                           c: real, ldc: Int32(u))
                if n1 % 2 == 0 {
                    // z (2m₀ × 2, real | imaginary): rows 2(r−1) = v[r] + v[−r], 2(r−1)+1 = −i (v[r] − v[−r]).
                    var z = [T](repeating: 0, count: 4 * m0)
                    for r in 1...m0 {
                        let p = product[r * h1 + n1 / 2], q = product[(n0 - r) * h1 + n1 / 2]
                        z[4 * (r - 1)] = p.real + q.real
                        z[4 * (r - 1) + 1] = p.imaginary + q.imaginary
                        z[4 * (r - 1) + 2] = p.imaginary - q.imaginary
                        z[4 * (r - 1) + 3] = q.real - p.real
                    }
                    var wz = [T](repeating: 0, count: 2 * u)
                    z.withUnsafeBufferPointer { zBuffer in
                        wz.withUnsafeMutableBufferPointer { out in
                            T._blasGemm(transposeA: false, transposeB: false, m: Int32(u), n: 2, k: Int32(2 * m0),
                                       alpha: T(0.5), a: w0, lda: Int32(2 * m0),
                                       b: zBuffer.baseAddress!, ldb: 2, beta: 0, c: out.baseAddress!, ldc: 2)
                        }
                    }
                    for a in 0..<u { nyquistColumn[a] += Complex(wz[2 * a], wz[2 * a + 1]) }
                }
            } else {
                real.initialize(repeating: 0, count: u * u)
            }
            // Column-0 term T₁[b, 0], the Nyquist row (even n₀) and column (even n₁) terms.
            let nyquistRows = n0 % 2 == 0 && n0 > 1
            let nyquistColumns = n1 % 2 == 0
            region.withUnsafeMutableBufferPointer { out in
                let o = out.baseAddress!
                nyquistColumn.withUnsafeBufferPointer { column in
                    for a in 0..<u {
                        let nyquistRow = nyquistRows ? k0[a * w0Count + n0 / 2] : Complex<T>.zero
                        let nyquistValue = nyquistColumns ? column[a] : Complex<T>.zero
                        let row = o + a * u, realRow = real + a * u
                        for b in 0..<u {
                            var value = Complex(realRow[b] + c[b], c[u + b])
                            if nyquistRows { value += nyquistRow * Complex(c[n0 * u + b], c[(n0 + 1) * u + b]) }
                            if nyquistColumns { value += k1[b * h1 + n1 / 2] * nyquistValue }
                            row[b] = value
                        }
                    }
                }
            }
        }
        return region
    }

    /// The widest region (`u`) whose first stage runs in the folding C kernel:
    /// 32 (upsampling factors up to 21). 512², factor 10: 1.35 ms against
    /// 1.7–1.9 ms a call with the GEMM (whole-call timings, same run).
    static var foldKernelLanes: Int { 32 }

    /// ``bl_fold_dft_d`` (or its Float version) on rows `rows` of the half spectrum.
    static func foldDFT<T: RegistrationScalar>(rows: Range<Int>, n0: Int, h1: Int, m: Int, u: Int, ldk: Int,
                                               product: UnsafePointer<Complex<T>>, cosines: UnsafePointer<T>,
                                               sines: UnsafePointer<T>, out: UnsafeMutablePointer<T>) {
        T._foldDFT(rows: rows, n0: n0, h1: h1, m: m, u: u, ldk: ldk, product: product, cosines: cosines, sines: sines,
                   out: out)
    }
}
