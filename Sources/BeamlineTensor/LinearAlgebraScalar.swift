import CBLAS
import CLAPACKE
import ComplexModule
import RealModule

/// Floating-point element types with BLAS and LAPACK back ends: `Float`,
/// `Double`, `Complex<Float>` and `Complex<Double>`.
///
/// Each requirement forwards to the `s`, `d`, `c` or `z` routine of OpenBLAS
/// (CBLAS) or LAPACKE, so generic code such as ``Tensor/matmul(_:_:)`` or
/// ``Tensor/svd(_:fullMatrices:)`` is written once. The requirements are the
/// thin, unchecked C layer: sizes are `Int32` (OpenBLAS's `blasint`),
/// matrices are row-major (`CblasRowMajor`, `LAPACK_ROW_MAJOR`), pointers
/// must be valid for the sizes given, and the return value is LAPACK's
/// `info`. Call the checked ``Tensor`` functions instead unless you manage
/// buffers yourself.
///
/// The requirements are underscored, as swift-numerics underscores
/// `AlgebraicField._relaxedAdd`: they must be public for the protocol to be,
/// but they are not API (hidden from completion and documentation) and may
/// change in any release.
///
/// Complex pointers are passed to C as the shim's `beamline_complex_float`
/// / `beamline_complex_double` structs or as `void *`; swift-numerics
/// documents that `Complex` has the layout of a C or Fortran complex value.
public protocol LinearAlgebraScalar: FloatingElement {
    /// `?gemm`: `c = alpha * op(a) * op(b) + beta * c` with `op(a)` of size
    /// `m`×`k` and `op(b)` of size `k`×`n`; `op` transposes when the flag is set.
    static func _blasGemm(transposeA: Bool, transposeB: Bool, m: Int32, n: Int32, k: Int32,
                         alpha: Self, a: UnsafePointer<Self>, lda: Int32,
                         b: UnsafePointer<Self>, ldb: Int32,
                         beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int32)
    /// `?gemv`: `y = alpha * op(a) * x + beta * y` for an `m`×`n` matrix `a`.
    static func _blasGemv(transpose: Bool, m: Int32, n: Int32, alpha: Self, a: UnsafePointer<Self>, lda: Int32,
                         x: UnsafePointer<Self>, incx: Int32, beta: Self, y: UnsafeMutablePointer<Self>, incy: Int32)
    /// `?gesv`: solves `a x = b` for `n`×`n` `a` and `n`×`nrhs` `b` (overwritten by `x`).
    static func _lapackGesv(n: Int32, nrhs: Int32, a: UnsafeMutablePointer<Self>, lda: Int32,
                           ipiv: UnsafeMutablePointer<Int32>, b: UnsafeMutablePointer<Self>, ldb: Int32) -> Int32
    /// `?getrf`: LU factorisation with partial pivoting of an `m`×`n` matrix.
    static func _lapackGetrf(m: Int32, n: Int32, a: UnsafeMutablePointer<Self>, lda: Int32,
                            ipiv: UnsafeMutablePointer<Int32>) -> Int32
    /// `?getri`: inverse from the factors of ``_lapackGetrf(m:n:a:lda:ipiv:)``.
    static func _lapackGetri(n: Int32, a: UnsafeMutablePointer<Self>, lda: Int32,
                            ipiv: UnsafePointer<Int32>) -> Int32
    /// `?potrf`: Cholesky factorisation, using and writing the lower (or upper) triangle.
    static func _lapackPotrf(lower: Bool, n: Int32, a: UnsafeMutablePointer<Self>, lda: Int32) -> Int32
    /// `?geqrf`: Householder QR of an `m`×`n` matrix; `tau` holds `min(m, n)` scalars.
    static func _lapackGeqrf(m: Int32, n: Int32, a: UnsafeMutablePointer<Self>, lda: Int32,
                            tau: UnsafeMutablePointer<Self>) -> Int32
    /// `?orgqr` / `?ungqr`: forms the `m`×`n` matrix Q from `k` reflectors of ``_lapackGeqrf(m:n:a:lda:tau:)``.
    static func _lapackOrgqr(m: Int32, n: Int32, k: Int32, a: UnsafeMutablePointer<Self>, lda: Int32,
                            tau: UnsafePointer<Self>) -> Int32
    /// `?gesdd`: SVD by divide and conquer; `jobz` is `"A"`, `"S"` or `"N"` as in LAPACK.
    static func _lapackGesdd(jobz: CChar, m: Int32, n: Int32, a: UnsafeMutablePointer<Self>, lda: Int32,
                            s: UnsafeMutablePointer<RealComponent>,
                            u: UnsafeMutablePointer<Self>?, ldu: Int32,
                            vt: UnsafeMutablePointer<Self>?, ldvt: Int32) -> Int32
    /// `?syevd` / `?heevd`: eigenvalues (ascending, into `w`) and, when
    /// `vectors` is set, eigenvectors (into the columns of `a`) of a
    /// symmetric or Hermitian matrix, reading the lower or upper triangle.
    static func _lapackEigh(vectors: Bool, lower: Bool, n: Int32, a: UnsafeMutablePointer<Self>, lda: Int32,
                           w: UnsafeMutablePointer<RealComponent>) -> Int32
    /// `?gelsd`: minimum-norm least squares by SVD. `b` has `max(m, n)` rows;
    /// singular values go to `s`, the effective rank to `rank`.
    static func _lapackGelsd(m: Int32, n: Int32, nrhs: Int32, a: UnsafeMutablePointer<Self>, lda: Int32,
                            b: UnsafeMutablePointer<Self>, ldb: Int32, s: UnsafeMutablePointer<RealComponent>,
                            rcond: RealComponent, rank: UnsafeMutablePointer<Int32>) -> Int32
}

/// Reinterprets a pointer for a C routine that reads the same bytes as
/// another (layout-identical) type. Swift never accesses the memory through
/// the returned pointer; only C code does.
@inline(__always)
func cPointer<T, U>(_ pointer: UnsafeMutablePointer<T>?, as type: U.Type) -> UnsafeMutablePointer<U>? {
    pointer.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: U.self) }
}

@inline(__always)
func cPointer<T, U>(_ pointer: UnsafePointer<T>, as type: U.Type) -> UnsafeMutablePointer<U> {
    UnsafeMutableRawPointer(mutating: pointer).assumingMemoryBound(to: U.self)
}

@inline(__always)
func cblasTranspose(_ flag: Bool) -> CBLAS_TRANSPOSE { flag ? CblasTrans : CblasNoTrans }

@inline(__always)
func lapackChar(_ c: Unicode.Scalar) -> CChar { CChar(UInt8(ascii: c)) }

@usableFromInline let rowMajor = Int32(LAPACK_ROW_MAJOR)

extension Float: LinearAlgebraScalar {
    /// Forwards to `cblas_sgemm`.
    public static func _blasGemm(transposeA: Bool, transposeB: Bool, m: Int32, n: Int32, k: Int32,
                                alpha: Float, a: UnsafePointer<Float>, lda: Int32,
                                b: UnsafePointer<Float>, ldb: Int32,
                                beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int32) {
        cblas_sgemm(CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB), m, n, k,
                    alpha, a, lda, b, ldb, beta, c, ldc)
    }
    /// Forwards to `cblas_sgemv`.
    public static func _blasGemv(transpose: Bool, m: Int32, n: Int32, alpha: Float, a: UnsafePointer<Float>, lda: Int32,
                                x: UnsafePointer<Float>, incx: Int32, beta: Float, y: UnsafeMutablePointer<Float>, incy: Int32) {
        cblas_sgemv(CblasRowMajor, cblasTranspose(transpose), m, n, alpha, a, lda, x, incx, beta, y, incy)
    }
    /// Forwards to `LAPACKE_sgesv`.
    public static func _lapackGesv(n: Int32, nrhs: Int32, a: UnsafeMutablePointer<Float>, lda: Int32,
                                  ipiv: UnsafeMutablePointer<Int32>, b: UnsafeMutablePointer<Float>, ldb: Int32) -> Int32 {
        LAPACKE_sgesv(rowMajor, n, nrhs, a, lda, ipiv, b, ldb)
    }
    /// Forwards to `LAPACKE_sgetrf`.
    public static func _lapackGetrf(m: Int32, n: Int32, a: UnsafeMutablePointer<Float>, lda: Int32,
                                   ipiv: UnsafeMutablePointer<Int32>) -> Int32 {
        LAPACKE_sgetrf(rowMajor, m, n, a, lda, ipiv)
    }
    /// Forwards to `LAPACKE_sgetri`.
    public static func _lapackGetri(n: Int32, a: UnsafeMutablePointer<Float>, lda: Int32,
                                   ipiv: UnsafePointer<Int32>) -> Int32 {
        LAPACKE_sgetri(rowMajor, n, a, lda, ipiv)
    }
    /// Forwards to `LAPACKE_spotrf`.
    public static func _lapackPotrf(lower: Bool, n: Int32, a: UnsafeMutablePointer<Float>, lda: Int32) -> Int32 {
        LAPACKE_spotrf(rowMajor, lapackChar(lower ? "L" : "U"), n, a, lda)
    }
    /// Forwards to `LAPACKE_sgeqrf`.
    public static func _lapackGeqrf(m: Int32, n: Int32, a: UnsafeMutablePointer<Float>, lda: Int32,
                                   tau: UnsafeMutablePointer<Float>) -> Int32 {
        LAPACKE_sgeqrf(rowMajor, m, n, a, lda, tau)
    }
    /// Forwards to `LAPACKE_sorgqr`.
    public static func _lapackOrgqr(m: Int32, n: Int32, k: Int32, a: UnsafeMutablePointer<Float>, lda: Int32,
                                   tau: UnsafePointer<Float>) -> Int32 {
        LAPACKE_sorgqr(rowMajor, m, n, k, a, lda, tau)
    }
    /// Forwards to `LAPACKE_sgesdd`.
    public static func _lapackGesdd(jobz: CChar, m: Int32, n: Int32, a: UnsafeMutablePointer<Float>, lda: Int32,
                                   s: UnsafeMutablePointer<Float>,
                                   u: UnsafeMutablePointer<Float>?, ldu: Int32,
                                   vt: UnsafeMutablePointer<Float>?, ldvt: Int32) -> Int32 {
        LAPACKE_sgesdd(rowMajor, jobz, m, n, a, lda, s, u, ldu, vt, ldvt)
    }
    /// Forwards to `LAPACKE_ssyevd`.
    public static func _lapackEigh(vectors: Bool, lower: Bool, n: Int32, a: UnsafeMutablePointer<Float>, lda: Int32,
                                  w: UnsafeMutablePointer<Float>) -> Int32 {
        LAPACKE_ssyevd(rowMajor, lapackChar(vectors ? "V" : "N"), lapackChar(lower ? "L" : "U"), n, a, lda, w)
    }
    /// Forwards to `LAPACKE_sgelsd`.
    public static func _lapackGelsd(m: Int32, n: Int32, nrhs: Int32, a: UnsafeMutablePointer<Float>, lda: Int32,
                                   b: UnsafeMutablePointer<Float>, ldb: Int32, s: UnsafeMutablePointer<Float>,
                                   rcond: Float, rank: UnsafeMutablePointer<Int32>) -> Int32 {
        LAPACKE_sgelsd(rowMajor, m, n, nrhs, a, lda, b, ldb, s, rcond, rank)
    }
}

extension Double: LinearAlgebraScalar {
    /// Forwards to `cblas_dgemm`.
    public static func _blasGemm(transposeA: Bool, transposeB: Bool, m: Int32, n: Int32, k: Int32,
                                alpha: Double, a: UnsafePointer<Double>, lda: Int32,
                                b: UnsafePointer<Double>, ldb: Int32,
                                beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int32) {
        cblas_dgemm(CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB), m, n, k,
                    alpha, a, lda, b, ldb, beta, c, ldc)
    }
    /// Forwards to `cblas_dgemv`.
    public static func _blasGemv(transpose: Bool, m: Int32, n: Int32, alpha: Double, a: UnsafePointer<Double>, lda: Int32,
                                x: UnsafePointer<Double>, incx: Int32, beta: Double, y: UnsafeMutablePointer<Double>, incy: Int32) {
        cblas_dgemv(CblasRowMajor, cblasTranspose(transpose), m, n, alpha, a, lda, x, incx, beta, y, incy)
    }
    /// Forwards to `LAPACKE_dgesv`.
    public static func _lapackGesv(n: Int32, nrhs: Int32, a: UnsafeMutablePointer<Double>, lda: Int32,
                                  ipiv: UnsafeMutablePointer<Int32>, b: UnsafeMutablePointer<Double>, ldb: Int32) -> Int32 {
        LAPACKE_dgesv(rowMajor, n, nrhs, a, lda, ipiv, b, ldb)
    }
    /// Forwards to `LAPACKE_dgetrf`.
    public static func _lapackGetrf(m: Int32, n: Int32, a: UnsafeMutablePointer<Double>, lda: Int32,
                                   ipiv: UnsafeMutablePointer<Int32>) -> Int32 {
        LAPACKE_dgetrf(rowMajor, m, n, a, lda, ipiv)
    }
    /// Forwards to `LAPACKE_dgetri`.
    public static func _lapackGetri(n: Int32, a: UnsafeMutablePointer<Double>, lda: Int32,
                                   ipiv: UnsafePointer<Int32>) -> Int32 {
        LAPACKE_dgetri(rowMajor, n, a, lda, ipiv)
    }
    /// Forwards to `LAPACKE_dpotrf`.
    public static func _lapackPotrf(lower: Bool, n: Int32, a: UnsafeMutablePointer<Double>, lda: Int32) -> Int32 {
        LAPACKE_dpotrf(rowMajor, lapackChar(lower ? "L" : "U"), n, a, lda)
    }
    /// Forwards to `LAPACKE_dgeqrf`.
    public static func _lapackGeqrf(m: Int32, n: Int32, a: UnsafeMutablePointer<Double>, lda: Int32,
                                   tau: UnsafeMutablePointer<Double>) -> Int32 {
        LAPACKE_dgeqrf(rowMajor, m, n, a, lda, tau)
    }
    /// Forwards to `LAPACKE_dorgqr`.
    public static func _lapackOrgqr(m: Int32, n: Int32, k: Int32, a: UnsafeMutablePointer<Double>, lda: Int32,
                                   tau: UnsafePointer<Double>) -> Int32 {
        LAPACKE_dorgqr(rowMajor, m, n, k, a, lda, tau)
    }
    /// Forwards to `LAPACKE_dgesdd`.
    public static func _lapackGesdd(jobz: CChar, m: Int32, n: Int32, a: UnsafeMutablePointer<Double>, lda: Int32,
                                   s: UnsafeMutablePointer<Double>,
                                   u: UnsafeMutablePointer<Double>?, ldu: Int32,
                                   vt: UnsafeMutablePointer<Double>?, ldvt: Int32) -> Int32 {
        LAPACKE_dgesdd(rowMajor, jobz, m, n, a, lda, s, u, ldu, vt, ldvt)
    }
    /// Forwards to `LAPACKE_dsyevd`.
    public static func _lapackEigh(vectors: Bool, lower: Bool, n: Int32, a: UnsafeMutablePointer<Double>, lda: Int32,
                                  w: UnsafeMutablePointer<Double>) -> Int32 {
        LAPACKE_dsyevd(rowMajor, lapackChar(vectors ? "V" : "N"), lapackChar(lower ? "L" : "U"), n, a, lda, w)
    }
    /// Forwards to `LAPACKE_dgelsd`.
    public static func _lapackGelsd(m: Int32, n: Int32, nrhs: Int32, a: UnsafeMutablePointer<Double>, lda: Int32,
                                   b: UnsafeMutablePointer<Double>, ldb: Int32, s: UnsafeMutablePointer<Double>,
                                   rcond: Double, rank: UnsafeMutablePointer<Int32>) -> Int32 {
        LAPACKE_dgelsd(rowMajor, m, n, nrhs, a, lda, b, ldb, s, rcond, rank)
    }
}

// `Complex<Float>` and `Complex<Double>` share one conditional conformance
// (Swift allows only one), which picks the `c` or `z` routine by the real
// type; the branch folds away when the caller is specialised.
extension Complex: LinearAlgebraScalar where RealType: LinearAlgebraScalar & RealElement {
    @inline(__always) static var isSingle: Bool { RealType.self == Float.self }
    @inline(__always) static func cf<P>(_ p: UnsafeMutablePointer<P>?) -> UnsafeMutablePointer<beamline_complex_float>? {
        cPointer(p, as: beamline_complex_float.self)
    }
    @inline(__always) static func cd<P>(_ p: UnsafeMutablePointer<P>?) -> UnsafeMutablePointer<beamline_complex_double>? {
        cPointer(p, as: beamline_complex_double.self)
    }
    @inline(__always) static func rf<P>(_ p: UnsafeMutablePointer<P>) -> UnsafeMutablePointer<Float> {
        cPointer(p, as: Float.self)!
    }
    @inline(__always) static func rd<P>(_ p: UnsafeMutablePointer<P>) -> UnsafeMutablePointer<Double> {
        cPointer(p, as: Double.self)!
    }

    /// Forwards to `cblas_cgemm` / `cblas_zgemm`.
    public static func _blasGemm(transposeA: Bool, transposeB: Bool, m: Int32, n: Int32, k: Int32,
                                alpha: Complex, a: UnsafePointer<Complex>, lda: Int32,
                                b: UnsafePointer<Complex>, ldb: Int32,
                                beta: Complex, c: UnsafeMutablePointer<Complex>, ldc: Int32) {
        var alpha = alpha, beta = beta
        withUnsafePointer(to: &alpha) { pa in withUnsafePointer(to: &beta) { pb in
            if isSingle {
                cblas_cgemm(CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB), m, n, k,
                            pa, a, lda, b, ldb, pb, c, ldc)
            } else {
                cblas_zgemm(CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB), m, n, k,
                            pa, a, lda, b, ldb, pb, c, ldc)
            }
        } }
    }
    /// Forwards to `cblas_cgemv` / `cblas_zgemv`.
    public static func _blasGemv(transpose: Bool, m: Int32, n: Int32, alpha: Complex, a: UnsafePointer<Complex>, lda: Int32,
                                x: UnsafePointer<Complex>, incx: Int32, beta: Complex, y: UnsafeMutablePointer<Complex>, incy: Int32) {
        var alpha = alpha, beta = beta
        withUnsafePointer(to: &alpha) { pa in withUnsafePointer(to: &beta) { pb in
            if isSingle {
                cblas_cgemv(CblasRowMajor, cblasTranspose(transpose), m, n, pa, a, lda, x, incx, pb, y, incy)
            } else {
                cblas_zgemv(CblasRowMajor, cblasTranspose(transpose), m, n, pa, a, lda, x, incx, pb, y, incy)
            }
        } }
    }
    /// Forwards to `LAPACKE_cgesv` / `LAPACKE_zgesv`.
    public static func _lapackGesv(n: Int32, nrhs: Int32, a: UnsafeMutablePointer<Complex>, lda: Int32,
                                  ipiv: UnsafeMutablePointer<Int32>, b: UnsafeMutablePointer<Complex>, ldb: Int32) -> Int32 {
        isSingle ? LAPACKE_cgesv(rowMajor, n, nrhs, cf(a), lda, ipiv, cf(b), ldb)
                 : LAPACKE_zgesv(rowMajor, n, nrhs, cd(a), lda, ipiv, cd(b), ldb)
    }
    /// Forwards to `LAPACKE_cgetrf` / `LAPACKE_zgetrf`.
    public static func _lapackGetrf(m: Int32, n: Int32, a: UnsafeMutablePointer<Complex>, lda: Int32,
                                   ipiv: UnsafeMutablePointer<Int32>) -> Int32 {
        isSingle ? LAPACKE_cgetrf(rowMajor, m, n, cf(a), lda, ipiv) : LAPACKE_zgetrf(rowMajor, m, n, cd(a), lda, ipiv)
    }
    /// Forwards to `LAPACKE_cgetri` / `LAPACKE_zgetri`.
    public static func _lapackGetri(n: Int32, a: UnsafeMutablePointer<Complex>, lda: Int32,
                                   ipiv: UnsafePointer<Int32>) -> Int32 {
        isSingle ? LAPACKE_cgetri(rowMajor, n, cf(a), lda, ipiv) : LAPACKE_zgetri(rowMajor, n, cd(a), lda, ipiv)
    }
    /// Forwards to `LAPACKE_cpotrf` / `LAPACKE_zpotrf`.
    public static func _lapackPotrf(lower: Bool, n: Int32, a: UnsafeMutablePointer<Complex>, lda: Int32) -> Int32 {
        let uplo = lapackChar(lower ? "L" : "U")
        return isSingle ? LAPACKE_cpotrf(rowMajor, uplo, n, cf(a), lda) : LAPACKE_zpotrf(rowMajor, uplo, n, cd(a), lda)
    }
    /// Forwards to `LAPACKE_cgeqrf` / `LAPACKE_zgeqrf`.
    public static func _lapackGeqrf(m: Int32, n: Int32, a: UnsafeMutablePointer<Complex>, lda: Int32,
                                   tau: UnsafeMutablePointer<Complex>) -> Int32 {
        isSingle ? LAPACKE_cgeqrf(rowMajor, m, n, cf(a), lda, cf(tau)) : LAPACKE_zgeqrf(rowMajor, m, n, cd(a), lda, cd(tau))
    }
    /// Forwards to `LAPACKE_cungqr` / `LAPACKE_zungqr`.
    public static func _lapackOrgqr(m: Int32, n: Int32, k: Int32, a: UnsafeMutablePointer<Complex>, lda: Int32,
                                   tau: UnsafePointer<Complex>) -> Int32 {
        let t = UnsafeMutablePointer(mutating: tau)
        return isSingle ? LAPACKE_cungqr(rowMajor, m, n, k, cf(a), lda, cf(t))
                        : LAPACKE_zungqr(rowMajor, m, n, k, cd(a), lda, cd(t))
    }
    /// Forwards to `LAPACKE_cgesdd` / `LAPACKE_zgesdd`.
    public static func _lapackGesdd(jobz: CChar, m: Int32, n: Int32, a: UnsafeMutablePointer<Complex>, lda: Int32,
                                   s: UnsafeMutablePointer<RealType>,
                                   u: UnsafeMutablePointer<Complex>?, ldu: Int32,
                                   vt: UnsafeMutablePointer<Complex>?, ldvt: Int32) -> Int32 {
        isSingle ? LAPACKE_cgesdd(rowMajor, jobz, m, n, cf(a), lda, rf(s), cf(u), ldu, cf(vt), ldvt)
                 : LAPACKE_zgesdd(rowMajor, jobz, m, n, cd(a), lda, rd(s), cd(u), ldu, cd(vt), ldvt)
    }
    /// Forwards to `LAPACKE_cheevd` / `LAPACKE_zheevd`.
    public static func _lapackEigh(vectors: Bool, lower: Bool, n: Int32, a: UnsafeMutablePointer<Complex>, lda: Int32,
                                  w: UnsafeMutablePointer<RealType>) -> Int32 {
        let jobz = lapackChar(vectors ? "V" : "N"), uplo = lapackChar(lower ? "L" : "U")
        return isSingle ? LAPACKE_cheevd(rowMajor, jobz, uplo, n, cf(a), lda, rf(w))
                        : LAPACKE_zheevd(rowMajor, jobz, uplo, n, cd(a), lda, rd(w))
    }
    /// Forwards to `LAPACKE_cgelsd` / `LAPACKE_zgelsd`.
    public static func _lapackGelsd(m: Int32, n: Int32, nrhs: Int32, a: UnsafeMutablePointer<Complex>, lda: Int32,
                                   b: UnsafeMutablePointer<Complex>, ldb: Int32, s: UnsafeMutablePointer<RealType>,
                                   rcond: RealType, rank: UnsafeMutablePointer<Int32>) -> Int32 {
        isSingle ? LAPACKE_cgelsd(rowMajor, m, n, nrhs, cf(a), lda, cf(b), ldb, rf(s), Float(rcond), rank)
                 : LAPACKE_zgelsd(rowMajor, m, n, nrhs, cd(a), lda, cd(b), ldb, rd(s), Double(rcond), rank)
    }
}
