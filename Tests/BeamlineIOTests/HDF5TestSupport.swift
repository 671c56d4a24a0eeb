import BeamlineIO
import BeamlineTensor
import Foundation
import Testing

/// The values of generate_hdf5.py, rebuilt with its formulas.
enum HDF5Expected {
    /// `np.arange(6).reshape(2, 3) - 2`, any signed integer dtype.
    static let signed: [Int64] = [-2, -1, 0, 1, 2, 3]
    /// `np.arange(6).reshape(2, 3) * 40`, any unsigned dtype.
    static let unsigned: [Int64] = [0, 40, 80, 120, 160, 200]
    /// `(np.arange(6).reshape(2, 3) - 2) * 0.25`, exact in float16/32/64.
    static let floats: [Double] = [-0.5, -0.25, 0, 0.25, 0.5, 0.75]
    /// `(np.arange(120).reshape(4, 6, 5) * 500 % 65536).astype(np.uint16)`.
    static let stack = Tensor<Int64>(shape: [4, 6, 5], elements: (0..<120).map { Int64($0 * 500 % 65536) })
}

/// Whether a plugin providing bitshuffle (32008) can be loaded. Debian
/// bookworm's hdf5-filter-plugin ships only LZ4 and BZip2 (its bitshuffle
/// build is disabled), so when libhdf5's own search finds none, this
/// asks the `hdf5plugin` Python package (pip) for its plugin folder and
/// appends it. False when neither is there (the bitshuffle tests are then
/// skipped).
let bitshuffleAvailable: Bool = {
    if HDF5Library.isFilterAvailable(32008) { return true }
    if let folder = HDF5Library.pythonPluginFolder() { HDF5Library.appendPluginFolder(folder) }
    return HDF5Library.isFilterAvailable(32008)
}()


/// The element values of a tensor of any type as `Double` (complex: real parts).
func doubles(_ tensor: AnyTensor) -> [Double] {
    tensor.cast(to: Double.self).withUnsafeBufferPointer { Array($0) }
}

/// The elements of a tensor.
func elements<T: TensorElement>(_ tensor: Tensor<T>) -> [T] {
    tensor.withUnsafeBufferPointer { Array($0) }
}

/// The names in `directory` (to check that no temporary file is left).
func directoryContents(_ directory: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
}
