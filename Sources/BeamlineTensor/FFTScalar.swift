import CFFTW

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The three FFTW transform kinds Beamline plans.
public enum FFTKind: UInt8, Sendable, Hashable {
    /// Complex to complex (`fftw_plan_guru64_dft`).
    case complexToComplex
    /// Real to half-spectrum complex (`fftw_plan_guru64_dft_r2c`).
    case realToComplex
    /// Half-spectrum complex to real (`fftw_plan_guru64_dft_c2r`; destroys its input).
    case complexToReal
}

/// Real element types with FFTW back ends: `Float` (the `fftwf_` library)
/// and `Double` (`fftw_`).
///
/// The requirements are the thin, unchecked C layer used by ``FFT``; plans
/// are `OpaquePointer`s to `fftw_plan` / `fftwf_plan`, strides and lengths
/// are in elements of each array's own type (real or complex), and
/// pointers are passed untyped because `fftw_complex` is `(Double, Double)`,
/// whose layout `Complex<Double>` shares. Planning functions are not
/// thread-safe; ``FFT`` serialises them behind one lock.
///
/// The requirements are underscored, as swift-numerics underscores
/// `AlgebraicField._relaxedAdd`: they must be public for the protocol to be,
/// but they are not API (hidden from completion and documentation) and may
/// change in any release. Use ``FFT``.
public protocol FFTScalar: RealElement {
    /// `fftw_init_threads` (returns true on success).
    static func _fftwInitThreads() -> Bool
    /// `fftw_plan_with_nthreads`: threads used by plans made afterwards.
    static func _fftwPlanWithThreads(_ count: Int32)
    /// Makes a guru64 plan of `kind` (nil when FFTW cannot plan it).
    static func _fftwPlan(kind: FFTKind, rank: Int32, dims: UnsafePointer<fftw_iodim64>,
                         howManyRank: Int32, howManyDims: UnsafePointer<fftw_iodim64>,
                         input: UnsafeMutableRawPointer, output: UnsafeMutableRawPointer,
                         sign: Int32, flags: UInt32) -> OpaquePointer?
    /// Runs a plan on new arrays (`fftw_execute_dft`, `_dft_r2c`, `_dft_c2r`; thread-safe).
    static func _fftwExecute(kind: FFTKind, plan: OpaquePointer, input: UnsafeMutableRawPointer,
                            output: UnsafeMutableRawPointer)
    /// `fftw_destroy_plan`.
    static func _fftwDestroy(_ plan: OpaquePointer)
    /// `fftw_alignment_of`: the pointer's offset from FFTW's SIMD alignment, in bytes.
    static func _fftwAlignment(of pointer: UnsafeMutableRawPointer) -> Int32
    /// `fftw_export_wisdom_to_string`.
    static func _fftwExportWisdom() -> String
    /// `fftw_import_wisdom_from_string` (true on success).
    static func _fftwImportWisdom(_ text: String) -> Bool
    /// `fftw_export_wisdom_to_filename` (true on success).
    static func _fftwExportWisdom(toFile path: String) -> Bool
    /// `fftw_import_wisdom_from_filename` (true on success).
    static func _fftwImportWisdom(fromFile path: String) -> Bool
    /// `fftw_forget_wisdom`.
    static func _fftwForgetWisdom()
}

extension Float: FFTScalar {
    /// Forwards to `fftwf_init_threads`.
    public static func _fftwInitThreads() -> Bool { fftwf_init_threads() != 0 }
    /// Forwards to `fftwf_plan_with_nthreads`.
    public static func _fftwPlanWithThreads(_ count: Int32) { fftwf_plan_with_nthreads(count) }
    /// Forwards to `fftwf_plan_guru64_dft`, `_dft_r2c` or `_dft_c2r`.
    public static func _fftwPlan(kind: FFTKind, rank: Int32, dims: UnsafePointer<fftw_iodim64>,
                                howManyRank: Int32, howManyDims: UnsafePointer<fftw_iodim64>,
                                input: UnsafeMutableRawPointer, output: UnsafeMutableRawPointer,
                                sign: Int32, flags: UInt32) -> OpaquePointer? {
        switch kind {
        case .complexToComplex:
            return fftwf_plan_guru64_dft(rank, dims, howManyRank, howManyDims,
                                  input.assumingMemoryBound(to: fftwf_complex.self),
                                  output.assumingMemoryBound(to: fftwf_complex.self), sign, flags)
        case .realToComplex:
            return fftwf_plan_guru64_dft_r2c(rank, dims, howManyRank, howManyDims,
                                      input.assumingMemoryBound(to: Float.self),
                                      output.assumingMemoryBound(to: fftwf_complex.self), flags)
        case .complexToReal:
            return fftwf_plan_guru64_dft_c2r(rank, dims, howManyRank, howManyDims,
                                      input.assumingMemoryBound(to: fftwf_complex.self),
                                      output.assumingMemoryBound(to: Float.self), flags)
        }
    }
    /// Forwards to `fftwf_execute_dft`, `_dft_r2c` or `_dft_c2r`.
    public static func _fftwExecute(kind: FFTKind, plan: OpaquePointer, input: UnsafeMutableRawPointer,
                                   output: UnsafeMutableRawPointer) {
        switch kind {
        case .complexToComplex:
            fftwf_execute_dft(plan, input.assumingMemoryBound(to: fftwf_complex.self), output.assumingMemoryBound(to: fftwf_complex.self))
        case .realToComplex:
            fftwf_execute_dft_r2c(plan, input.assumingMemoryBound(to: Float.self), output.assumingMemoryBound(to: fftwf_complex.self))
        case .complexToReal:
            fftwf_execute_dft_c2r(plan, input.assumingMemoryBound(to: fftwf_complex.self), output.assumingMemoryBound(to: Float.self))
        }
    }
    /// Forwards to `fftwf_destroy_plan`.
    public static func _fftwDestroy(_ plan: OpaquePointer) { fftwf_destroy_plan(plan) }
    /// Forwards to `fftwf_alignment_of`.
    public static func _fftwAlignment(of pointer: UnsafeMutableRawPointer) -> Int32 {
        fftwf_alignment_of(pointer.assumingMemoryBound(to: Float.self))
    }
    /// Forwards to `fftwf_export_wisdom_to_string` (and frees the C string).
    public static func _fftwExportWisdom() -> String {
        guard let text = fftwf_export_wisdom_to_string() else { return "" }
        defer { free(text) }
        return String(cString: text)
    }
    /// Forwards to `fftwf_import_wisdom_from_string`.
    public static func _fftwImportWisdom(_ text: String) -> Bool { fftwf_import_wisdom_from_string(text) != 0 }
    /// Forwards to `fftwf_export_wisdom_to_filename`.
    public static func _fftwExportWisdom(toFile path: String) -> Bool { fftwf_export_wisdom_to_filename(path) != 0 }
    /// Forwards to `fftwf_import_wisdom_from_filename`.
    public static func _fftwImportWisdom(fromFile path: String) -> Bool { fftwf_import_wisdom_from_filename(path) != 0 }
    /// Forwards to `fftwf_forget_wisdom`.
    public static func _fftwForgetWisdom() { fftwf_forget_wisdom() }
}

extension Double: FFTScalar {
    /// Forwards to `fftw_init_threads`.
    public static func _fftwInitThreads() -> Bool { fftw_init_threads() != 0 }
    /// Forwards to `fftw_plan_with_nthreads`.
    public static func _fftwPlanWithThreads(_ count: Int32) { fftw_plan_with_nthreads(count) }
    /// Forwards to `fftw_plan_guru64_dft`, `_dft_r2c` or `_dft_c2r`.
    public static func _fftwPlan(kind: FFTKind, rank: Int32, dims: UnsafePointer<fftw_iodim64>,
                                howManyRank: Int32, howManyDims: UnsafePointer<fftw_iodim64>,
                                input: UnsafeMutableRawPointer, output: UnsafeMutableRawPointer,
                                sign: Int32, flags: UInt32) -> OpaquePointer? {
        switch kind {
        case .complexToComplex:
            return fftw_plan_guru64_dft(rank, dims, howManyRank, howManyDims,
                                  input.assumingMemoryBound(to: fftw_complex.self),
                                  output.assumingMemoryBound(to: fftw_complex.self), sign, flags)
        case .realToComplex:
            return fftw_plan_guru64_dft_r2c(rank, dims, howManyRank, howManyDims,
                                      input.assumingMemoryBound(to: Double.self),
                                      output.assumingMemoryBound(to: fftw_complex.self), flags)
        case .complexToReal:
            return fftw_plan_guru64_dft_c2r(rank, dims, howManyRank, howManyDims,
                                      input.assumingMemoryBound(to: fftw_complex.self),
                                      output.assumingMemoryBound(to: Double.self), flags)
        }
    }
    /// Forwards to `fftw_execute_dft`, `_dft_r2c` or `_dft_c2r`.
    public static func _fftwExecute(kind: FFTKind, plan: OpaquePointer, input: UnsafeMutableRawPointer,
                                   output: UnsafeMutableRawPointer) {
        switch kind {
        case .complexToComplex:
            fftw_execute_dft(plan, input.assumingMemoryBound(to: fftw_complex.self), output.assumingMemoryBound(to: fftw_complex.self))
        case .realToComplex:
            fftw_execute_dft_r2c(plan, input.assumingMemoryBound(to: Double.self), output.assumingMemoryBound(to: fftw_complex.self))
        case .complexToReal:
            fftw_execute_dft_c2r(plan, input.assumingMemoryBound(to: fftw_complex.self), output.assumingMemoryBound(to: Double.self))
        }
    }
    /// Forwards to `fftw_destroy_plan`.
    public static func _fftwDestroy(_ plan: OpaquePointer) { fftw_destroy_plan(plan) }
    /// Forwards to `fftw_alignment_of`.
    public static func _fftwAlignment(of pointer: UnsafeMutableRawPointer) -> Int32 {
        fftw_alignment_of(pointer.assumingMemoryBound(to: Double.self))
    }
    /// Forwards to `fftw_export_wisdom_to_string` (and frees the C string).
    public static func _fftwExportWisdom() -> String {
        guard let text = fftw_export_wisdom_to_string() else { return "" }
        defer { free(text) }
        return String(cString: text)
    }
    /// Forwards to `fftw_import_wisdom_from_string`.
    public static func _fftwImportWisdom(_ text: String) -> Bool { fftw_import_wisdom_from_string(text) != 0 }
    /// Forwards to `fftw_export_wisdom_to_filename`.
    public static func _fftwExportWisdom(toFile path: String) -> Bool { fftw_export_wisdom_to_filename(path) != 0 }
    /// Forwards to `fftw_import_wisdom_from_filename`.
    public static func _fftwImportWisdom(fromFile path: String) -> Bool { fftw_import_wisdom_from_filename(path) != 0 }
    /// Forwards to `fftw_forget_wisdom`.
    public static func _fftwForgetWisdom() { fftw_forget_wisdom() }
}
