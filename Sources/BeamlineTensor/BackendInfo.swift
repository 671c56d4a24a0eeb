import CBLAS
import CFFTW
import CLAPACKE

/// What the C back ends under Beamline report about themselves.
public enum BackendInfo {
    /// OpenBLAS's build configuration (`openblas_get_config()`), e.g.
    /// `"OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"`.
    public static var openBLASConfiguration: String { String(cString: openblas_get_config()) }

    /// Threads OpenBLAS uses now (`openblas_get_num_threads()`).
    public static var openBLASThreads: Int { Int(openblas_get_num_threads()) }

    /// OpenBLAS's threading model: "sequential", "pthreads" or "OpenMP".
    public static var openBLASParallelism: String {
        switch openblas_get_parallel() {
        case 0: return "sequential"
        case 1: return "pthreads"
        default: return "OpenMP"
        }
    }

    /// The LAPACK version that LAPACKE calls (`LAPACKE_ilaver`), e.g. "3.11.0".
    public static var lapackVersion: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        LAPACKE_ilaver(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }

    /// FFTW's version string (`fftw_version`), e.g. "fftw-3.3.10-sse2-avx".
    public static var fftwVersion: String { String(cString: beamline_fftw_version()) }
}
