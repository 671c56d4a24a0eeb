import CBeamlineKernels
import ComplexModule
import RealModule

/// `Float` and `Double`: the real types whose hot loops have C kernels in
/// `CBeamlineKernels` (fused multiply-add column kernels for the
/// John-transform projector, and the registration kernels).
///
/// Generic code reaches the C kernels through these requirements, which
/// `Float` and `Double` implement by calling the matching C function (the
/// call specialises to a direct C call), instead of testing
/// `T.self == Double.self` at run time and bit-casting. A kernel that exists
/// only for one precision returns `nil` for the other, and the caller runs
/// its Swift loop.
///
/// The requirements are underscored, as swift-numerics underscores
/// `AlgebraicField._relaxedAdd`: they are public only because the protocol
/// is, they are not API, and they check nothing (pointers must be valid
/// for the counts given).
public protocol KernelScalar: RealElement {
    /// `y[n] += w0 · a0[n]` for `n < count` (`bl_axpy_d` / `bl_axpy_f`;
    /// `fused` non-zero selects the AVX2 + FMA version).
    static func _axpy(fused: Int32, count: Int, y: UnsafeMutablePointer<Self>, w0: Self, a0: UnsafePointer<Self>)

    /// `y[n] = (accumulate ? y[n] : 0) + Σ_t w[t] · base[offsets[t] + n]`
    /// for `n < count`, terms in order (`bl_gather_d` / `bl_gather_f`).
    static func _gather(fused: Int32, count: Int, y: UnsafeMutablePointer<Self>, accumulate: Bool, terms: Int,
                        w: UnsafePointer<Self>, offsets: UnsafePointer<Int>, base: UnsafePointer<Self>)

    /// `product[j] = a[j]·conj(b[j])` (divided by its modulus, at least
    /// `floor`, when `phase`), returning `(Σ|a|², Σ|b|²)`
    /// (`bl_cross_power_d`); `nil` when this type has no C kernel.
    static func _crossPower(count: Int, a: UnsafePointer<Complex<Self>>, b: UnsafePointer<Complex<Self>>,
                            product: UnsafeMutablePointer<Complex<Self>>, phase: Bool, floor: Self) -> (Double, Double)?

    /// The first position of the largest `|x[i]|` among `count` finite
    /// values (`bl_abs_argmax_d`); `nil` when this type has no C kernel.
    static func _absArgmax(count: Int, x: UnsafePointer<Self>) -> Int?

    /// The folded first stage of the 2-d upsampled DFT of a Hermitian
    /// product, rows `rows` (`bl_fold_dft_d` / `bl_fold_dft_f`; see
    /// `CBeamlineKernels.h`).
    static func _foldDFT(rows: Range<Int>, n0: Int, h1: Int, m: Int, u: Int, ldk: Int,
                         product: UnsafePointer<Complex<Self>>, cosines: UnsafePointer<Self>,
                         sines: UnsafePointer<Self>, out: UnsafeMutablePointer<Self>)
}

/// Reinterprets interleaved complex values as their real parts' type
/// (swift-numerics documents `Complex`'s C layout).
@inlinable @inline(__always)
func interleaved<T>(_ pointer: UnsafePointer<Complex<T>>) -> UnsafePointer<T> {
    UnsafeRawPointer(pointer).assumingMemoryBound(to: T.self)
}

/// The mutable form of `interleaved(_:)`.
@inlinable @inline(__always)
func interleaved<T>(_ pointer: UnsafeMutablePointer<Complex<T>>) -> UnsafeMutablePointer<T> {
    UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: T.self)
}

extension Double: KernelScalar {
    /// Calls `bl_axpy_d`.
    @inlinable @inline(__always)
    public static func _axpy(fused: Int32, count: Int, y: UnsafeMutablePointer<Double>, w0: Double,
                             a0: UnsafePointer<Double>) {
        bl_axpy_d(fused, count, y, w0, a0)
    }
    /// Calls `bl_gather_d`.
    @inlinable @inline(__always)
    public static func _gather(fused: Int32, count: Int, y: UnsafeMutablePointer<Double>, accumulate: Bool, terms: Int,
                               w: UnsafePointer<Double>, offsets: UnsafePointer<Int>, base: UnsafePointer<Double>) {
        bl_gather_d(fused, count, y, accumulate ? 1 : 0, terms, w, offsets, base)
    }
    /// Calls `bl_cross_power_d`.
    @inlinable
    public static func _crossPower(count: Int, a: UnsafePointer<Complex<Double>>, b: UnsafePointer<Complex<Double>>,
                                   product: UnsafeMutablePointer<Complex<Double>>, phase: Bool,
                                   floor: Double) -> (Double, Double)? {
        var energies = (0.0, 0.0)
        withUnsafeMutableBytes(of: &energies) { e in
            bl_cross_power_d(count, interleaved(a), interleaved(b), interleaved(product), phase ? 1 : 0, floor,
                             e.baseAddress!.assumingMemoryBound(to: Double.self))
        }
        return energies
    }
    /// Calls `bl_abs_argmax_d`.
    @inlinable @inline(__always)
    public static func _absArgmax(count: Int, x: UnsafePointer<Double>) -> Int? {
        bl_abs_argmax_d(count, x)
    }
    /// Calls `bl_fold_dft_d`.
    @inlinable @inline(__always)
    public static func _foldDFT(rows: Range<Int>, n0: Int, h1: Int, m: Int, u: Int, ldk: Int,
                                product: UnsafePointer<Complex<Double>>, cosines: UnsafePointer<Double>,
                                sines: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>) {
        bl_fold_dft_d(rows.lowerBound, rows.upperBound, n0, h1, m, u, ldk, interleaved(product), cosines, sines, out)
    }
}

extension Float: KernelScalar {
    /// Calls `bl_axpy_f`.
    @inlinable @inline(__always)
    public static func _axpy(fused: Int32, count: Int, y: UnsafeMutablePointer<Float>, w0: Float,
                             a0: UnsafePointer<Float>) {
        bl_axpy_f(fused, count, y, w0, a0)
    }
    /// Calls `bl_gather_f`.
    @inlinable @inline(__always)
    public static func _gather(fused: Int32, count: Int, y: UnsafeMutablePointer<Float>, accumulate: Bool, terms: Int,
                               w: UnsafePointer<Float>, offsets: UnsafePointer<Int>, base: UnsafePointer<Float>) {
        bl_gather_f(fused, count, y, accumulate ? 1 : 0, terms, w, offsets, base)
    }
    /// No C kernel for `Float`: `nil`.
    @inlinable @inline(__always)
    public static func _crossPower(count: Int, a: UnsafePointer<Complex<Float>>, b: UnsafePointer<Complex<Float>>,
                                   product: UnsafeMutablePointer<Complex<Float>>, phase: Bool,
                                   floor: Float) -> (Double, Double)? {
        nil
    }
    /// No C kernel for `Float`: `nil`.
    @inlinable @inline(__always)
    public static func _absArgmax(count: Int, x: UnsafePointer<Float>) -> Int? { nil }
    /// Calls `bl_fold_dft_f`.
    @inlinable @inline(__always)
    public static func _foldDFT(rows: Range<Int>, n0: Int, h1: Int, m: Int, u: Int, ldk: Int,
                                product: UnsafePointer<Complex<Float>>, cosines: UnsafePointer<Float>,
                                sines: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        bl_fold_dft_f(rows.lowerBound, rows.upperBound, n0, h1, m, u, ldk, interleaved(product), cosines, sines, out)
    }
}
