// libFuzzer harness: SciPy sparse .npz (scipy.sparse.save_npz): csr, csc
// and coo, strict and canonicalising.
import BeamlineIO
import BeamlineSparse
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSparse(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    guard let archive = try? NumpyArchive(data: data) else { return 0 }
    if let matrix = try? CSRMatrix<Double>.load(archive) { _ = matrix.nonzeroCount }
    if let matrix = try? CSRMatrix<Float>.load(archive, canonicalize: true) { _ = matrix.nonzeroCount }
    return 0
}
